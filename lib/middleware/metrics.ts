/**
 * The metrics middleware: counts each connection in a {@linkcode ProxyMetrics} when it is
 * accepted and when it ends.
 *
 * @module
 */

import { formatAddress } from "../address.ts";
import type { Connection } from "../connection.ts";
import type { ProxyMetrics } from "../metrics/proxy_metrics.ts";
import type { ConnectionReport } from "../report.ts";
import type { Layer } from "../service.ts";

/**
 * The metrics layer: counts each connection as accepted and open on its listener, and when it
 * ends, as closed for its reason, with its bytes and duration, on its listener and on its
 * upstream. Put it outermost, so that it counts the connections that layers inside refuse. It
 * does nothing per byte: the bytes of connections still open are read at scrape time.
 *
 * An error thrown by an inner layer ends the connection with reason `error`, which is counted and
 * returned as the report.
 *
 * @param metrics Where to count.
 * @returns The layer.
 *
 * @example Count connections, then read the counters
 * ```ts
 * import { connectionMetrics, forward, ProxyMetrics, serve, ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const metrics = new ProxyMetrics();
 * const service = new ServiceBuilder()
 *   .layer(connectionMetrics(metrics))
 *   .service(forward({ upstreams: [upstream.addr] }));
 * await using proxy = serve({ listen: "127.0.0.1:0", service });
 * {
 *   using _client = await Deno.connect(proxy.address);
 *   using _accepted = await upstream.accept();
 * }
 * const listener = `127.0.0.1:${proxy.address.port}`;
 * assert.equal(metrics.accepted.labels(listener).value, 1);
 * ```
 */
export function connectionMetrics(metrics: ProxyMetrics): Layer<Connection, ConnectionReport> {
  return (inner) =>
    async function connectionMetrics(connection: Connection): Promise<ConnectionReport> {
      metrics.opened(connection, formatAddress(connection.socket.localAddr));
      let report: ConnectionReport;
      try {
        report = await inner(connection);
      } catch (error) {
        report = connection.end(error);
      }
      metrics.ended(connection, report);
      return report;
    };
}
