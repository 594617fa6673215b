/**
 * Accepting the PROXY protocol from trusted load balancers in front of minginx: the client address
 * their header carries becomes the connection's.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { type Cidr, parseCidr } from "../ip.ts";
import { ProxyHeaderError } from "../proxy_protocol/header.ts";
import { readProxyHeader } from "../proxy_protocol/read.ts";
import { ConnectionError, type ConnectionReport } from "../report.ts";
import type { Layer } from "../service.ts";
import { checkMs } from "../_util.ts";
import { deadline, readFailure } from "../_deadline.ts";

/**
 * Options for {@linkcode acceptProxy}.
 *
 * @example Trust the load balancers on 10.0.0.0/24
 * ```ts
 * import type { AcceptProxyOptions } from "@minginx/minginx";
 *
 * const options: AcceptProxyOptions = { trusted: ["10.0.0.0/24"], timeout: 5_000 };
 * ```
 */
export interface AcceptProxyOptions {
  /** Where PROXY headers may come from: CIDR blocks, as {@linkcode parseCidr} reads them. */
  trusted: readonly (string | Cidr)[];
  /**
   * How long a trusted peer has to send its whole header, in milliseconds.
   *
   * @default {10000}
   */
  timeout?: number;
}

/**
 * Creates the layer that reads a PROXY protocol header (v1 or v2) from every connection. Put it
 * first, after the access log: the address in the header replaces the peer's address for the
 * layers inside it (access rules, rate limits, hashing), for the report, and for a PROXY header
 * sent on upstream. A `LOCAL` header (a health check from the load balancer itself) keeps the
 * peer's address.
 *
 * A peer outside `trusted` is refused with reason `denied`, before anything is read. A header
 * that is malformed or cut short ends the connection with reason `proxy_header`, and one that is
 * not complete within the timeout with `handshake_timeout`. Bytes after the header are kept in
 * `connection.preread`, for the upstream or the next layer that reads.
 *
 * @param options Who is trusted, and how long a header may take.
 * @returns The layer.
 * @throws {TypeError} If a trusted block is malformed.
 *
 * @example A connection from an untrusted address is refused
 * ```ts
 * import { acceptProxy, forward, serve, ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const service = new ServiceBuilder()
 *   .layer(acceptProxy({ trusted: ["10.0.0.0/8"] }))
 *   .service(forward({ upstreams: [upstream.addr] }));
 * await using proxy = serve({ listen: "127.0.0.1:0", service });
 * using client = await Deno.connect(proxy.address);
 * assert.equal(await client.read(new Uint8Array(1)), null);
 * ```
 */
export function acceptProxy(options: AcceptProxyOptions): Layer<Connection, ConnectionReport> {
  const trusted = options.trusted.map((cidr) =>
    typeof cidr === "string" ? parseCidr(cidr, "trusted PROXY source") : cidr
  );
  const timeoutMs = checkMs(options.timeout ?? 10_000, "PROXY header timeout");
  return (inner) =>
    async function acceptProxy(connection: Connection): Promise<ConnectionReport> {
      const peer = connection.clientAddress.hostname;
      if (!trusted.some((cidr) => cidr.contains(peer))) {
        return connection.end(
          new ConnectionError("denied", `Client ${peer} is not a trusted source of PROXY headers`),
        );
      }
      try {
        const { header, rest } = await deadline(
          connection,
          timeoutMs,
          `No complete PROXY header within ${timeoutMs} ms`,
          readProxyHeader(connection.client),
        );
        if (header.source && header.destination) {
          connection.proxied(header.source, header.destination);
        }
        if (rest.length > 0) connection.preread = rest;
      } catch (error) {
        return connection.end(readFailure(error, "proxy_header", ProxyHeaderError));
      }
      return inner(connection);
    };
}
