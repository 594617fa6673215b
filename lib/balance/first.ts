/**
 * First-available balancing: a fixed order of preference, for failover setups.
 *
 * @module
 */

import type { Algorithm } from "./algorithm.ts";

/**
 * First available: every connection goes to the first upstream in the list that can take it, and
 * the rest of the order is the rest of the list. The others only see connections while the ones
 * before them are down, draining or failing to connect: an active-passive pair without the
 * `backup` tier, or a chain of fallbacks in order of preference.
 *
 * @returns The algorithm.
 *
 * @example A primary and two fallbacks, tried in list order
 * ```ts
 * import { first, Upstream } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const upstreams = [
 *   new Upstream({ address: "10.0.0.1:80" }),
 *   new Upstream({ address: "10.0.0.2:80", weight: 10 }), // weights make no difference
 *   new Upstream({ address: "10.0.0.3:80" }),
 * ];
 * const algorithm = first();
 * const names = () => [...algorithm.order(upstreams)].map(({ name }) => name);
 * assert.deepEqual(names(), ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]);
 * assert.deepEqual(names(), ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]);
 * ```
 */
export function first(): Algorithm {
  return {
    order(upstreams) {
      return upstreams;
    },
  };
}
