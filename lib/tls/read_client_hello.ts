/**
 * Reading a connection's first bytes until its TLS ClientHello is complete, keeping every byte
 * read so that they can be forwarded unchanged to the upstream the ClientHello picks.
 *
 * @module
 */

import { checkWhole } from "../_util.ts";
import type { Source } from "../pipe.ts";
import { type ClientHello, ClientHelloError, MAX_CLIENT_HELLO } from "./client_hello.ts";
import { parseBody } from "./_hello_body.ts";
import { type Fail, Records } from "./_records.ts";

/**
 * Options for {@linkcode readClientHello}.
 *
 * @example Reading after a PROXY protocol header
 * ```ts
 * import type { ReadClientHelloOptions } from "@minginx/minginx";
 *
 * const afterHeader = new Uint8Array([22, 3, 1]); // read along with the header
 * const options: ReadClientHelloOptions = { maxBytes: 4096, initial: afterHeader };
 * ```
 */
export interface ReadClientHelloOptions {
  /**
   * The most bytes to read, `initial` included: the limit for the ClientHello's records.
   *
   * @default {16389}
   */
  maxBytes?: number;
  /**
   * Bytes already read from the source, such as those after a PROXY protocol header: they come
   * first, as if read again.
   *
   * @default {new Uint8Array(0)}
   */
  initial?: Uint8Array;
}

const FIRST_READ = 2048; // a browser's ClientHello fits

/**
 * Reads from `source` until the ClientHello is complete. It reads no more than `maxBytes` in all:
 * each read is given only the room left under the limit. Setting a time limit is the caller's
 * job: closing the socket ends a pending read.
 *
 * Each read's bytes are looked at once: the records are reassembled as they arrive, and the
 * ClientHello's body is parsed once, when its last record is complete. So the time it takes is
 * linear in the bytes read, however the client splits them into records and reads, even a byte
 * at a time in one-byte records.
 *
 * @param source Where the bytes come from, such as an accepted `Deno.TcpConn`.
 * @param options The limit, and bytes already read.
 * @returns The ClientHello, and every byte read, `initial` first, in order: the ClientHello and
 * possibly bytes after it, all of which belong to the upstream.
 * @throws {ClientHelloError} With problem `truncated` if the source ends first, or `not_tls`,
 * `malformed` or `too_large` as {@linkcode parseClientHello} decides; its `bytes` are every byte
 * read so far.
 * @throws {RangeError} If `maxBytes` is not a whole number of at least 1.
 * Errors from `source.read` pass through unchanged.
 *
 * @example Plain text is not TLS: its bytes can go to a fallback
 * ```ts
 * import { ClientHelloError, readClientHello, type Source } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const chunks = [new TextEncoder().encode("GET / HTTP/1.1\r\n")];
 * const source: Source = {
 *   read(buffer) {
 *     const chunk = chunks.shift();
 *     if (!chunk) return Promise.resolve(null);
 *     buffer.set(chunk);
 *     return Promise.resolve(chunk.length);
 *   },
 * };
 * await assert.rejects(readClientHello(source), (error) => {
 *   assert.ok(error instanceof ClientHelloError);
 *   assert.equal(error.problem, "not_tls");
 *   assert.equal(new TextDecoder().decode(error.bytes), "GET / HTTP/1.1\r\n"); // to forward
 *   return true;
 * });
 * ```
 */
export async function readClientHello(
  source: Source,
  options: ReadClientHelloOptions = {},
): Promise<{ hello: ClientHello; bytes: Uint8Array }> {
  const { maxBytes = MAX_CLIENT_HELLO, initial = new Uint8Array(0) } = options;
  checkWhole(maxBytes, "ClientHello limit", 1, " of bytes");
  let buffer = new Uint8Array(Math.max(initial.length, Math.min(maxBytes, FIRST_READ)));
  buffer.set(initial);
  let length = initial.length;
  const records = new Records(maxBytes);
  for (;;) {
    const bytes = buffer.subarray(0, length);
    const fail: Fail = (problem, detail) => {
      throw new ClientHelloError(problem, `Cannot parse ClientHello: ${detail}`, bytes);
    };
    const message = records.next(bytes, fail); // undefined only if length < maxBytes
    if (message) return { hello: parseBody(message, fail), bytes };
    if (length === buffer.length) {
      const grown = new Uint8Array(Math.min(maxBytes, buffer.length * 2));
      grown.set(bytes);
      buffer = grown;
    }
    const n = await source.read(buffer.subarray(length, Math.min(buffer.length, maxBytes)));
    if (n === null) {
      throw new ClientHelloError(
        "truncated",
        `Cannot parse ClientHello: the connection ended after ${length} bytes, ` +
          "expected the rest of the ClientHello",
        bytes,
      );
    }
    length += n;
  }
}
