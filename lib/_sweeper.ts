/**
 * Private: timeouts of one length checked by one interval timer, not a timer each. At tens of
 * thousands of requests or connects a second a `setTimeout` each costs microseconds; a set of
 * entries swept every twentieth of the timeout (at most a second) costs next to nothing, and fires
 * at most that much late. The HTTP server's, proxy's and timeout layer's timeouts and the connect
 * tries' deadlines all use it.
 *
 * @module
 */

/** Something that times out: when, and what to do then. */
export interface Timed {
  /** When it times out, from `performance.now()`; set by {@linkcode Sweeper.prototype.add}. */
  expires: number;
  /**
   * A signal that ends the wait early: once it has aborted, the next sweep fires the entry with
   * its reason. Cheaper than a listener on it per entry, for waits that mostly end on their own.
   */
  watch?: AbortSignal;
  /**
   * Called once when it times out (without a reason) or its `watch` aborted (with the signal's
   * reason), unless deleted first.
   */
  fire(reason?: unknown): void;
}

/** The entries under one timeout length, checked by one interval timer while any are left. */
export class Sweeper {
  readonly #ms: number;
  readonly #periodMs: number;
  readonly #entries = new Set<Timed>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** @param ms The timeout, in milliseconds. */
  constructor(ms: number) {
    this.#ms = ms;
    this.#periodMs = Math.max(5, Math.min(1_000, Math.floor(ms / 20)));
  }

  /** Starts `entry`'s timeout from now. */
  add(entry: Timed): void {
    entry.expires = performance.now() + this.#ms;
    this.#entries.add(entry);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#periodMs);
      Deno.unrefTimer(this.#timer); // what waits keeps the process alive, not its timeout
    }
  }

  /** Stops `entry`'s timeout. */
  delete(entry: Timed): void {
    this.#entries.delete(entry);
  }

  #sweep(): void {
    const now = performance.now();
    for (const entry of this.#entries) {
      const watch = entry.watch;
      if (watch?.aborted) {
        this.#entries.delete(entry);
        entry.fire(watch.reason);
      } else if (entry.expires <= now) {
        this.#entries.delete(entry);
        entry.fire();
      }
    }
    // Stopped by a sweep that leaves nothing to watch, not by the last delete: most waits end
    // within milliseconds, and an interval started and cleared for each would cost ~10 µs.
    if (this.#entries.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
