/**
 * Parsing a PROXY protocol header, either version, from the first bytes of a connection.
 *
 * @module
 */

import { type ProxyHeader, ProxyHeaderError } from "./header.ts";
import { quote } from "./_util.ts";
import { parseV1 } from "./_v1.ts";
import { parseV2, V2_SIGNATURE } from "./_v2.ts";

/** `PROXY `, the start of every v1 line. */
const V1_PREFIX = new TextEncoder().encode("PROXY ");

/**
 * Parses the PROXY protocol header (haproxy's spec, version 1 or 2) at the start of `bytes`,
 * telling the version from the first byte. The check is strict and goes as far as the bytes
 * have come: bytes that cannot start a valid header are rejected at once, even before the rest
 * arrives.
 *
 * Version 1 is one line: `PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n`, with single spaces, addresses
 * of the family named, ports from 0 to 65535 and no leading zeros; or `PROXY UNKNOWN`, with
 * anything up to the CRLF; 107 bytes at most. Version 2 is binary: the 12-byte signature
 * `\r\n\r\n\0\r\nQUIT\n`, version 2 with the LOCAL or PROXY command, a family and transport
 * byte, a length, the address block, then TLVs that fill the length exactly. A `PP2_TYPE_CRC32C`
 * TLV is checked, `PP2_TYPE_AUTHORITY` gives {@linkcode ProxyHeader.authority}, and other TLVs
 * are skipped.
 *
 * @param bytes What the connection has sent so far.
 * @returns The header and how many bytes it took (the bytes after it are the client's), or
 * undefined while `bytes` is a valid start of a header that needs more bytes.
 * @throws {ProxyHeaderError} `malformed` if the bytes are not a valid header, or `too_large` for
 * a v1 line with no CRLF within 107 bytes.
 *
 * @example Parsing both versions
 * ```ts
 * import { encodeProxyHeader, parseProxyHeader } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const line = new TextEncoder().encode("PROXY TCP4 192.0.2.1 198.51.100.7 51000 443\r\nGET /");
 * const parsed = parseProxyHeader(line);
 * assert.deepEqual(parsed?.header.source, { hostname: "192.0.2.1", port: 51000 });
 * assert.equal(parsed?.length, 45); // "GET /" is the client's
 *
 * const binary = encodeProxyHeader(2, { hostname: "2001:db8::1", port: 51000 }, {
 *   hostname: "2001:db8::80",
 *   port: 443,
 * }, { authority: "example.com" });
 * assert.equal(parseProxyHeader(binary.subarray(0, 20)), undefined); // not all there yet
 * assert.equal(parseProxyHeader(binary)?.header.authority, "example.com");
 * ```
 *
 * @example Rejecting what is not a header
 * ```ts
 * import { parseProxyHeader } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => parseProxyHeader(new TextEncoder().encode("PROXY TCP4 1.2.3 ")), {
 *   name: "ProxyHeaderError",
 *   message: 'Cannot parse PROXY header "PROXY TCP4 1.2.3 ": ' +
 *     "expected SRC to be an IPv4 address, such as 192.0.2.1, for TCP4",
 * });
 * assert.throws(() => parseProxyHeader(new TextEncoder().encode("G")), { name: "ProxyHeaderError" });
 * ```
 */
export function parseProxyHeader(
  bytes: Uint8Array,
): { header: ProxyHeader; length: number } | undefined {
  const start = bytes[0] === V1_PREFIX[0] ? V1_PREFIX : V2_SIGNATURE;
  const seen = Math.min(bytes.length, start.length);
  for (let i = 0; i < seen; i++) {
    if (bytes[i] !== start[i]) {
      throw new ProxyHeaderError(
        "malformed",
        `Cannot parse PROXY header "${quote(bytes)}": ` +
          'expected "PROXY " (version 1) or "\\r\\n\\r\\n\\x00\\r\\nQUIT\\n" (version 2)',
      );
    }
  }
  if (bytes.length <= start.length) return undefined;
  return start === V1_PREFIX ? parseV1(bytes) : parseV2(bytes);
}
