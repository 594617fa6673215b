/**
 * What a {@linkcode Pool} is made of: its upstreams, algorithm, health checks and slow start.
 *
 * @module
 */

import type { Address } from "../address.ts";
import type { AlgorithmFactory } from "../balance/algorithm.ts";
import type { HealthCheck } from "../health/check.ts";
import type { HealthOptions } from "../health/checker.ts";
import type { PassiveOptions } from "./passive.ts";
import type { UpstreamSpec } from "./upstream.ts";

/**
 * Options for a {@linkcode Pool}.
 *
 * @example Three upstreams, one a backup, with health checks
 * ```ts
 * import { leastConn, type PoolOptions, tcpCheck } from "@minginx/minginx";
 *
 * const options: PoolOptions = {
 *   upstreams: ["10.0.0.1:80", { address: "10.0.0.2:80", weight: 2 }, { address: "10.0.0.3:80", backup: true }],
 *   balance: leastConn,
 *   healthCheck: tcpCheck(),
 *   health: { interval: 2_000, rise: 2, fall: 3 },
 *   slowStart: 10_000,
 * };
 * ```
 */
export interface PoolOptions extends PassiveOptions {
  /** The upstreams, as `HOST:PORT` text, addresses, or specs with a weight and tier. */
  upstreams: readonly (string | Address | UpstreamSpec)[];
  /**
   * The balancing algorithm.
   *
   * @default {roundRobin}
   */
  balance?: AlgorithmFactory;
  /** An active health check run against each upstream; none if absent. */
  healthCheck?: HealthCheck;
  /** How often the health check runs and how many results flip an upstream's state. */
  health?: HealthOptions;
  /**
   * Over how many milliseconds a recovered upstream's weight ramps up from 1% to all of it.
   *
   * @default {0}
   */
  slowStart?: number;
  /**
   * The pool's name in log messages.
   *
   * @default {"default"}
   */
  name?: string;
}
