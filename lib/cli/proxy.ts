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
import { type LayerFlags, optionalLayers } from "./layer_flags.ts";
import { connectFromFlags, type PoolFlags, poolFromFlags } from "./pool_flags.ts";

/** How the CLI's proxies stop: open connections get this long to finish after a signal. */
export const DRAIN_MS = 10_000;

/** What a worker's proxy needs beyond the flags: how it shares the port with the others. */
export interface Sharing {
  /** Bind with SO_REUSEPORT. */
  reusePort: boolean;
  /** This proxy numbers its connections from `first` by `step`. */
  connectionIds: { first: number; step: number };
  /** How many proxies share the port: `--max-connections` and `--queue` are split among them. */
  workers: number;
}

/**
 * Starts the stack the flags describe on the listen address: the access log, the access rules
 * and limits that were asked for, the timeouts, any faults, and forward over the flags' pool,
 * whose health checks stop when the server has finished.
 *
 * @param options The parsed flags.
 * @param sharing Set when several workers share the port.
 * @returns The running server.
 * @throws {Deno.errors.AddrInUse} And other listen errors, naming the address.
 */
export function startProxy(
  options: Pick<CliOptions, "listen" | "idleTimeout"> & LayerFlags & PoolFlags,
  sharing?: Sharing,
): Server {
  const { limits, faults } = optionalLayers(shareOut(options, sharing?.workers ?? 1));
  let builder = new ServiceBuilder<Connection, ConnectionReport>().layer(accessLog());
  for (const layer of limits) builder = builder.layer(layer);
  builder = builder.layer(timeout({ connect: options.connectDeadline, idle: options.idleTimeout }));
  if (faults) builder = builder.layer(faults);
  const pool = poolFromFlags(options);
  try {
    const server = serve({
      listen: options.listen,
      drainTimeout: DRAIN_MS,
      reusePort: sharing?.reusePort,
      connectionIds: sharing?.connectionIds,
      service: builder.service(forward({ balancer: pool, connect: connectFromFlags(options) })),
    });
    // The health checks run for as long as connections may still need upstreams.
    server.finished.finally(() => pool.close());
    return server;
  } catch (error) {
    pool.close();
    throw error;
  }
}

/** Each of `workers` proxies gets its share of the overall connection limit and queue. */
function shareOut(flags: LayerFlags, workers: number): LayerFlags {
  if (!flags.maxConnections || workers === 1) return flags;
  const { max, queue, queueTimeout } = flags.maxConnections;
  return {
    ...flags,
    maxConnections: {
      max: Math.max(1, Math.floor(max / workers)),
      queue: Math.ceil(queue / workers),
      queueTimeout,
    },
  };
}
