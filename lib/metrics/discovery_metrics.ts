/**
 * Service discovery's metrics: each source's sets applied and failures, and how many upstreams
 * its last good set has, read from the pools at each scrape.
 *
 * @module
 */

import { discoveryOf } from "../discovery/follow.ts";
import type { Pool } from "../pool/pool.ts";
import type { Registry } from "./registry.ts";

/**
 * Defines the discovery metrics in `registry`, read at each scrape from the discovery that
 * follows each of `pools()`. The counters never go back: a reload's new pool adds what its own
 * discovery did since it started.
 *
 * @param registry Where to define them.
 * @param pools The pools to read, such as {@linkcode ProxyMetrics.prototype.pools}.
 * @throws {TypeError} If the registry already has a metric of one of their names.
 *
 * @example The metrics of a pool that one source follows
 * ```ts
 * import { discover, discoveryMetrics, Pool, Registry } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * await using pool = new Pool({ name: "web", upstreams: [] });
 * discoveryMetrics(registry, () => [pool]);
 * async function* registryOfServices() {
 *   yield ["10.0.0.1:80", "10.0.0.2:80"];
 * }
 * await using discovered = discover(pool, { sources: { services: registryOfServices() } });
 * await discovered.ready;
 * assert.match(
 *   registry.render(),
 *   /^minginx_discovery_upstreams\{pool="web",source="services"\} 2$/m,
 * );
 * ```
 */
export function discoveryMetrics(registry: Registry, pools: () => Iterable<Pool>): void {
  const labelNames = ["pool", "source"];
  const updates = registry.counter({
    name: "minginx_discovery_updates_total",
    help: "Upstream sets a discovery source delivered that changed its pool.",
    labelNames,
  });
  const failures = registry.counter({
    name: "minginx_discovery_failures_total",
    help: "Failed discovery queries (errors, empty or malformed sets); the last good set is kept.",
    labelNames,
  });
  const upstreams = registry.gauge({
    name: "minginx_discovery_upstreams",
    help: "Upstreams in a discovery source's last good set.",
    labelNames,
    merge: "max",
  });
  const seen = new WeakMap<Pool, Map<string, { updates: number; failures: number }>>();
  registry.addCollector(() => {
    upstreams.clear();
    for (const pool of pools()) {
      const states = discoveryOf(pool);
      if (!states) continue;
      let counted = seen.get(pool);
      if (!counted) seen.set(pool, counted = new Map());
      for (const state of states) {
        const before = counted.get(state.name) ?? { updates: 0, failures: 0 };
        updates.labels(pool.name, state.name).inc(state.updates - before.updates);
        failures.labels(pool.name, state.name).inc(state.failures - before.failures);
        counted.set(state.name, { updates: state.updates, failures: state.failures });
        upstreams.labels(pool.name, state.name).set(state.upstreams);
      }
    }
  });
}
