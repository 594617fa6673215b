/**
 * The proxy the CLI runs, on the main thread or in each worker: the service stack its flags
 * describe, listening where they say.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { messageOf } from "../_util.ts";
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
  /** Reads the TLS certificate files again, for new connections; present with `--tls-cert`. */
  reloadCertificates?(): void;
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
  const stack = buildStack(options, sharing?.workers ?? 1, undefined, shutdowns);
  const { service } = stack;
  try {
    const server = serve({
      listen: options.listen,
      drainTimeout: options.drainTimeout,
      reusePort: sharing?.reusePort,
      connectionIds: sharing?.connectionIds,
      service,
    });
    // The health checks run for as long as connections may still need upstreams.
    server.finished.finally(() => Promise.all(stack.pools.map((pool) => pool.close())));
    return {
      server,
      counters: () => ({
        accepted: server.accepted,
        open: server.connections,
        closedByShutdown: shutdowns.count,
      }),
      reloadCertificates: stack.reloadCertificates,
    };
  } catch (error) {
    for (const pool of stack.pools) pool.close();
    throw error;
  }
}

/**
 * Reads the `--tls-cert` files again, as SIGHUP asks without a config file, and logs how it went:
 * on failure the certificates in use stay.
 *
 * @param reload The proxy's `reloadCertificates`, if it terminates TLS.
 * @param who Who reloads, for the log line: `""` or `"Worker 2: "`.
 */
export function reloadCertificates(reload: (() => void) | undefined, who = ""): void {
  const log = getLogger(["minginx"]);
  if (!reload) {
    log.warning("{who}SIGHUP reloads a --config file or --tls-cert files; there are neither", {
      who,
    });
    return;
  }
  try {
    reload();
    log.info("{who}Reloaded the TLS certificates, for new connections", { who });
  } catch (error) {
    log.error("{who}Cannot reload the TLS certificates, the old ones stay: {error}", {
      who,
      error: messageOf(error),
    });
  }
}
