/**
 * The bottom of a server's stack in HTTP mode: minginx's HTTP/1.1 server, a request logger, and
 * the HTTP proxy over the server's pools, one for each route and the default for the rest.
 *
 * @module
 */

import type { Balancer } from "../connect.ts";
import type { Connection } from "../connection.ts";
import { httpServer } from "../http/h1/server.ts";
import { logger } from "../http/layers/logger.ts";
import { httpProxy, type HttpRoute } from "../http/proxy/proxy.ts";
import type { ConnectionReport } from "../report.ts";
import { type Service, ServiceBuilder } from "../service.ts";
import type { HttpFlags } from "./http_flags.ts";
import type { PoolFlags } from "./pool_flags.ts";

/** The HTTP service at the bottom of a stack, and what closes its kept-alive connections. */
export interface HttpBottom {
  /** Reads requests from each connection and proxies them. */
  service: Service<Connection, ConnectionReport>;
  /** Closes the idle upstream connections; those in use close once their request ends. */
  close: () => Promise<void>;
}

/**
 * Builds the HTTP service a server's settings describe.
 *
 * @param settings The server's HTTP and pool settings, and its name.
 * @param balancer Makes the pool for a set of pool settings, under a name; it is counted in
 * the stack's pools.
 * @param fallback The balancer of the default pool, for the requests no route takes.
 * @returns The service, and its closer.
 */
export function httpBottom(
  settings: HttpFlags & PoolFlags & { name: string },
  balancer: (flags: PoolFlags, name: string) => Balancer,
  fallback: Balancer,
): HttpBottom {
  const routes: HttpRoute[] = settings.routes.map((route) => {
    const pool = {
      ...settings,
      upstreams: route.upstreams,
      balance: route.balance ?? settings.balance,
      ...(route.healthCheck === undefined
        ? {}
        : { healthCheck: route.healthCheck, health: route.health ?? settings.health }),
    };
    const name = `${settings.name}/route/${route.host ?? "*"}${route.path}`;
    return { host: route.host, path: route.path, balancer: balancer(pool, name) };
  });
  routes.push({ balancer: fallback });
  const proxy = httpProxy({
    routes,
    forwarded: settings.forwarded,
    trustedProxies: settings.trustedProxies,
    tries: settings.connectTries,
    connectTimeout: settings.connectTimeout,
    responseTimeout: settings.responseTimeout,
    keepAlive: { maxIdle: settings.upstreamKeepalive },
  });
  // Each request's line goes where the access log goes.
  const requests = new ServiceBuilder<Request, Response>()
    .layer(logger({ category: ["minginx", "access", "http"] }))
    .service(proxy);
  return {
    service: httpServer(requests, {
      maxHeaderBytes: settings.maxHeaderSize,
      maxBodyBytes: settings.maxBodySize === 0 ? Infinity : settings.maxBodySize,
      headerTimeout: settings.headerTimeout,
      keepAliveTimeout: settings.keepAliveTimeout,
    }),
    close: async () => await proxy[Symbol.asyncDispose](),
  };
}
