/**
 * What a balancing algorithm is: a way to order a pool's available upstreams for one connection.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import type { Upstream } from "../pool/upstream.ts";

/**
 * A balancing algorithm, made fresh for each tier of each pool by its {@linkcode AlgorithmFactory}.
 * For each connection the pool calls `order` with the upstreams that can take it now; the first
 * yielded is the algorithm's choice and the rest are where the connection goes if that one fails
 * to connect. The pool hands over a new array whenever the set changes, so an algorithm may cache
 * what it derives from the array for as long as it gets the same one.
 *
 * @example An algorithm that always prefers the upstream with the highest weight
 * ```ts
 * import { type Algorithm, Pool, type Upstream } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const heaviest = (): Algorithm => ({
 *   order: (upstreams) => upstreams.toSorted((a: Upstream, b: Upstream) => b.weight - a.weight),
 * });
 * await using pool = new Pool({
 *   upstreams: [{ address: "10.0.0.1:80" }, { address: "10.0.0.2:80", weight: 5 }],
 *   balance: heaviest,
 * });
 * assert.deepEqual([...pool.pick()].map(({ name }) => name), ["10.0.0.2:80", "10.0.0.1:80"]);
 * ```
 */
export interface Algorithm {
  /**
   * Orders the upstreams for one connection, best first. Yields each at most once; it may stop
   * early, but should yield every upstream so that failover can reach them all.
   *
   * @param upstreams The upstreams available now, never empty, in the pool's order.
   * @param connection The connection, for algorithms that look at the client.
   */
  order(upstreams: readonly Upstream[], connection?: Connection): Iterable<Upstream>;
}

/**
 * Makes an {@linkcode Algorithm}. A pool calls it once per tier (primaries and backups), so state
 * such as a round-robin position is kept per tier.
 *
 * @example Ordering three upstreams with round-robin
 * ```ts
 * import { type AlgorithmFactory, roundRobin, Upstream } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const factory: AlgorithmFactory = roundRobin;
 * const upstreams = ["10.0.0.1:80", "10.0.0.2:80"].map((address) => new Upstream({ address }));
 * const algorithm = factory();
 * const first = () => [...algorithm.order(upstreams)][0].name;
 * assert.deepEqual([first(), first(), first()], ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.1:80"]);
 * ```
 */
export type AlgorithmFactory = () => Algorithm;
