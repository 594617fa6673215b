/**
 * The HTTP reverse proxy: the {@linkcode HttpService} at the bottom of an HTTP stack. It routes a
 * request by host and path to a pool, walks the pool's candidates, and passes the request on
 * over a kept-alive connection, streaming both bodies.
 *
 * @module
 */

import type { Address } from "../../address.ts";
import type { Balancer } from "../../connect.ts";
import { Pool } from "../../pool/pool.ts";
import type { UpstreamSpec } from "../../pool/upstream.ts";
import { checkMs, checkWhole } from "../../_util.ts";
import type { HttpService } from "../service.ts";
import { requestInfo } from "../request_info.ts";
import { wantsUpgrade } from "../h1/upgrade.ts";
import { type ForwardedStyle, setForwarded, stripHopByHop, TrustedProxies } from "./forwarded.ts";
import { type KeepAliveOptions, KeepAlivePool } from "./keepalive.ts";
import { ProxyError } from "./proxy_error.ts";
import { refusal } from "../_response.ts";
import { type RouteMatch, Router } from "./router.ts";
import { type Passing, passOn } from "./pass_on.ts";
import { Sweeper } from "../../_sweeper.ts";

/**
 * One route of an HTTP proxy: which requests it takes, and the pool they go to.
 *
 * @example Requests for /api on any host, to two upstreams
 * ```ts
 * import type { HttpRoute } from "@minginx/minginx/http";
 *
 * const route: HttpRoute = { path: "/api", upstreams: ["10.0.0.1:8080", "10.0.0.2:8080"] };
 * ```
 */
export interface HttpRoute extends RouteMatch {
  /** The upstreams, for a round-robin pool without health checks; ignored with `balancer`. */
  upstreams?: readonly (string | Address | UpstreamSpec)[];
  /** Chooses the upstreams to try, such as a {@linkcode Pool} with health checks. */
  balancer?: Balancer;
}

/**
 * Options for {@linkcode httpProxy}.
 *
 * @example Two hosts, one with an API pool of its own
 * ```ts
 * import type { HttpProxyOptions } from "@minginx/minginx/http";
 *
 * const options: HttpProxyOptions = {
 *   routes: [
 *     { host: "example.com", path: "/api", upstreams: ["10.0.0.1:8080"] },
 *     { host: "*.example.com", upstreams: ["10.0.0.2:8080"] },
 *   ],
 *   trustedProxies: ["10.0.0.0/8"],
 *   responseTimeout: 30_000,
 * };
 * ```
 */
export interface HttpProxyOptions {
  /** The routes; a request none takes gets 404. */
  routes: readonly HttpRoute[];
  /** Which fields tell the upstream about the client. @default {"x-forwarded"} */
  forwarded?: ForwardedStyle;
  /** Peers (CIDR blocks) whose forwarding fields are kept and added to. @default {[]} */
  trustedProxies?: readonly string[];
  /** How many upstreams to try for one request, at most. @default {3} */
  tries?: number;
  /** Milliseconds each connect may take. @default {5000} */
  connectTimeout?: number;
  /**
   * Milliseconds from sending a request to its response head; then 504. 0 for no limit.
   *
   * @default {60000}
   */
  responseTimeout?: number;
  /** The most bytes a response head may take. @default {65536} */
  maxResponseHeaderBytes?: number;
  /** How many idle upstream connections to keep, and for how long. */
  keepAlive?: KeepAliveOptions;
}

/**
 * The proxy service, which closes its idle upstream connections and its pools when disposed.
 *
 * @example Dispose of the proxy when done
 * ```ts
 * import { type HttpProxy, httpProxy } from "@minginx/minginx/http";
 *
 * await using proxy: HttpProxy = httpProxy({ routes: [{ upstreams: ["127.0.0.1:8080"] }] });
 * ```
 */
export type HttpProxy = HttpService & AsyncDisposable;

