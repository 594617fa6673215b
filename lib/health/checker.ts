/**
 * Running a pool's active health check: on an interval, against every upstream, with a timeout,
 * and flipping an upstream's state only after `rise` passes or `fall` failures in a row.
 *
 * @module
 */

import { checkWhole, messageOf } from "../_util.ts";
import type { Upstream } from "../pool/upstream.ts";
import type { HealthCheck } from "./check.ts";

/**
 * How often a pool's health check runs and how many results in a row change an upstream's state,
 * as HAProxy's `inter`, `timeout check`, `rise` and `fall`.
 *
 * @example HAProxy's defaults, with a shorter timeout
 * ```ts
 * import type { HealthOptions } from "@minginx/minginx";
 *
 * const options: HealthOptions = { interval: 2_000, timeout: 500, rise: 2, fall: 3 };
 * ```
 */
export interface HealthOptions {
  /**
   * Milliseconds from the start of one round of checks to the start of the next; a round that
   * takes longer delays the next.
   *
   * @default {2_000}
   */
  interval?: number;
  /**
   * Milliseconds a check may take before it counts as failed.
   *
   * @default {1_000}
   */
  timeout?: number;
  /**
   * Passes in a row that bring a down upstream back.
   *
   * @default {2}
   */
  rise?: number;
  /**
   * Failures in a row that take an upstream down.
   *
   * @default {3}
   */
  fall?: number;
}

/** What the checker works on, given by its pool. */
export interface CheckTarget {
  /** The upstreams to check now. */
  upstreams(): readonly Upstream[];
  /** A check passed; passive ejection may end. */
  passed(upstream: Upstream): void;
  /** An upstream's health flipped; `why` says what the checks found. */
  changed(upstream: Upstream, why: string): void;
}

interface Streak {
  passes: number;
  failures: number;
}

/** Runs one pool's health check until closed. */
export class HealthChecker {
  readonly #check: HealthCheck;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #rise: number;
  readonly #fall: number;
  readonly #target: CheckTarget;
  readonly #streaks = new WeakMap<Upstream, Streak>();
  readonly #stop = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #round: Promise<void> | undefined;

  /**
   * Starts checking at once.
   *
   * @param check The check to run.
   * @param options Interval, timeout and thresholds.
   * @param target The pool's upstreams and where results go.
   * @throws {RangeError} If an option is out of range.
   */
  constructor(check: HealthCheck, options: HealthOptions, target: CheckTarget) {
    this.#check = check;
    this.#intervalMs = checkWhole(options.interval ?? 2_000, "health check interval", 1, " ms");
    this.#timeoutMs = checkWhole(options.timeout ?? 1_000, "health check timeout", 1, " ms");
    this.#rise = checkWhole(options.rise ?? 2, "health check rise", 1);
    this.#fall = checkWhole(options.fall ?? 3, "health check fall", 1);
    this.#target = target;
    this.#schedule(0);
  }

  /** Stops checking and waits for the checks in progress, which are aborted. */
  async close(): Promise<void> {
    this.#stop.abort();
    clearTimeout(this.#timer);
    await this.#round;
  }

  #schedule(delayMs: number): void {
    if (this.#stop.signal.aborted) return;
    this.#timer = setTimeout(() => {
      const started = performance.now();
      this.#round = this.#runRound().then(() => {
        this.#schedule(Math.max(0, this.#intervalMs - (performance.now() - started)));
      });
    }, delayMs);
  }

  async #runRound(): Promise<void> {
    await Promise.all(this.#target.upstreams().map((upstream) => this.#checkOne(upstream)));
  }

  async #checkOne(upstream: Upstream): Promise<void> {
    const signal = AbortSignal.any([this.#stop.signal, AbortSignal.timeout(this.#timeoutMs)]);
    let failure: string | undefined;
    try {
      await this.#check(upstream, signal);
    } catch (error) {
      failure = signal.aborted ? `no answer within ${this.#timeoutMs} ms` : messageOf(error);
    }
    if (this.#stop.signal.aborted) return;
    let streak = this.#streaks.get(upstream);
    if (!streak) this.#streaks.set(upstream, streak = { passes: 0, failures: 0 });
    if (failure === undefined) {
      streak.failures = 0;
      streak.passes++;
      this.#target.passed(upstream);
      if (!upstream.healthy && streak.passes >= this.#rise) {
        upstream.healthy = true;
        this.#target.changed(upstream, `${streak.passes} health checks passed`);
      }
    } else {
      streak.passes = 0;
      streak.failures++;
      if (upstream.healthy && streak.failures >= this.#fall) {
        upstream.healthy = false;
        this.#target.changed(upstream, `${streak.failures} health checks failed: ${failure}`);
      }
    }
  }
}
