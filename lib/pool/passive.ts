/**
 * Passive ejection, as nginx's `max_fails` and `fail_timeout`: an upstream that fails to accept
 * several connects in a row is left out for a while, without waiting for an active check.
 *
 * @module
 */

import { checkMs, checkWhole } from "../_util.ts";
import type { Upstream } from "./upstream.ts";

/**
 * Options for passive ejection.
 *
 * @example Eject after 3 failures within 30 s, for 30 s
 * ```ts
 * import type { PassiveOptions } from "@minginx/minginx";
 *
 * const options: PassiveOptions = { maxFails: 3, failTimeout: 30_000 };
 * ```
 */
export interface PassiveOptions {
  /**
   * How many connects in a row must fail within `failTimeout` to eject an upstream; 0 turns
   * passive ejection off. A successful connect starts the count again.
   *
   * @default {1}
   */
  maxFails?: number;
  /**
   * The window the failures must fall in, and how long an ejected upstream stays out, in
   * milliseconds. A passing active check brings it back sooner.
   *
   * @default {10_000}
   */
  failTimeout?: number;
}

interface Failures {
  count: number;
  since: number;
}

/**
 * Counts connect failures per upstream and ejects those that reach the limit. Cooldowns end
 * lazily, when the pool next picks, so no timer runs.
 */
export class PassiveEjection {
  readonly #maxFails: number;
  readonly #failTimeoutMs: number;
  readonly #failures = new Map<Upstream, Failures>();
  readonly #ejected = new Set<Upstream>();
  readonly #changed: (upstream: Upstream, ejected: boolean) => void;
  #nextExpiry = Infinity;

  /**
   * @param options The limits.
   * @param changed Called when an upstream is ejected or comes back.
   */
  constructor(options: PassiveOptions, changed: (upstream: Upstream, ejected: boolean) => void) {
    this.#maxFails = checkWhole(options.maxFails ?? 1, "max fails", 0);
    this.#failTimeoutMs = checkMs(options.failTimeout ?? 10_000, "fail timeout");
    this.#changed = changed;
  }

  /** A connect to `upstream` failed. */
  failed(upstream: Upstream): void {
    if (this.#maxFails === 0 || upstream.ejectedUntil > 0) return;
    const now = performance.now();
    let failures = this.#failures.get(upstream);
    if (!failures || now - failures.since > this.#failTimeoutMs) {
      failures = { count: 0, since: now };
      this.#failures.set(upstream, failures);
    }
    if (++failures.count < this.#maxFails) return;
    this.#failures.delete(upstream);
    upstream.ejectedUntil = now + this.#failTimeoutMs;
    this.#ejected.add(upstream);
    this.#nextExpiry = Math.min(this.#nextExpiry, upstream.ejectedUntil);
    this.#changed(upstream, true);
  }

  /** A connect to `upstream` succeeded: its failures no longer count. */
  succeeded(upstream: Upstream): void {
    if (this.#failures.size > 0) this.#failures.delete(upstream);
  }

  /** Brings back the upstreams whose cooldown has ended; cheap when none is due. */
  expire(): void {
    if (this.#ejected.size === 0) return;
    const now = performance.now();
    if (now < this.#nextExpiry) return;
    this.#nextExpiry = Infinity;
    for (const upstream of this.#ejected) {
      if (upstream.ejectedUntil <= now) this.clear(upstream);
      else this.#nextExpiry = Math.min(this.#nextExpiry, upstream.ejectedUntil);
    }
  }

  /** Brings `upstream` back if it is ejected: its cooldown ended or an active check passed. */
  clear(upstream: Upstream): void {
    this.#failures.delete(upstream);
    if (!this.#ejected.delete(upstream)) return;
    upstream.ejectedUntil = 0;
    this.#changed(upstream, false);
  }

  /** Drops what is kept about an upstream that left the pool. */
  forget(upstream: Upstream): void {
    this.#failures.delete(upstream);
    this.#ejected.delete(upstream);
  }
}
