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
  /** Whether the upstream stays in the pool, draining, once its connections have ended. */
  keep: boolean;
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
   * @param keep Keep it in the pool once its connections have ended, until it is enabled; a
   * drain that would take it out wins over one that keeps it.
   * @returns Resolves when its last connection has ended, or the drain was cancelled.
   */
  start(upstream: Upstream, timeoutMs?: number, keep = false): Promise<void> {
    let drain = this.#drains.get(upstream);
    if (!drain) {
      drain = { done: Promise.withResolvers(), timer: undefined, keep };
      this.#drains.set(upstream, drain);
    }
    drain.keep &&= keep;
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
    const drain = this.#drains.get(upstream);
    if (upstream.active > 0 || drain === undefined) return;
    if (drain.keep) {
      clearTimeout(drain.timer);
      drain.timer = undefined;
      drain.done.resolve();
      return;
    }
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
