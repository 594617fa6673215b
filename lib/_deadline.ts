/**
 * A bound on how long a layer waits for the client to say something first: a PROXY header, a
 * ClientHello.
 *
 * @module
 */

import type { Connection } from "./connection.ts";
import { ConnectionError } from "./report.ts";
import { messageOf } from "./_util.ts";

/**
 * Waits for `reading`, a read from the client; if it takes longer than `ms`, aborts the
 * connection with reason `handshake_timeout`, which closes the socket and so ends the read.
 *
 * @param connection The connection being read.
 * @param ms How long to wait, in milliseconds.
 * @param message The message of the timeout: `No complete PROXY header within 10000 ms`.
 * @param reading The read.
 * @returns What the read resolved with.
 */
export async function deadline<T>(
  connection: Connection,
  ms: number,
  message: string,
  reading: Promise<T>,
): Promise<T> {
  const timer = setTimeout(
    () => connection.abort(new ConnectionError("handshake_timeout", message)),
    ms,
  );
  try {
    return await reading;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The error to end a connection with when reading from the client failed: the parser's own as
 * `reason`, a reset of the socket as `client_reset`, and a {@linkcode ConnectionError} as it is.
 *
 * @param error What the read threw.
 * @param reason The close reason of the parser's errors.
 * @param parserError The parser's error class.
 * @returns The error.
 */
export function readFailure(
  error: unknown,
  reason: "proxy_header" | "client_hello",
  parserError: new (...args: never[]) => Error,
): unknown {
  if (error instanceof ConnectionError) return error;
  if (error instanceof parserError) {
    return new ConnectionError(reason, error.message, { cause: error });
  }
  return new ConnectionError("client_reset", `Cannot read from client: ${messageOf(error)}`, {
    cause: error,
  });
}