/**
 * Creates the HTTP reverse proxy. For each request it picks a route, removes hop-by-hop fields,
 * sets the forwarding fields, and tries the route's candidates in order: a failed connect moves
 * on to the next (nothing was sent), and so does a failure after sending for an idempotent
 * request without a body. A connection kept alive that turns out closed is replaced at once.
 * Bodies stream both ways and are never held whole. An `Upgrade` (a WebSocket) passes through
 * as a byte pipe. It answers 404 when no route matches, 502 when no upstream answers, and 504
 * when the answer is late.
 *
 * @param options The routes and the limits.
 * @returns The service; dispose of it to close its idle upstream connections.
 * @throws {TypeError} If a route is malformed or has no upstreams.
 *
 * @example An HTTP reverse proxy with a logger, in front of one upstream
 * ```ts
 * import { serve, ServiceBuilder } from "@minginx/minginx";
 * import { httpProxy, httpServer, logger } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * await using upstream = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *   (request) => new Response(`upstream saw ${request.headers.get("x-forwarded-for")}`),
 * );
 * await using proxy = httpProxy({
 *   routes: [{ path: "/", upstreams: [`127.0.0.1:${upstream.addr.port}`] }],
 * });
 * const service = new ServiceBuilder<Request, Response>().layer(logger()).service(proxy);
 * await using server = serve({ listen: "127.0.0.1:0", service: httpServer(service) });
 *
 * using client = Deno.createHttpClient({});
 * const response = await fetch(`http://127.0.0.1:${server.address.port}/`, { client });
 * assert.equal(await response.text(), "upstream saw 127.0.0.1");
 * ```
 */
export function httpProxy(options: HttpProxyOptions): HttpProxy {
  const pools: Pool[] = [];
  const router = new Router(options.routes.map((route) => ({
    match: route,
    target: route.balancer ?? poolOf(route, pools),
  })));
  const keepAlive = new KeepAlivePool(options.keepAlive);
  const responseMs = checkMs(options.responseTimeout ?? 60_000, "response timeout");
  const maxHeaderBytes = options.maxResponseHeaderBytes ?? 65_536;
  const passing: Passing = {
    keepAlive,
    tries: checkWhole(options.tries ?? 3, "tries", 1),
    connectMs: checkMs(options.connectTimeout ?? 5_000, "connect timeout"),
    responseMs,
    late: responseMs === 0 ? undefined : new Sweeper(responseMs),
    maxHeaderBytes: checkWhole(maxHeaderBytes, "max response header bytes", 1),
  };
  const style = options.forwarded ?? "x-forwarded";
  const trusted = new TrustedProxies(options.trustedProxies);
  const service = async function httpProxy(request: Request): Promise<Response> {
    const url = request.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const target = start === -1 ? "/" : url.slice(start);
    const query = target.indexOf("?");
    const path = query === -1 ? target : target.slice(0, query);
    const host = request.headers.get("host") ?? url.slice(url.indexOf("//") + 2, start);
    const info = requestInfo(request);
    const balancer = router.route(host, path);
    if (balancer === undefined) {
      return refusal(info, new ProxyError(404, `No route takes host "${host}" and path "${path}"`));
    }
    const upgrade = wantsUpgrade(request);
    stripHopByHop(request.headers, upgrade);
    setForwarded(request.headers, info, style, trusted);
    try {
      return await passOn(request, target, balancer, info, upgrade, passing);
    } catch (error) {
      if (error instanceof ProxyError) return refusal(info, error);
      throw error;
    }
  };
  return Object.assign(service, {
    [Symbol.asyncDispose]: async () => {
      keepAlive.close();
      await Promise.all(pools.map((pool) => pool.close()));
    },
  });
}

function poolOf(route: HttpRoute, pools: Pool[]): Pool {
  if (!route.upstreams?.length) {
    const where = `${route.host ?? "any host"} ${route.path ?? "/"}`;
    throw new TypeError(
      `Cannot route "${where}" to no upstreams: expected a balancer or upstreams`,
    );
  }
  const pool = new Pool({ upstreams: route.upstreams });
  pools.push(pool);
  return pool;
}
