/**
 * What the admin API reads and changes: the contract between its HTTP server and whatever runs
 * the proxy (one runtime, or a group of workers).
 *
 * @module
 */

import type { ProxyStatus, UpstreamStatus } from "./status_types.ts";

/** What `POST /upstreams/{pool}/{address}/{action}` does to an upstream. */
export type UpstreamAction = "drain" | "enable";

/**
 * What the admin API serves. Each method may answer at once or later (a group of workers asks
 * each of them).
 *
 * @example A backend over one pool, served
 * ```ts
 * import {
 *   type AdminBackend, AdminError, Pool, ProxyMetrics, type ProxyStatus, serveAdmin, statusOf,
 * } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ name: "web", upstreams: ["10.0.0.1:80"] });
 * const metrics = new ProxyMetrics();
 * const _forwardTo = metrics.balancer(pool); // give this to forward()
 * const startedAt = new Date().toISOString();
 * const status = (): ProxyStatus => ({
 *   version: "0.1.0",
 *   startedAt,
 *   uptimeSeconds: 0,
 *   draining: false,
 *   workers: 1,
 *   config: { version: 1, loadedAt: startedAt, failedReloads: 0 },
 *   ...statusOf([{ name: "web", listeners: [], pools: [{ pool, balance: "round-robin" }] }], metrics),
 * });
 * const backend: AdminBackend = {
 *   metrics: () => metrics.registry.render(),
 *   status,
 *   upstream(poolName, address, action) {
 *     if (poolName !== pool.name || !pool.get(address)) {
 *       throw new AdminError(404, `No upstream ${address} in pool ${poolName}`);
 *     }
 *     if (action === "drain") pool.drain(address, { keep: true });
 *     else pool.enable(address);
 *     return status().pools[0].upstreams.find((upstream) => upstream.address === address)!;
 *   },
 * };
 * await using admin = serveAdmin({ listen: "127.0.0.1:0", backend });
 * const url = `http://127.0.0.1:${admin.address.port}/upstreams/web/10.0.0.1:80/drain`;
 * const response = await fetch(url, { method: "POST" });
 * assert.equal((await response.json()).state, "draining");
 * ```
 */
export interface AdminBackend {
  /** The Prometheus text exposition of the proxy's metrics. */
  metrics(): string | Promise<string>;
  /** The proxy's status. */
  status(): ProxyStatus | Promise<ProxyStatus>;
  /**
   * Drains an upstream (it keeps its place, takes no new connections, and its open ones finish),
   * or takes it back.
   *
   * @param pool The pool's name.
   * @param address The upstream's `HOST:PORT`.
   * @param action What to do.
   * @returns The upstream's status after the change.
   * @throws {AdminError} With status 404 if there is no such pool or upstream.
   */
  upstream(
    pool: string,
    address: string,
    action: UpstreamAction,
  ): UpstreamStatus | Promise<UpstreamStatus>;
}

/**
 * An error the admin API answers with its HTTP status and message, as JSON `{"error": message}`.
 *
 * @example
 * ```ts
 * import { AdminError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const error = new AdminError(404, 'No pool "api": expected one of web');
 * assert.equal(error.status, 404);
 * ```
 */
export class AdminError extends Error {
  /** The HTTP status to answer with. */
  readonly status: number;

  /**
   * @param status The HTTP status, 4xx.
   * @param message What is wrong, and what would be accepted.
   */
  constructor(status: number, message: string) {
    super(message);
    this.name = "AdminError";
    this.status = status;
  }
}
