/**
 * Token buckets by key, in bounded memory: the counting behind the rate limit layers.
 *
 * @module
 */

/**
 * Options for {@linkcode TokenBuckets}.
 *
 * @example Twenty a second with room for a burst of forty
 * ```ts
 * import { TokenBuckets, type TokenBucketsOptions } from "@minginx/minginx";
 *
 * const options: TokenBucketsOptions = { rate: 20, burst: 40 };
 * const buckets = new TokenBuckets(options);
 * ```
 */
export interface TokenBucketsOptions {
  /** Tokens each bucket gains per second, above 0, such as `0.5` for one every two seconds. */
  rate: number;
  /**
   * How many tokens a bucket holds, a whole number: the most a key can take at once after a
   * quiet spell. A new key starts with a full bucket.
   *
   * @default {Math.max(1, Math.ceil(rate))}
   */
  burst?: number;
  /**
   * The most keys to hold at once, up to 2^24 (16,777,216). A new key over it evicts the key
   * used least recently, which then starts again with a full bucket if it comes back.
   *
   * @default {100000}
   */
  maxKeys?: number;
  /**
   * The clock, in milliseconds; tests inject their own.
   *
   * @default {performance.now}
   */
  now?: () => number;
}

/** No slot: the end of a list. */
const NONE = -1;

/**
 * A token bucket for each key, such as a client address: each bucket holds up to `burst` tokens
 * and gains `rate` a second, and {@linkcode TokenBuckets.prototype.take} takes one if there is
 * one. Nothing runs in the background: no timers to stop, nothing that keeps a process alive.
 *
 * Memory stays bounded however many keys arrive. A bucket that has refilled is the same as a new
 * one, so it is dropped: keys are kept in order of last use, and a take first drops the oldest
 * while they are full (looking again only once the oldest kept could have refilled). So the keys
 * held are those used within the last `burst / rate` seconds, and never more than `maxKeys`; at
 * `maxKeys` a new key evicts the least recently used. A bucket is one number, the time it will
 * be full again (as in the generic cell rate algorithm), kept with its place in that order in
 * typed arrays: about 100 bytes a key, its text and map entry included (9.6 MB for 100,000 IPv4
 * keys). The arrays keep the size of the most keys held at once. Every operation takes
 * amortized constant time.
 *
 * @example Three at once, then one a second
 * ```ts
 * import { TokenBuckets } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * let clock = 0;
 * const buckets = new TokenBuckets({ rate: 1, burst: 3, now: () => clock });
 * assert.deepEqual([1, 2, 3, 4].map(() => buckets.take("10.0.0.1")), [true, true, true, false]);
 * assert.equal(buckets.take("10.0.0.2"), true); // another key, another bucket
 * clock += 1_000;
 * assert.equal(buckets.take("10.0.0.1"), true);
 * assert.equal(buckets.take("10.0.0.1"), false);
 * ```
 */
export class TokenBuckets {
  /** The most `maxKeys` can be: 2^24 (16,777,216), the most entries a `Map` holds in V8. */
  static readonly MAX_KEYS = 2 ** 24;

  /** Tokens each bucket gains per second. */
  readonly rate: number;
  /** How many tokens a bucket holds. */
  readonly burst: number;
  /** The most keys held at once. */
  readonly maxKeys: number;

  readonly #now: () => number;
  /** Milliseconds per token. */
  readonly #interval: number;
  /** How far ahead of now a bucket's full time may be for it to hold a token still. */
  readonly #tolerance: number;
  /** Each key's slot in the arrays below. */
  readonly #slots = new Map<string, number>();
  /** By slot: the key, and when its bucket will hold `burst` tokens again. */
  readonly #keys: string[] = [];
  #fullAt = new Float64Array(0);
  /** By slot: the slots used just before and just after, or the next free slot. */
  #older = new Int32Array(0);
  #newer = new Int32Array(0);
  #oldest = NONE;
  #newest = NONE;
  #free = NONE;
  /** Slots handed out so far, free or not. */
  #top = 0;
  /** Before this time the oldest bucket is not full, so there is nothing to drop. */
  #pruneAt = -Infinity;

