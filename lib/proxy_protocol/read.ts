/**
 * Reading the PROXY protocol header off an accepted connection, and no more than it needs.
 *
 * @module
 */

import type { Source } from "../pipe.ts";
import { type ProxyHeader, ProxyHeaderError } from "./header.ts";
import { parseProxyHeader } from "./parse.ts";
import { quote } from "./_util.ts";
import { V1_MAX_LINE } from "./_v1.ts";
import { V2_FIXED, V2_SIGNATURE, v2Length } from "./_v2.ts";

/**
 * The longest header {@linkcode readProxyHeader} reads by default, in bytes: the longest the v2
 * format can describe, 16 plus a length field of 65,535. So the default refuses no valid header;
 * pass a smaller limit to hold less memory per connection for a peer that sends big TLVs.
 *
 * @example The largest v2 header
 * ```ts
 * import { MAX_PROXY_HEADER } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_PROXY_HEADER, 16 + 0xffff);
 * ```
 */
export const MAX_PROXY_HEADER = 16 + 65_535;

/**
 * Reads a PROXY protocol header (version 1 or 2, see {@linkcode parseProxyHeader}) from the start
 * of a connection. It reads at most `maxBytes` in all, and once a v2 header's length is known it
 * never asks for a byte past the header's end; a v1 line is read in chunks that end by its
 * longest length, 107 bytes. Bytes that come with the header are the client's: they are returned
 * as `rest`, in order, and must be forwarded before anything else read from `source`.
 *
 * It sets no timeout: to bound the wait, close the connection, which ends the pending read.
 *
 * @param source The accepted connection.
 * @param maxBytes The most bytes to read, from 16 to {@linkcode MAX_PROXY_HEADER}.
 * @returns The header, and the bytes read after it (often none).
 * @throws {ProxyHeaderError} `malformed` for bytes that are not a valid header (as soon as they
 * show it), `truncated` if the connection ends first, `too_large` if the header is longer than
 * `maxBytes`.
 * @throws {RangeError} If `maxBytes` is not a whole number from 16 to `MAX_PROXY_HEADER`.
 * Errors from `source.read` pass through.
 *
 * @example Reading the client's address, then its bytes
 * ```ts
 * import { readProxyHeader, type Source } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const sent = new TextEncoder().encode("PROXY TCP6 2001:db8::1 2001:db8::80 51000 443\r\nHELO\r\n");
 * let offset = 0;
 * const source: Source = { // sends the bytes 10 at a time
 *   read(buffer) {
 *     if (offset === sent.length) return Promise.resolve(null);
 *     const chunk = sent.subarray(offset, offset + Math.min(10, buffer.length));
 *     buffer.set(chunk);
 *     offset += chunk.length;
 *     return Promise.resolve(chunk.length);
 *   },
 * };
 * const { header, rest } = await readProxyHeader(source);
 * assert.deepEqual(header.source, { hostname: "2001:db8::1", port: 51000 });
 * assert.equal(new TextDecoder().decode(rest), "HEL"); // the line ended mid-chunk
 * ```
 */
export async function readProxyHeader(
  source: Source,
  maxBytes: number = MAX_PROXY_HEADER,
): Promise<{ header: ProxyHeader; rest: Uint8Array }> {
  if (!Number.isInteger(maxBytes) || maxBytes < V2_FIXED || maxBytes > MAX_PROXY_HEADER) {
    throw new RangeError(
      `Cannot read PROXY header of at most ${maxBytes} bytes: expected a whole number from ` +
        `${V2_FIXED} to ${MAX_PROXY_HEADER}`,
    );
  }
  let buffer: Uint8Array = new Uint8Array(Math.min(V1_MAX_LINE, maxBytes));
  let filled = 0;
  for (;;) {
    const seen = buffer.subarray(0, filled);
    const parsed = parseProxyHeader(seen);
    if (parsed) return { header: parsed.header, rest: buffer.slice(parsed.length, filled) };
    const v2 = seen[0] === V2_SIGNATURE[0];
    const total = v2 ? v2Length(seen) : undefined;
    if (total !== undefined && total > maxBytes) throw tooLarge(seen, total, maxBytes);
    // Once a v2 header's length is known, read to its end and no further.
    const stop = Math.min(total ?? (v2 ? V2_FIXED : V1_MAX_LINE), maxBytes);
    if (stop <= filled) throw tooLarge(seen, undefined, maxBytes);
    if (stop > buffer.length) buffer = grow(buffer, filled, stop);
    const n = await source.read(buffer.subarray(filled, stop));
    if (n === null) {
      throw new ProxyHeaderError(
        "truncated",
        `Cannot read PROXY header "${quote(seen)}": the connection ended after ${filled} bytes, ` +
          "expected the rest of the header",
      );
    }
    filled += n;
  }
}

function tooLarge(
  seen: Uint8Array,
  total: number | undefined,
  maxBytes: number,
): ProxyHeaderError {
  return new ProxyHeaderError(
    "too_large",
    total === undefined
      ? `Cannot read PROXY header "${quote(seen)}": expected it within ${maxBytes} bytes`
      : `Cannot read PROXY v2 header of ${total} bytes: expected at most ${maxBytes}`,
  );
}

function grow(buffer: Uint8Array, filled: number, size: number): Uint8Array {
  const bigger = new Uint8Array(size);
  bigger.set(buffer.subarray(0, filled));
  return bigger;
}
