/**
 * Round-robin balancing, weighted smoothly as nginx does it.
 *
 * @module
 */

import type { Upstream } from "../pool/upstream.ts";
import type { Algorithm } from "./algorithm.ts";

/**
 * Smooth weighted round-robin (nginx's): every pick adds each upstream's weight to its running
 * score, takes the highest score and subtracts the total weight from it. Over a cycle each upstream
 * gets its weight's share, spread out rather than in runs: weights 5:1:1 give `a a b a c a a`. The
 * rest of the order, for failover, is the list from the one after the pick.
 *
 * @returns The algorithm.
 *
 * @example Weights 5:1:1, spread out
 * ```ts
 * import { roundRobin, Upstream } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const upstreams = [
 *   new Upstream({ address: "10.0.0.1:80", weight: 5 }),
 *   new Upstream({ address: "10.0.0.2:80" }),
 *   new Upstream({ address: "10.0.0.3:80" }),
 * ];
 * const algorithm = roundRobin();
 * const picks = Array.from({ length: 7 }, () => [...algorithm.order(upstreams)][0]);
 * assert.equal(picks.map(({ name }) => "abc"[Number(name.split(".")[3][0]) - 1]).join(" "), "a a b a c a a");
 * ```
 */
export function roundRobin(): Algorithm {
  let members: readonly Upstream[] = [];
  let scores = new Float64Array(0);
  return {
    *order(upstreams: readonly Upstream[]): Generator<Upstream> {
      if (upstreams !== members) {
        members = upstreams;
        scores = new Float64Array(upstreams.length);
      }
      let best = 0;
      let total = 0;
      for (let i = 0; i < upstreams.length; i++) {
        const weight = upstreams[i].effectiveWeight;
        scores[i] += weight;
        total += weight;
        if (scores[i] > scores[best]) best = i;
      }
      scores[best] -= total;
      for (let i = 0; i < upstreams.length; i++) yield upstreams[(best + i) % upstreams.length];
    },
  };
}
