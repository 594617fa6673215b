/**
 * What the two sides of a connection are to the pipe: a Deno socket, a TLS session over one, or
 * anything else that reads into a buffer, writes, and half-closes.
 *
 * @module
 */

import type { Sink, Source } from "./pipe.ts";

/**
 * What the pipe reads from and writes to on either side of a connection: a Deno socket, a TLS
 * session over one, or anything else that reads into a buffer, writes, and half-closes.
 *
 * @example Deno's sockets are byte streams
 * ```ts
 * import type { ByteStream } from "@minginx/minginx";
 *
 * async function sendAndEnd(stream: ByteStream, bytes: Uint8Array): Promise<void> {
 *   let written = 0;
 *   while (written < bytes.length) written += await stream.write(bytes.subarray(written));
 *   await stream.closeWrite();
 * }
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * await sendAndEnd(conn, new Uint8Array([1, 2, 3]));
 * ```
 */
export interface ByteStream extends Source, Sink {
  /** Ends the writing side; reading goes on. */
  closeWrite(): Promise<void>;
  /** Closes both sides. */
  close(): void;
}

/**
 * Closes a stream, if the peer's reset has not freed it already.
 *
 * @param stream The stream.
 */
export function closeQuietly(stream: ByteStream): void {
  try {
    stream.close();
  } catch {
    // The peer's reset already freed it: nothing left to close.
  }
}

/**
 * Writes all of `bytes` to `sink`, however many calls it takes: a socket's or a file's `write()`
 * may take part of them.
 *
 * @param sink Where the bytes go.
 * @param bytes The bytes; the caller must not reuse their buffer until this settles.
 * @throws Whatever the sink throws.
 */
export async function writeAll(sink: Sink, bytes: Uint8Array): Promise<void> {
  let written = await sink.write(bytes);
  while (written < bytes.length) written += await sink.write(bytes.subarray(written));
}
