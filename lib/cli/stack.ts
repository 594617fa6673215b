/**
 * The service stack one server's settings describe, from flags or from a config file: the access
 * log, the access rules and limits, the timeouts, any faults, and forward over its pool.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { forward } from "../forward.ts";
import { accessLog } from "../middleware/access_log.ts";
import { timeout } from "../middleware/timeout.ts";
import type { Pool } from "../pool/pool.ts";
import type { ConnectionReport } from "../report.ts";
import { type Layer, type Service, ServiceBuilder } from "../service.ts";
import { type LayerFlags, type LayerReuse, optionalLayers } from "./layer_flags.ts";
import { connectFromFlags, type PoolFlags, poolFromFlags } from "./pool_flags.ts";

/** What one server's stack is made from: plain data, the same from flags and from a file. */
export type StackSettings = LayerFlags & PoolFlags & {
  /** Close a connection after this long with nothing moving, in milliseconds; 0 for never. */
  idleTimeout: number;
};

/** A server's stack and the pool at its bottom, whose health checks run until it is closed. */
export interface Stack {
  /** The service to hand connections to. */
  service: Service<Connection, ConnectionReport>;
  /** The upstream pool that forward walks. */
  pool: Pool;
}

/**
 * Builds the stack the settings describe.
 *
 * @param settings The server's settings.
 * @param workers How many proxies share the port: `maxConnections` and its queue are split
 * among them.
 * @param reuse The limit layers of the stack before a reload, to keep those that did not change.
 * @param shutdowns Counts the connections a shutdown closes (reason `shutdown`), for the final
 * line of a stop; it may be shared by the stacks of several reloads.
 * @returns The service and its pool.
 */
export function buildStack(
  settings: StackSettings,
  workers = 1,
  reuse?: LayerReuse,
  shutdowns?: { count: number },
): Stack {
  const { limits, faults } = optionalLayers(shareOut(settings, workers), reuse);
  let builder = new ServiceBuilder<Connection, ConnectionReport>();
  if (shutdowns) builder = builder.layer(countShutdowns(shutdowns));
  builder = builder.layer(accessLog());
  for (const layer of limits) builder = builder.layer(layer);
  builder = builder.layer(
    timeout({ connect: settings.connectDeadline, idle: settings.idleTimeout }),
  );
  if (faults) builder = builder.layer(faults);
  const pool = poolFromFlags(settings);
  return {
    service: builder.service(forward({ balancer: pool, connect: connectFromFlags(settings) })),
    pool,
  };
}

/** Counts the connections that end with reason `shutdown`; the access log inside it reports all. */
function countShutdowns(ended: { count: number }): Layer<Connection, ConnectionReport> {
  return (inner) =>
    async function countShutdowns(connection) {
      const report = await inner(connection);
      if (report.reason === "shutdown") ended.count++;
      return report;
    };
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