  /**
   * Creates an empty set of buckets.
   *
   * @param options The rate, the burst and the bound on keys.
   * @throws {RangeError} If the rate is not a finite number above 0, the burst is not a whole
   * number of at least 1, or `maxKeys` is not a whole number from 1 to 2^24 (16,777,216).
   */
  constructor(options: TokenBucketsOptions) {
    const { rate, maxKeys = 100_000, now = () => performance.now() } = options;
    if (typeof rate !== "number" || !(rate > 0 && rate < Infinity && 1_000 / rate < Infinity)) {
      throw new RangeError(
        `Cannot use rate ${rate}: expected a finite number of tokens per second above 0`,
      );
    }
    const burst = options.burst ?? Math.max(1, Math.ceil(rate));
    if (!Number.isInteger(burst) || burst < 1) {
      throw new RangeError(`Cannot use burst ${burst}: expected a whole number of at least 1`);
    }
    if (!Number.isInteger(maxKeys) || maxKeys < 1 || maxKeys > TokenBuckets.MAX_KEYS) {
      throw new RangeError(
        `Cannot use maxKeys ${maxKeys}: expected a whole number from 1 to ${TokenBuckets.MAX_KEYS}`,
      );
    }
    this.rate = rate;
    this.burst = burst;
    this.maxKeys = maxKeys;
    this.#now = now;
    this.#interval = 1_000 / rate;
    // A hair of slack so that float sums of the interval do not refuse a token on the dot.
    this.#tolerance = (burst - 1 + 1e-9) * this.#interval;
  }

  /**
   * How many keys hold a bucket. Buckets that have refilled are dropped by later takes, so some
   * of these may be full already.
   */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * Takes a token from the key's bucket if it holds one.
   *
   * @param key Whose bucket, such as a client's address.
   * @returns Whether a token was taken; false means the key is over its rate.
   */
  take(key: string): boolean {
    const now = this.#now();
    if (now >= this.#pruneAt) this.#prune(now);
    let slot = this.#slots.get(key);
    if (slot === undefined) {
      slot = this.#add(key);
    } else if (slot !== this.#newest) {
      this.#unlink(slot);
      this.#append(slot);
    }
    const fullAt = this.#fullAt[slot];
    if (fullAt - now > this.#tolerance) return false;
    this.#fullAt[slot] = Math.max(fullAt, now) + this.#interval;
    return true;
  }

  /**
   * How many tokens the key's bucket holds now, fractions included, without taking any.
   *
   * @param key Whose bucket.
   * @returns From 0 to `burst`; `burst` for a key not seen lately.
   */
  tokens(key: string): number {
    const slot = this.#slots.get(key);
    const now = this.#now();
    if (slot === undefined || this.#fullAt[slot] <= now) return this.burst;
    return Math.max(0, this.burst - (this.#fullAt[slot] - now) / this.#interval);
  }

  /** Drops full buckets from the oldest end, up to the first that is not full. */
  #prune(now: number): void {
    while (this.#oldest !== NONE) {
      const fullAt = this.#fullAt[this.#oldest];
      if (fullAt > now) {
        this.#pruneAt = fullAt;
        return;
      }
      this.#remove(this.#oldest);
    }
    this.#pruneAt = -Infinity;
  }

  /** Gives a new key a slot with a full bucket, as the newest; at `maxKeys` evicts the oldest. */
  #add(key: string): number {
    if (this.#slots.size >= this.maxKeys) this.#remove(this.#oldest);
    let slot = this.#free;
    if (slot !== NONE) {
      this.#free = this.#newer[slot];
    } else {
      if (this.#top === this.#fullAt.length) this.#grow();
      slot = this.#top++;
    }
    this.#slots.set(key, slot);
    this.#keys[slot] = key;
    this.#fullAt[slot] = -Infinity;
    this.#append(slot);
    return slot;
  }

  #remove(slot: number): void {
    this.#unlink(slot);
    this.#slots.delete(this.#keys[slot]);
    this.#keys[slot] = "";
    this.#newer[slot] = this.#free;
    this.#free = slot;
  }

  #unlink(slot: number): void {
    const older = this.#older[slot];
    const newer = this.#newer[slot];
    if (older === NONE) this.#oldest = newer;
    else this.#newer[older] = newer;
    if (newer === NONE) this.#newest = older;
    else this.#older[newer] = older;
  }

  #append(slot: number): void {
    this.#older[slot] = this.#newest;
    this.#newer[slot] = NONE;
    if (this.#newest === NONE) this.#oldest = slot;
    else this.#newer[this.#newest] = slot;
    this.#newest = slot;
  }

  /** Doubles the arrays, up to `maxKeys` slots. */
  #grow(): void {
    const length = Math.min(this.maxKeys, Math.max(64, 2 * this.#fullAt.length));
    const grown = <T extends Float64Array | Int32Array>(array: T, bigger: T): T => {
      bigger.set(array);
      return bigger;
    };
    this.#fullAt = grown(this.#fullAt, new Float64Array(length));
    this.#older = grown(this.#older, new Int32Array(length));
    this.#newer = grown(this.#newer, new Int32Array(length));
  }
}
