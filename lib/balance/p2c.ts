/**
 * Power-of-two-random-choices balancing.
 *
 * @module
 */

import type { Upstream } from "../pool/upstream.ts";
import type { Algorithm } from "./algorithm.ts";

/**
 * Power of two random choices: for each connection two different upstreams are drawn at random
 * and the less loaded one for its weight goes first, the lower `(active + 1) / effectiveWeight`
 * (as {@linkcode leastConn} counts it), the first drawn on a tie. It spreads load almost as well as
 * least connections, and because the draw is random, balancers that each see only their own counts
 * (one per worker) do not all pile onto the same idle upstream. An upstream more loaded than all
 * the others is never the first choice. The rest of the order, for failover, is the other one drawn and then the others in list
 * order. With a single upstream, that one.
 *
 * @returns The algorithm.
 *
 * @example A loaded upstream is never the first choice
 * ```ts
 * import { type Connection, p2c, Upstream } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const upstreams = ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"].map((address) =>
 *   new Upstream({ address })
 * );
 * upstreams[0].connections.add({} as Connection); // a stand-in: only the count matters here
 * const algorithm = p2c();
 * for (let i = 0; i < 100; i++) {
 *   const order = [...algorithm.order(upstreams)];
 *   assert.notEqual(order[0], upstreams[0]);
 *   assert.equal(new Set(order).size, 3);
 * }
 * ```
 */
export function p2c(): Algorithm {
  return {
    *order(upstreams: readonly Upstream[]): Generator<Upstream> {
      const count = upstreams.length;
      if (count === 1) {
        yield upstreams[0];
        return;
      }
      const a = Math.floor(Math.random() * count);
      let b = Math.floor(Math.random() * (count - 1));
      if (b >= a) b++;
      const [one, two] = lessLoadedFirst(upstreams[a], upstreams[b]);
      yield one;
      yield two;
      for (let i = 0; i < count; i++) if (i !== a && i !== b) yield upstreams[i];
    },
  };
}

function lessLoadedFirst(a: Upstream, b: Upstream): [Upstream, Upstream] {
  const aLoad = (a.active + 1) * b.effectiveWeight;
  const bLoad = (b.active + 1) * a.effectiveWeight;
  return bLoad < aLoad ? [b, a] : [a, b];
}
