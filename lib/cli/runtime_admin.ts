/**
 * What the admin API asks of a runtime: its servers as the status shows them, and the upstreams an
 * operator drained, which stay drained across reloads until they are enabled.
 *
 * @module
 */

import { formatAddress } from "../address.ts";
import { AdminError, type UpstreamAction } from "../admin/backend.ts";
import { type ServerView, statusOf } from "../admin/status.ts";
import type { ServersStatus, UpstreamStatus } from "../admin/status_types.ts";
import type { ProxyMetrics } from "../metrics/proxy_metrics.ts";
import type { ServerConfig } from "../config/config.ts";
import type { Pool } from "../pool/pool.ts";
import type { Server } from "../server.ts";
import type { Stack } from "./stack.ts";

/**
 * The servers of a runtime as the status shows them.
 *
 * @param running Each server's settings and stack.
 * @param listeners The open listeners, by the `HOST:PORT` of their config address.
 * @returns One view a server, in config order.
 */
function serverViews(
  running: Iterable<{ settings: ServerConfig; stack: Stack }>,
  listeners: ReadonlyMap<string, Server>,
): ServerView[] {
  return [...running].map(({ settings, stack }) => ({
    name: settings.name,
    listeners: settings.listen.map((address) =>
      // Port 0 in the config: the listener knows the port it got.
      formatAddress(listeners.get(formatAddress(address))?.address ?? address)
    ),
    pools: stack.pools.map((pool) => ({ pool, balance: settings.balance })),
  }));
}

/** What a runtime shows the admin API: its servers, now. */
export interface RuntimeView {
  /** Each server's settings and stack. */
  running(): Iterable<{ settings: ServerConfig; stack: Stack }>;
  /** The open listeners, by the `HOST:PORT` of their config address. */
  listeners(): ReadonlyMap<string, Server>;
}

/**
 * A runtime's side of the admin API: its status, and the upstreams an operator drained, which
 * stay drained across reloads until they are enabled.
 */
export class RuntimeAdmin {
  readonly #drained = new Set<string>();
  readonly #view: RuntimeView;
  /** Where the runtime counts connections. */
  readonly metrics: ProxyMetrics;

  /**
   * @param view The runtime's servers.
   * @param metrics Where it counts connections.
   */
  constructor(view: RuntimeView, metrics: ProxyMetrics) {
    this.#view = view;
    this.metrics = metrics;
  }

  /**
   * The status of the servers running now, from the metrics.
   *
   * @returns Their listeners and pools with their counters.
   */
  status(): ServersStatus {
    return statusOf(serverViews(this.#view.running(), this.#view.listeners()), this.metrics);
  }

  /**
   * Drains an upstream of a running pool, keeping it listed, or takes it back, and remembers it.
   *
   * @param poolName The pool's name.
   * @param address The upstream, as `HOST:PORT`.
   * @param action What to do.
   * @returns The upstream's status after the change.
   * @throws {AdminError} 404 if there is no such pool or upstream, naming those there are.
   */
  setUpstream(poolName: string, address: string, action: UpstreamAction): UpstreamStatus {
    const pools = [...this.#view.running()].flatMap(({ stack }) => stack.pools);
    const pool = pools.find(({ name }) => name === poolName);
    if (!pool) {
      const names = pools.map(({ name }) => `"${name}"`).join(", ");
      throw new AdminError(404, `No pool "${poolName}": expected one of ${names}`);
    }
    const upstream = pool.upstreams.find(({ name }) => name === address);
    if (!upstream) {
      const names = pool.upstreams.map(({ name }) => name).join(", ");
      throw new AdminError(404, `No upstream ${address} in pool "${poolName}": expected ${names}`);
    }
    const key = `${poolName} ${address}`;
    if (action === "drain") {
      this.#drained.add(key);
      pool.drain(upstream, { keep: true });
    } else {
      this.#drained.delete(key);
      pool.enable(upstream);
    }
    const status = this.status().pools.find(({ name }) => name === poolName);
    return status!.upstreams.find((each) => each.address === address)!;
  }

  /**
   * Drains again, in the pools a reload built, the upstreams drained before it.
   *
   * @param pools The new pools.
   */
  reapply(pools: readonly Pool[]): void {
    if (this.#drained.size === 0) return;
    for (const pool of pools) {
      for (const upstream of pool.upstreams) {
        if (this.#drained.has(`${pool.name} ${upstream.name}`)) {
          pool.drain(upstream, { keep: true });
        }
      }
    }
  }
}
