/**
 * Reading the server name (SNI) and ALPN protocols of a TLS ClientHello without terminating TLS,
 * so a connection can be routed by name and its bytes forwarded unchanged.
 *
 * @module
 */

import { checkWhole } from "../_util.ts";
import { parseBody } from "./_hello_body.ts";
import { type Fail, HEADER, MAX_RECORD, Records } from "./_records.ts";

/**
 * What a ClientHello says about where the client wants to go.
 *
 * @example The fields of a ClientHello
 * ```ts
 * import type { ClientHello } from "@minginx/minginx";
 *
 * const hello: ClientHello = { serverName: "a.test", alpn: ["h2", "http/1.1"] };
 * ```
 */
export interface ClientHello {
  /** The host name of the server_name extension, lowercased, without a trailing dot. */
  serverName: string | undefined;
  /** The ALPN protocols in the client's order, one character a byte (latin1); empty if none. */
  alpn: string[];
}

/**
 * Why bytes are not a ClientHello: `not_tls` when they are not TLS at all (such as plain HTTP),
 * `malformed` when they are TLS but break the format, `too_large` when the ClientHello would
 * exceed the limit, and `truncated` when the connection ended before it was complete.
 *
 * @example Falling back to plain text only when the bytes are not TLS
 * ```ts
 * import type { ClientHelloProblem } from "@minginx/minginx";
 *
 * const fallback = (problem: ClientHelloProblem) => problem === "not_tls";
 * ```
 */
export type ClientHelloProblem = "not_tls" | "malformed" | "too_large" | "truncated";

/**
 * Thrown when bytes are not a ClientHello. It keeps the bytes read so far, so a caller can
 * forward them to a fallback upstream.
 *
 * @example Plain HTTP is not TLS
 * ```ts
 * import { ClientHelloError, parseClientHello } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const request = new TextEncoder().encode("GET / HTTP/1.1\r\n");
 * assert.throws(() => parseClientHello(request), (error) => {
 *   assert.ok(error instanceof ClientHelloError);
 *   assert.equal(error.problem, "not_tls");
 *   assert.equal(error.bytes, request); // to forward to a plain-text upstream
 *   return true;
 * });
 * ```
 */
export class ClientHelloError extends Error {
  /** What is wrong with the bytes. */
  readonly problem: ClientHelloProblem;
  /** The bytes read so far. */
  readonly bytes: Uint8Array;

  /**
   * Describes a rejection.
   *
   * @param problem What is wrong with the bytes.
   * @param message The message, such as `Cannot parse ClientHello: ...`.
   * @param bytes The bytes read so far.
   */
  constructor(problem: ClientHelloProblem, message: string, bytes: Uint8Array) {
    super(message);
    this.name = "ClientHelloError";
    this.problem = problem;
    this.bytes = bytes;
  }
}

/**
 * The default limit, in bytes of TLS records: one record of the largest size, 16 KiB, with its
 * 5-byte header. Browsers' ClientHellos, post-quantum key shares included, take under 2 KiB.
 *
 * @example A ClientHello that cannot fit is rejected before it is read
 * ```ts
 * import { MAX_CLIENT_HELLO, parseClientHello } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_CLIENT_HELLO, 16_389);
 * const huge = new Uint8Array([22, 3, 1, 0x40, 0x00, 1, 0x01, 0x00, 0x00]); // needs 65 KiB more
 * assert.throws(() => parseClientHello(huge), { name: "ClientHelloError" });
 * ```
 */
export const MAX_CLIENT_HELLO: number = MAX_RECORD + HEADER;

/**
 * Parses the bytes read so far from a connection as the start of TLS: handshake records (content
 * type 22) carrying a ClientHello, which may be split over several of them. The first byte tells
 * TLS from other protocols; a record counts once all of it has arrived; bytes after the
 * ClientHello are ignored. It takes time linear in the bytes and never looks past `maxBytes`.
 *
 * @param bytes The bytes read so far.
 * @param maxBytes The most bytes of records the ClientHello may take.
 * @returns The ClientHello when complete; undefined when the bytes are a valid start and more
 * are needed.
 * @throws {ClientHelloError} When the bytes are not TLS, break the format, or the records the
 * ClientHello needs would exceed `maxBytes` (`too_large`, thrown as soon as that is known).
 * @throws {RangeError} If `maxBytes` is not a whole number of at least 1.
 *
 * @example Reading the server name as bytes arrive
 * ```ts
 * import { parseClientHello } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const name = [..."A.test."].map((c) => c.charCodeAt(0));
 * const sni = [0, 0, 0, name.length + 5, 0, name.length + 3, 0, 0, name.length, ...name];
 * const alpn = [0, 16, 0, 5, 0, 3, 2, 0x68, 0x32]; // "h2"
 * const extensions = [...sni, ...alpn];
 * const body = [3, 3, ...new Array(32).fill(7), 0, 0, 2, 0x13, 0x01, 1, 0];
 * body.push(0, extensions.length, ...extensions);
 * const record = new Uint8Array([22, 3, 1, 0, body.length + 4, 1, 0, 0, body.length, ...body]);
 *
 * assert.equal(parseClientHello(record.subarray(0, 20)), undefined); // a start: read more
 * assert.deepEqual(parseClientHello(record), { serverName: "a.test", alpn: ["h2"] });
 * ```
 */
export function parseClientHello(
  bytes: Uint8Array,
  maxBytes: number = MAX_CLIENT_HELLO,
): ClientHello | undefined {
  checkWhole(maxBytes, "ClientHello limit", 1, " of bytes");
  const fail: Fail = (problem, detail) => {
    throw new ClientHelloError(problem, `Cannot parse ClientHello: ${detail}`, bytes);
  };
  const message = new Records(maxBytes).next(bytes, fail);
  return message && parseBody(message, fail);
}
