/**
 * Building `GET /status`: the servers a proxy runs, read together with the counters of its
 * {@linkcode ProxyMetrics}.
 *
 * @module
 */

import type { ProxyMetrics } from "../metrics/proxy_metrics.ts";
import type { Pool } from "../pool/pool.ts";
import { discoveryOf } from "../discovery/follow.ts";
import type {
  ByteCounts,
  DiscoveryStatus,
  PoolStatus,
  ServersStatus,
  UpstreamStatus,
} from "./status_types.ts";

/** One server as the status shows it: its listeners and pools. */
export interface ServerView {
  /** Its name. */
  name: string;
  /** Its listeners, as `HOST:PORT`. */
  listeners: string[];
  /** Its pools, the default first, with the name of their balancing algorithm. */
  pools: { pool: Pool; balance: string }[];
}

/**
 * The status of a proxy's servers: their listeners and upstreams with their counters, which come
 * from `metrics` and so include what earlier configs counted.
 *
 * @param servers The servers running now.
 * @param metrics The proxy's metrics.
 * @returns The status.
 *
 * @example The status of a pool that no connection has used yet
 * ```ts
 * import { Pool, ProxyMetrics, statusOf } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ name: "web", upstreams: ["10.0.0.1:80"] });
 * const metrics = new ProxyMetrics();
 * metrics.balancer(pool);
 * const status = statusOf(
 *   [{ name: "web", listeners: ["127.0.0.1:8080"], pools: [{ pool, balance: "round_robin" }] }],
 *   metrics,
 * );
 * assert.equal(status.pools[0].upstreams[0].state, "up");
 * assert.equal(status.listeners[0].accepted, 0);
 * ```
 */
export function statusOf(
  servers: readonly ServerView[],
  metrics: ProxyMetrics,
): ServersStatus {
  metrics.sync();
  const value = (child: { value: number } | undefined) => child?.value ?? 0;
  const listeners = servers.flatMap(({ name, listeners }) =>
    listeners.map((address) => ({
      address,
      server: name,
      accepted: value(metrics.accepted.find(address)),
      active: value(metrics.active.find(address)),
      bytesUp: value(metrics.bytes.find(address, "up")),
      bytesDown: value(metrics.bytes.find(address, "down")),
    }))
  );
  const pools = servers.flatMap(({ name, pools }) =>
    pools.map(({ pool, balance }): PoolStatus => ({
      name: pool.name,
      server: name,
      balance,
      upstreams: pool.upstreams.map((upstream): UpstreamStatus => {
        const labels = [pool.name, upstream.name] as const;
        let connectErrors = 0;
        for (const [values, child] of metrics.connectErrors.entries()) {
          if (values[0] === labels[0] && values[1] === labels[1]) connectErrors += child.value;
        }
        return {
          address: upstream.name,
          state: upstream.state,
          healthy: upstream.healthy,
          weight: upstream.weight,
          backup: upstream.backup,
          active: value(metrics.upstreamActive.find(...labels)),
          connections: value(metrics.upstreamConnections.find(...labels)),
          connectErrors,
          bytesUp: value(metrics.upstreamBytes.find(...labels, "up")),
          bytesDown: value(metrics.upstreamBytes.find(...labels, "down")),
        };
      }),
      ...discoveryStatus(pool),
    }))
  );
  return { ...sum(listeners), listeners, pools };
}

/** The pool's discovery sources, if any follow it. */
function discoveryStatus(pool: Pool): { discovery?: DiscoveryStatus[] } {
  const states = discoveryOf(pool);
  if (!states) return {};
  return {
    discovery: states.map(({ name, upstreams, updates, failures, lastUpdate, lastError }) => ({
      source: name,
      upstreams,
      updates,
      failures,
      ...(lastUpdate ? { lastUpdate: lastUpdate.toISOString() } : {}),
      ...(lastError ? { lastError } : {}),
    })),
  };
}

/** Adds up the listeners' counters. */
function sum(
  listeners: readonly ({ accepted: number; active: number } & ByteCounts)[],
): { accepted: number; active: number } & ByteCounts {
  const total = { accepted: 0, active: 0, bytesUp: 0, bytesDown: 0 };
  for (const listener of listeners) {
    total.accepted += listener.accepted;
    total.active += listener.active;
    total.bytesUp += listener.bytesUp;
    total.bytesDown += listener.bytesDown;
  }
  return total;
}

/**
 * Adds up the status of several workers that run the same servers: counters are summed by
 * listener and by upstream; the rest (states, weights, the config) is the first worker's.
 *
 * @param statuses Each worker's status; at least one.
 * @returns The process's status.
 */
export function mergeStatuses(statuses: readonly ServersStatus[]): ServersStatus {
  const [first, ...rest] = statuses;
  const merged: ServersStatus = structuredClone(first);
  const listeners = new Map(merged.listeners.map((listener) => [listener.address, listener]));
  const upstreams = new Map(
    merged.pools.flatMap((pool) => pool.upstreams.map((u) => [`${pool.name} ${u.address}`, u])),
  );
  for (const status of rest) {
    for (const key of ["accepted", "active", "bytesUp", "bytesDown"] as const) {
      merged[key] += status[key];
    }
    for (const listener of status.listeners) {
      const into = listeners.get(listener.address);
      if (!into) continue;
      for (const key of ["accepted", "active", "bytesUp", "bytesDown"] as const) {
        into[key] += listener[key];
      }
    }
    for (const pool of status.pools) {
      for (const upstream of pool.upstreams) {
        const into = upstreams.get(`${pool.name} ${upstream.address}`);
        if (!into) continue;
        for (
          const key of ["active", "connections", "connectErrors", "bytesUp", "bytesDown"] as const
        ) {
          into[key] += upstream[key];
        }
      }
    }
  }
  return merged;
}
