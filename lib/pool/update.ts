/**
 * Replacing a pool's upstreams with a new set in one step, as service discovery does: the
 * upstreams that stay keep their state and connections, new ones join, and those left out drain.
 *
 * @module
 */

import type { Address } from "../address.ts";
import type { Pool } from "./pool.ts";
import { Upstream, type UpstreamSpec } from "./upstream.ts";

/** What {@linkcode Pool.prototype.update} changed, by upstream name. */
export interface UpstreamChanges {
  /** Upstreams that joined. */
  added: string[];
  /** Upstreams left out, now draining until their open connections end. */
  removed: string[];
  /** Upstreams that stayed with another weight or tier. */
  changed: string[];
}

/** Upstreams draining because an update left them out, and not because an operator asked. */
const dropped = new WeakSet<Upstream>();

/**
 * Makes `pool`'s upstreams the set `specs`, as {@linkcode Pool.prototype.update} does: new ones
 * join (through slow start when it is on), those left out drain and leave once their open
 * connections have ended, and those that stay take the spec's weight and tier. One left out
 * earlier that comes back before it has left is taken back; one an operator drained stays
 * drained. Everything happens in one synchronous step, so no connection sees half of it.
 *
 * @example Discovery's answer changes
 * ```ts
 * import { Pool } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ upstreams: ["10.0.0.1:80", "10.0.0.2:80"] });
 * const changes = pool.update(["10.0.0.2:80", { address: "10.0.0.3:80", weight: 2 }]);
 * assert.deepEqual(changes, { added: ["10.0.0.3:80"], removed: ["10.0.0.1:80"], changed: [] });
 * assert.deepEqual(pool.upstreams.map(({ name }) => name), ["10.0.0.2:80", "10.0.0.3:80"]);
 * ```
 *
 * @param pool The pool.
 * @param slowStartMs The pool's slow start: new upstreams ramp up over it, unless the pool had
 * none before; 0 for none.
 * @param specs The whole set.
 * @returns What changed.
 * @throws {TypeError} If a spec is malformed; nothing changes then.
 */
export function updatePool(
  pool: Pool,
  slowStartMs: number,
  specs: readonly (string | Address | UpstreamSpec)[],
): UpstreamChanges {
  // Parse every spec before changing anything, so a bad one changes nothing.
  const wanted = new Map<string, Upstream>();
  for (const spec of specs) {
    const upstream = Upstream.from(spec);
    if (!wanted.has(upstream.name)) wanted.set(upstream.name, upstream);
  }
  const changes: UpstreamChanges = { added: [], removed: [], changed: [] };
  const had = pool.upstreams.length > 0;
  for (const upstream of pool.upstreams) {
    const next = wanted.get(upstream.name);
    wanted.delete(upstream.name);
    if (!next) {
      if (dropped.has(upstream)) continue;
      dropped.add(upstream);
      changes.removed.push(upstream.name);
      // Leaves once its connections have ended, even if an operator drained it to keep it.
      pool.drain(upstream);
      continue;
    }
    if (dropped.delete(upstream)) pool.enable(upstream);
    if (next.weight === upstream.weight && next.backup === upstream.backup) continue;
    changes.changed.push(upstream.name);
    upstream.backup = next.backup;
    pool.setWeight(upstream, next.weight);
  }
  for (const upstream of wanted.values()) {
    changes.added.push(upstream.name);
    const { weight, backup } = upstream;
    const added = pool.add({ address: upstream, weight, backup });
    if (had && slowStartMs > 0) added.slowStart(slowStartMs);
  }
  return changes;
}
