/**
 * The balancing algorithms by name, as `--balance` and the config file name them. A new algorithm
 * is its own file and one line here.
 *
 * @module
 */

import type { AlgorithmFactory } from "./algorithm.ts";
import { first } from "./first.ts";
import { hash } from "./hash.ts";
import { leastConn } from "./least_conn.ts";
import { p2c } from "./p2c.ts";
import { random } from "./random.ts";
import { roundRobin } from "./round_robin.ts";

/**
 * Every built-in balancing algorithm, by the name `--balance` takes.
 *
 * @example Choosing an algorithm by name
 * ```ts
 * import { ALGORITHMS, Pool } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(Object.keys(ALGORITHMS), ["round-robin", "least-conn", "p2c", "random", "first", "hash"]);
 * await using pool = new Pool({ upstreams: ["10.0.0.1:80"], balance: ALGORITHMS["least-conn"] });
 * ```
 */
export const ALGORITHMS = {
  "round-robin": roundRobin,
  "least-conn": leastConn,
  "p2c": p2c,
  "random": random,
  "first": first,
  "hash": hash,
} as const satisfies Record<string, AlgorithmFactory>;

/**
 * The name of a built-in balancing algorithm.
 *
 * @example
 * ```ts
 * import type { AlgorithmName } from "@minginx/minginx";
 *
 * const name: AlgorithmName = "least-conn";
 * ```
 */
export type AlgorithmName = keyof typeof ALGORITHMS;
