/**
 * Weighted random balancing.
 *
 * @module
 */

import type { Upstream } from "../pool/upstream.ts";
import type { Algorithm } from "./algorithm.ts";

/**
 * Weighted random: each connection goes to an upstream drawn at random with probability in
 * proportion to its `effectiveWeight` (so a slow start is followed), keeping no state between
 * connections. The rest of the order, for failover, is the list from the one after the pick.
 *
 * @returns The algorithm.
 *
 * @example Weights 3:1 give about three quarters of connections to the first upstream
 * ```ts
 * import { random, Upstream } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const upstreams = [
 *   new Upstream({ address: "10.0.0.1:80", weight: 3 }),
 *   new Upstream({ address: "10.0.0.2:80" }),
 * ];
 * const algorithm = random();
 * let heavy = 0;
 * for (let i = 0; i < 4_000; i++) {
 *   const [pick, other] = algorithm.order(upstreams);
 *   assert.notEqual(pick, other);
 *   if (pick === upstreams[0]) heavy++;
 * }
 * assert.ok(heavy > 2_700 && heavy < 3_300, `${heavy} of 4000 picks went to weight 3`);
 * ```
 */
export function random(): Algorithm {
  return {
    *order(upstreams: readonly Upstream[]): Generator<Upstream> {
      const count = upstreams.length;
      let total = 0;
      for (const upstream of upstreams) total += upstream.effectiveWeight;
      let point = Math.random() * total;
      let pick = count - 1;
      for (let i = 0; i < count - 1; i++) {
        point -= upstreams[i].effectiveWeight;
        if (point < 0) {
          pick = i;
          break;
        }
      }
      for (let i = 0; i < count; i++) yield upstreams[(pick + i) % count];
    },
  };
}
