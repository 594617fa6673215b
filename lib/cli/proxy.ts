/**
 * The proxy the CLI runs, on the main thread or in each worker: the service stack its flags
 * describe, listening where they say.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { forward } from "../forward.ts";
import { accessLog } from "../middleware/access_log.ts";
import { timeout } from "../middleware/timeout.ts";
import type { ConnectionReport } from "../report.ts";
import { serve } from "../serve.ts";
import type { Server } from "../server.ts";
import { ServiceBuilder } from "../service.ts";
import type { CliOptions } from "./args.ts";

/** How the CLI's proxies stop: open connections get this long to finish after a signal. */
export const DRAIN_MS = 10_000;

/** What a worker's proxy needs beyond the flags: how it shares the port with the others. */
export interface Sharing {
  /** Bind with SO_REUSEPORT. */
  reusePort: boolean;
  /** This proxy numbers its connections from `first` by `step`. */
  connectionIds: { first: number; step: number };
}

/**
 * Starts the access log, timeout and forward stack on the listen address.
 *
 * @param options The parsed flags.
 * @param sharing Set when several workers share the port.
 * @returns The running server.
 * @throws {Deno.errors.AddrInUse} And other listen errors, naming the address.
 */
export function startProxy(
  options: Pick<CliOptions, "listen" | "upstreams" | "connectTimeout" | "idleTimeout">,
  sharing?: Sharing,
): Server {
  return serve({
    listen: options.listen,
    drainTimeout: DRAIN_MS,
    ...sharing,
    service: new ServiceBuilder<Connection, ConnectionReport>()
      .layer(accessLog())
      .layer(timeout({ connect: options.connectTimeout, idle: options.idleTimeout }))
      .service(forward({ upstreams: options.upstreams })),
  });
}
