/**
 * minginx: a TCP (layer 4) reverse proxy and load balancer for Deno, built on tower's middleware
 * model. A {@linkcode Service} handles an accepted {@linkcode Connection} and resolves with its
 * {@linkcode ConnectionReport}; a {@linkcode Layer} wraps a service; a {@linkcode ServiceBuilder}
 * stacks layers in reading order. {@linkcode forward} is the service at the bottom: it picks an
 * upstream, connects, and pipes both directions, keeping half-close.
 *
 * The library never prints and never exits. It logs through LogTape under the `minginx`
 * category, which stays silent until the application configures LogTape.
 *
 * @example A custom layer composed with the built-in ones
 * ```ts
 * import {
 *   accessLog,
 *   concurrencyLimit,
 *   type Connection,
 *   type ConnectionReport,
 *   forward,
 *   ipFilter,
 *   type Layer,
 *   rateLimit,
 *   serve,
 *   ServiceBuilder,
 *   timeout,
 * } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * // A layer of your own: count the bytes its connections forwarded.
 * let total = 0;
 * const countBytes: Layer<Connection, ConnectionReport> = (inner) =>
 *   async function countBytes(connection) {
 *     const report = await inner(connection);
 *     total += report.bytesUp + report.bytesDown;
 *     return report;
 *   };
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const service = new ServiceBuilder<Connection, ConnectionReport>()
 *   .layer(accessLog())
 *   .layer(ipFilter({ rules: [{ action: "allow", cidr: "127.0.0.0/8" }] }))
 *   .layer(rateLimit({ rate: 20, burst: 40 }))
 *   .layer(concurrencyLimit({ max: 100, queue: 10, queueTimeout: 2_000 }))
 *   .layer(countBytes)
 *   .layer(timeout({ connect: 2_000, idle: 60_000 }))
 *   .service(forward({ upstreams: [upstream.addr] }));
 * {
 *   await using proxy = serve({ listen: "127.0.0.1:0", service });
 *   const client = await Deno.connect(proxy.address);
 *   using accepted = await upstream.accept();
 *   await client.write(new TextEncoder().encode("ping"));
 *   await client.closeWrite();
 *   const received = new Uint8Array(4);
 *   assert.equal(await accepted.read(received), 4);
 *   assert.equal(await accepted.read(received), null); // the half-close arrived
 *   await accepted.write(new TextEncoder().encode("pong"));
 *   await accepted.closeWrite();
 *   assert.equal(await client.read(received), 4); // the reply still flows back
 *   assert.equal(await client.read(received), null);
 *   client.close();
 * }
 * assert.equal(total, 8);
 * ```
 *
 * @module
 */

export * from "./lib/address.ts";
export * from "./lib/duration.ts";
export * from "./lib/rate.ts";
export * from "./lib/service.ts";
export * from "./lib/serve.ts";
export * from "./lib/server.ts";
export * from "./lib/connection.ts";
export type { ByteStream } from "./lib/byte_stream.ts";
export * from "./lib/sink_hook.ts";
export * from "./lib/middleware/access_log.ts";
export * from "./lib/middleware/timeout.ts";
export * from "./lib/pool/upstream.ts";
export * from "./lib/pool/pool.ts";
export * from "./lib/pool/pool_options.ts";
export * from "./lib/pool/update.ts";
export * from "./lib/discovery/discovery.ts";
export * from "./lib/discovery/dns.ts";
export * from "./lib/discovery/srv.ts";
export * from "./lib/discovery/file.ts";
export * from "./lib/discovery/follow.ts";
export * from "./lib/discovery/source.ts";
export * from "./lib/discovery/discovery_from.ts";
export type { PassiveOptions } from "./lib/pool/passive.ts";
export type { HealthOptions } from "./lib/health/checker.ts";
export * from "./lib/resolve.ts";
export * from "./lib/config/jsonc.ts";
export * from "./lib/config/config.ts";
export * from "./lib/config/validate.ts";
export * from "./lib/config/parse_config.ts";
export type { LayerFlags } from "./lib/cli/layer_flags.ts";
export type { PoolFlags } from "./lib/cli/pool_flags.ts";
export * from "./lib/balance/algorithm.ts";
export * from "./lib/balance/round_robin.ts";
export * from "./lib/balance/least_conn.ts";
export * from "./lib/balance/p2c.ts";
export * from "./lib/balance/random.ts";
export * from "./lib/balance/first.ts";
export * from "./lib/balance/hash.ts";
export * from "./lib/balance/algorithms.ts";
export * from "./lib/health/check.ts";
export * from "./lib/health/http_check.ts";
export * from "./lib/health/send_expect.ts";
export * from "./lib/health/parse.ts";
export * from "./lib/connect.ts";
export * from "./lib/connect_error.ts";
export * from "./lib/pipe.ts";
export * from "./lib/buffer_pool.ts";
export * from "./lib/forward.ts";
export * from "./lib/report.ts";
export * from "./lib/ip.ts";
export * from "./lib/middleware/ip_filter.ts";
export * from "./lib/middleware/rate_limit.ts";
export * from "./lib/middleware/concurrency_limit.ts";
export * from "./lib/middleware/concurrency_limit_per_client.ts";
export * from "./lib/middleware/faults.ts";
export * from "./lib/middleware/faults/spec.ts";
export * from "./lib/token_bucket.ts";
export * from "./lib/handover.ts";
export * from "./lib/middleware/accept_proxy.ts";
export * from "./lib/proxy_protocol/header.ts";
export * from "./lib/proxy_protocol/parse.ts";
export * from "./lib/proxy_protocol/read.ts";
export * from "./lib/proxy_protocol/encode.ts";
export * from "./lib/tls/certificates.ts";
export * from "./lib/tls/terminate.ts";
export * from "./lib/tls/originate.ts";
export * from "./lib/tls/client_hello.ts";
export * from "./lib/tls/read_client_hello.ts";
export * from "./lib/tls/sni_router.ts";
export * from "./lib/metrics/metric.ts";
export * from "./lib/metrics/counter.ts";
export * from "./lib/metrics/gauge.ts";
export * from "./lib/metrics/histogram.ts";
export * from "./lib/metrics/registry.ts";
export * from "./lib/metrics/process.ts";
export * from "./lib/metrics/proxy_metrics.ts";
export * from "./lib/metrics/discovery_metrics.ts";
export { type ConnectErrorKind, connectErrorKind } from "./lib/metrics/pool_metrics.ts";
export * from "./lib/metrics/snapshot.ts";
export * from "./lib/middleware/metrics.ts";
export * from "./lib/admin/backend.ts";
export * from "./lib/admin/server.ts";
export * from "./lib/admin/status.ts";
export * from "./lib/admin/status_types.ts";
