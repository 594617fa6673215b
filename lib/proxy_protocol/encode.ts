/**
 * Writing a PROXY protocol header, for a proxy that tells its upstream who the client is.
 *
 * @module
 */

import type { Address } from "../address.ts";
import { endpointsOf } from "./_util.ts";
import { encodeV1 } from "./_v1.ts";
import { encodeV2 } from "./_v2.ts";

/**
 * Options for {@linkcode encodeProxyHeader}; version 1 has room for neither.
 *
 * @example A v2 header with the client's SNI host name and a checksum
 * ```ts
 * import { encodeProxyHeader, type EncodeProxyHeaderOptions } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const options: EncodeProxyHeaderOptions = { authority: "example.com", crc32c: true };
 * const client = { hostname: "192.0.2.1", port: 51000 };
 * const header = encodeProxyHeader(2, client, { hostname: "192.0.2.80", port: 443 }, options);
 * assert.equal(header.length, 16 + 12 + (3 + 11) + (3 + 4));
 * ```
 */
export interface EncodeProxyHeaderOptions {
  /**
   * The host name the client asked for (TLS SNI), written as a `PP2_TYPE_AUTHORITY` TLV of at
   * most 255 UTF-8 bytes.
   *
   * @default {undefined}
   */
  authority?: string;
  /**
   * Whether to end the header with a `PP2_TYPE_CRC32C` TLV, a checksum of the whole header.
   *
   * @default {false}
   */
  crc32c?: boolean;
}

/**
 * Encodes a PROXY protocol header (haproxy's spec) with the PROXY command: version 1, the text
 * line, or version 2, the binary form. Send it before any of the client's bytes.
 *
 * Addresses must be IP addresses, which is what `Deno.NetAddr` holds, so a connection's
 * `remoteAddr` and `localAddr` can be passed as they are. When both are IPv4 the header is TCP4;
 * otherwise it is TCP6, with an IPv4 address in its IPv4-mapped form (`::ffff:192.0.2.1`), in
 * both versions: a v1 `UNKNOWN` line would lose the addresses.
 *
 * @param version 1 for the text line, 2 for the binary form.
 * @param source The client's address: the connection's `remoteAddr`.
 * @param destination The address the client connected to: the connection's `localAddr`.
 * @param options The v2 TLVs to add.
 * @returns The header's bytes.
 * @throws {TypeError} If a hostname is not an IPv4 or IPv6 address.
 * @throws {RangeError} If a port is not from 0 to 65535, the version is neither 1 nor 2, or the
 * authority is longer than 255 bytes.
 *
 * @example The text form
 * ```ts
 * import { encodeProxyHeader } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const client = { hostname: "192.0.2.1", port: 51000 };
 * const line = encodeProxyHeader(1, client, { hostname: "198.51.100.7", port: 443 });
 * assert.equal(new TextDecoder().decode(line), "PROXY TCP4 192.0.2.1 198.51.100.7 51000 443\r\n");
 * const mixed = encodeProxyHeader(1, client, { hostname: "2001:db8::80", port: 443 });
 * assert.equal(
 *   new TextDecoder().decode(mixed),
 *   "PROXY TCP6 ::ffff:192.0.2.1 2001:db8::80 51000 443\r\n",
 * );
 * ```
 *
 * @example Sending the header upstream, before the client's bytes
 * ```ts
 * import { encodeProxyHeader, readProxyHeader } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using toUpstream = await Deno.connect({ hostname: "127.0.0.1", port: upstream.addr.port });
 * using accepted = await upstream.accept();
 * const client = { hostname: "2001:db8::1", port: 51000 };
 * const listen = { hostname: "192.0.2.80", port: 443 }; // where the proxy accepted the client
 * await toUpstream.write(encodeProxyHeader(2, client, listen));
 * await toUpstream.write(new TextEncoder().encode("hello"));
 *
 * const { header, rest } = await readProxyHeader(accepted); // on the upstream's side
 * assert.deepEqual(header.source, client);
 * assert.deepEqual(header.destination, { hostname: "::ffff:192.0.2.80", port: 443 });
 * assert.ok(rest.length <= 5); // what came with the header; read the rest of "hello" as usual
 * ```
 */
export function encodeProxyHeader(
  version: 1 | 2,
  source: Address,
  destination: Address,
  options: EncodeProxyHeaderOptions = {},
): Uint8Array {
  if (version !== 1 && version !== 2) {
    throw new RangeError(`Cannot encode PROXY header of version ${version}: expected 1 or 2`);
  }
  const endpoints = endpointsOf(source, destination, `PROXY v${version} header`);
  if (version === 1) return encodeV1(endpoints);
  return encodeV2(endpoints, options.authority, options.crc32c ?? false);
}
