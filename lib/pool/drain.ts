/**
 * Draining upstreams: waiting for their last connection to end, and closing the rest when the
 * deadline passes.
 *
 * @module
 */

import { formatDuration } from "../duration.ts";
import { ConnectionError } from "../report.ts";
import type { Upstream } from "./upstream.ts";

interface Drain {
  done: PromiseWithResolvers<void>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** The drains in progress in one pool. */
export class Drains {
  readonly #drains = new Map<Upstream, Drain>();
  readonly #leave: (upstream: Upstream) => void;

  /**
   * @param leave Takes a drained upstream out of the pool.
   */
  constructor(leave: (upstream: Upstream) => void) {
    this.#leave = leave;
  }

  /**
   * Starts draining `upstream`, or joins the drain already under way.
   *
   * @param upstream An upstream already marked as draining.
   * @param timeoutMs How long its connections may take; no limit if undefined.
   * @returns Resolves when it has left the pool, or the drain was cancelled.
   */
  start(upstream: Upstream, timeoutMs?: number): Promise<void> {
    let drain = this.#drains.get(upstream);
    if (!drain) {
      drain = { done: Promise.withResolvers(), timer: undefined };
      this.#drains.set(upstream, drain);
    }
    if (timeoutMs !== undefined && drain.timer === undefined) {
      drain.timer = setTimeout(() => {
        const cause = new ConnectionError(
          "drained",
          `Upstream ${upstream.name} was drained and its ${formatDuration(timeoutMs)} ran out`,
        );
        for (const connection of upstream.connections) connection.abort(cause);
      }, timeoutMs);
    }
    const { promise } = drain.done;
    this.check(upstream);
    return promise;
  }

  /** Ends the drain of `upstream` if its last connection has ended. */
  check(upstream: Upstream): void {
    if (upstream.active > 0 || !this.#drains.has(upstream)) return;
    this.cancel(upstream);
    this.#leave(upstream);
  }

  /** Stops draining `upstream`, resolving whoever waits. */
  cancel(upstream: Upstream): void {
    const drain = this.#drains.get(upstream);
    if (!drain) return;
    clearTimeout(drain.timer);
    this.#drains.delete(upstream);
    drain.done.resolve();
  }

  /** Cancels every drain. */
  close(): void {
    for (const upstream of [...this.#drains.keys()]) this.cancel(upstream);
  }
}
