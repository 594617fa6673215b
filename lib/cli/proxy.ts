/**
 * The proxy the CLI runs, on the main thread or in each worker: the service stack its flags
 * describe, listening where they say.
 *
 * @module
 */

import { serve } from "../serve.ts";
import type { Server } from "../server.ts";
import type { CliOptions } from "./args.ts";
import { buildStack, type StackSettings } from "./stack.ts";

/** What a worker's proxy needs beyond the flags: how it shares the port with the others. */
export interface Sharing {
  /** Bind with SO_REUSEPORT. */
  reusePort: boolean;
  /** This proxy numbers its connections from `first` by `step`. */
  connectionIds: { first: number; step: number };
  /** How many proxies share the port: `--max-connections` and `--queue` are split among them. */
  workers: number;
}

/** A proxy's counters: what the supervisor adds up over the workers. */
export interface ProxyCounters {
  /** Connections accepted so far. */
  accepted: number;
  /** Connections open now. */
  open: number;
  /**
   * Connections a shutdown closed (reason `shutdown`): still open when the drain ran out, or when
   * a second signal came.
   */
  closedByShutdown: number;
}

/** The proxy the CLI runs: its server, and its counters. */
export interface CliProxy {
  /** The running server; `shutdown(ms)` drains it. */
  readonly server: Server;
  /** The counters now. */
  counters(): ProxyCounters;
}

/**
 * Starts the stack the flags describe on the listen address: the access log, the access rules
 * and limits that were asked for, the timeouts, any faults, and forward over the flags' pool,
 * whose health checks stop when the server has finished. A shutdown drains it for
 * `--drain-timeout` unless told otherwise.
 *
 * @param options The parsed flags.
 * @param sharing Set when several workers share the port.
 * @returns The running proxy.
 * @throws {Deno.errors.AddrInUse} And other listen errors, naming the address.
 */
export function startProxy(
  options: Pick<CliOptions, "listen" | "drainTimeout"> & StackSettings,
  sharing?: Sharing,
): CliProxy {
  const shutdowns = { count: 0 };
  const { service, pool } = buildStack(options, sharing?.workers ?? 1, undefined, shutdowns);
  try {
    const server = serve({
      listen: options.listen,
      drainTimeout: options.drainTimeout,
      reusePort: sharing?.reusePort,
      connectionIds: sharing?.connectionIds,
      service,
    });
    // The health checks run for as long as connections may still need upstreams.
    server.finished.finally(() => pool.close());
    return {
      server,
      counters: () => ({
        accepted: server.accepted,
        open: server.connections,
        closedByShutdown: shutdowns.count,
      }),
    };
  } catch (error) {
    pool.close();
    throw error;
  }
}
