/**
 * minginx's HTTP mode: the tower model for requests. An {@linkcode HttpService} turns a `Request`
 * into a `Response`, an {@linkcode HttpLayer} wraps one, and the same `ServiceBuilder` as the TCP
 * mode stacks them in reading order. {@linkcode toHandler} serves a service through `Deno.serve`.
 *
 * The layers: {@linkcode logger}, {@linkcode timeout}, {@linkcode rateLimit},
 * {@linkcode ipFilter}, {@linkcode requestId}, {@linkcode cors} and {@linkcode compression}.
 *
 * @example Hello world, logged and with a timeout, as in tower
 * ```ts
 * import { logger, serviceFn, timeout, toHandler } from "@minginx/minginx/http";
 * import { ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const hello = serviceFn(() => new Response("Hello, world!"));
 * const service = new ServiceBuilder<Request, Response>()
 *   .layer(logger()) // outermost: sees the request first, logs it once sent
 *   .layer(timeout(5_000)) // answers 504 if hello takes longer than 5 s
 *   .service(hello);
 *
 * const server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *   toHandler(service),
 * );
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assert.equal(await response.text(), "Hello, world!");
 * await server.shutdown();
 * ```
 *
 * @module
 */

export * from "./lib/http/service.ts";
export * from "./lib/http/request_info.ts";
export * from "./lib/http/layers/logger.ts";
export * from "./lib/http/layers/timeout.ts";
export * from "./lib/http/layers/rate_limit.ts";
export * from "./lib/http/layers/ip_filter.ts";
export * from "./lib/http/layers/request_id.ts";
export * from "./lib/http/layers/cors.ts";
export * from "./lib/http/layers/compression.ts";
export * from "./lib/http/h1/server.ts";
export * from "./lib/http/h1/limits.ts";
export { HttpParseError } from "./lib/http/h1/head.ts";
export { type UpgradeHandler, upgradeResponse } from "./lib/http/h1/upgrade.ts";
export * from "./lib/http/proxy/proxy.ts";
export * from "./lib/http/proxy/proxy_error.ts";
export type { RouteMatch } from "./lib/http/proxy/router.ts";
export type { ForwardedStyle } from "./lib/http/proxy/forwarded.ts";
export type { KeepAliveOptions } from "./lib/http/proxy/keepalive.ts";
