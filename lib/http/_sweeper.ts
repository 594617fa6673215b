/**
 * Private: timeouts of one length checked by one interval timer, not a timer each. At tens of
 * thousands of requests a second a `setTimeout` per request costs microseconds each; a set of
 * entries swept every twentieth of the timeout costs next to nothing, and fires at most that
 * much late.
 *
 * @module
 */

/** Something that times out: when, and what to do then. */
export interface Timed {
  /** When it times out, from `performance.now()`; set by {@linkcode Sweeper.prototype.add}. */
  expires: number;
  /** Called once when it times out, unless deleted first. */
  fire(): void;
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
      if (entry.expires > now) continue;
      this.#entries.delete(entry);
      entry.fire();
    }
    if (this.#entries.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
