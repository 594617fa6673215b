/**
 * Weighted least-connections balancing.
 *
 * @module
 */

import type { Upstream } from "../pool/upstream.ts";
import type { Algorithm } from "./algorithm.ts";

/**
 * Weighted least connections: each connection goes to the upstream that would be least loaded for
 * its weight once it has it, the lowest `(active + 1) / effectiveWeight` (compared by cross
 * multiplication, so no division). Counting the new connection lets weights count when all are
 * idle: an idle upstream of weight 5 takes five connections before an idle one of weight 1 takes
 * its first. Ties are broken fairly: the search starts after the last upstream picked, so equally
 * loaded upstreams take turns. The rest of the order, for failover, is the other upstreams from
 * least to most loaded, sorted only if the caller asks for more than the first.
 *
 * @returns The algorithm.
 *
 * @example The upstream with the fewest connections for its weight goes first
 * ```ts
 * import { type Connection, leastConn, Upstream } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const upstreams = [
 *   new Upstream({ address: "10.0.0.1:80" }),
 *   new Upstream({ address: "10.0.0.2:80" }),
 *   new Upstream({ address: "10.0.0.3:80" }),
 * ];
 * const algorithm = leastConn();
 * const names = () => [...algorithm.order(upstreams)].map(({ name }) => name.slice(0, -3));
 * // All idle: they take turns.
 * assert.deepEqual([names()[0], names()[0], names()[0]], ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
 * // An upstream with open connections comes last; the idle ones still take turns.
 * upstreams[0].connections.add({} as Connection); // a stand-in: only the count matters here
 * assert.deepEqual(names(), ["10.0.0.2", "10.0.0.3", "10.0.0.1"]);
 * assert.deepEqual(names(), ["10.0.0.3", "10.0.0.2", "10.0.0.1"]);
 * ```
 */
export function leastConn(): Algorithm {
  let next = 0;
  return {
    *order(upstreams: readonly Upstream[]): Generator<Upstream> {
      const count = upstreams.length;
      const start = next % count;
      let best = start;
      let bestLoad = upstreams[start].active + 1;
      let bestWeight = upstreams[start].effectiveWeight;
      for (let i = 1; i < count; i++) {
        const index = (start + i) % count;
        const load = upstreams[index].active + 1;
        const weight = upstreams[index].effectiveWeight;
        if (load * bestWeight < bestLoad * weight) {
          best = index;
          bestLoad = load;
          bestWeight = weight;
        }
      }
      next = best + 1;
      yield upstreams[best];
      if (count === 1) return;
      // Only a failover gets here: order the others, keeping the fair start among equals.
      const rest: Upstream[] = [];
      for (let i = 1; i < count; i++) rest.push(upstreams[(best + i) % count]);
      yield* rest.sort(byLoad);
    },
  };
}

function byLoad(a: Upstream, b: Upstream): number {
  return (a.active + 1) * b.effectiveWeight - (b.active + 1) * a.effectiveWeight;
}
