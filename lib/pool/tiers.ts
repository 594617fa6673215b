/**
 * A pool's tiers: which upstreams can take a connection now, primaries before backups, each tier
 * ordered by its own instance of the balancing algorithm.
 *
 * @module
 */

import type { Algorithm, AlgorithmFactory } from "../balance/algorithm.ts";
import type { Connection } from "../connection.ts";
import type { Upstream } from "./upstream.ts";

/**
 * The available upstreams of a pool, split into primaries and backups. The arrays are replaced,
 * never changed, so an algorithm can cache what it derives from one.
 */
export class Tiers {
  #primaries: readonly Upstream[] = [];
  #backups: readonly Upstream[] = [];
  #fallback: readonly Upstream[] = [];
  readonly #primaryOrder: Algorithm;
  readonly #backupOrder: Algorithm;

  /**
   * @param balance Makes the algorithm, once per tier.
   */
  constructor(balance: AlgorithmFactory) {
    this.#primaryOrder = balance();
    this.#backupOrder = balance();
  }

  /**
   * Works the tiers out again after a change.
   *
   * @param all Every upstream of the pool, in list order.
   */
  refresh(all: readonly Upstream[]): void {
    const available = all.filter((upstream) => upstream.state === "up");
    this.#primaries = available.filter((upstream) => !upstream.backup);
    this.#backups = available.filter((upstream) => upstream.backup);
    // With nothing available, try everything not draining rather than refuse every client.
    this.#fallback = available.length > 0 ? [] : all.filter((upstream) => !upstream.draining);
  }

  /** Whether `upstream` is offered now. */
  offers(upstream: Upstream): boolean {
    return this.#primaries.includes(upstream) || this.#backups.includes(upstream);
  }

  /**
   * The candidates for a connection: available primaries in the algorithm's order, then available
   * backups; or, when none is available, every upstream that is not draining, in list order.
   *
   * @param connection The connection, for algorithms that look at its client.
   */
  *pick(connection?: Connection): Generator<Upstream> {
    // The tiers as they are now: a candidate that fails while this pick is walked may leave the
    // tiers empty, and must not come back as the fallback of the same pick.
    const primaries = this.#primaries;
    const backups = this.#backups;
    if (primaries.length === 0 && backups.length === 0) {
      yield* this.#fallback;
      return;
    }
    if (primaries.length > 0) yield* this.#primaryOrder.order(primaries, connection);
    if (backups.length > 0) yield* this.#backupOrder.order(backups, connection);
  }
}
