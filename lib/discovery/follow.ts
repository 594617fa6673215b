/**
 * Following discovery sources into a pool: each new set replaces the source's last one, and the
 * pool becomes its fixed upstreams plus every source's last good set, in one step.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { messageOf, sleep } from "../_util.ts";
import type { Pool } from "../pool/pool.ts";
import type { DiscoveredUpstream, Discovery } from "./discovery.ts";

const log = getLogger(["minginx", "discovery"]);

/** Options for {@linkcode discover}. */
export interface DiscoverOptions {
  /** The sources, by name (the name shows in logs, metrics and the status). */
  sources: Record<string, Discovery>;
  /** Upstreams the pool always has besides the discovered ones. */
  upstreams?: readonly DiscoveredUpstream[];
  /** Each source's last known set, applied at once: from before a reload, or a first query. */
  seeds?: Record<string, readonly DiscoveredUpstream[]>;
  /**
   * How long to wait before asking a failed source again, in milliseconds.
   *
   * @default {5000}
   */
  retry?: number;
  /** Stops following; {@linkcode Discovered.close} does too. */
  signal?: AbortSignal;
  /** Called with each set a source delivers that the pool took, e.g. to keep it for a reload. */
  onSet?: (source: string, set: readonly DiscoveredUpstream[]) => void;
}

/** What one source has done, for the status and the metrics. */
export interface SourceState {
  /** The source's name. */
  name: string;
  /** How many upstreams its last good set has. */
  upstreams: number;
  /** Sets applied to the pool. */
  updates: number;
  /** Failed queries: errors, and empty or malformed sets. */
  failures: number;
  /** When the last set was applied. */
  lastUpdate?: Date;
  /** The last failure's message, if the source failed since its last good set. */
  lastError?: string;
}

const followed = new WeakMap<Pool, Discovered>();

/**
 * What each discovery source of a pool has done, or `undefined` if no {@linkcode discover}
 * follows the pool.
 *
 * @param pool The pool.
 * @returns One state a source, in the order given.
 *
 * @example A pool nothing discovers
 * ```ts
 * import { discoveryOf, Pool } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ upstreams: ["10.0.0.1:80"] });
 * assert.equal(discoveryOf(pool), undefined);
 * ```
 */
export function discoveryOf(pool: Pool): readonly SourceState[] | undefined {
  return followed.get(pool)?.sources;
}

/**
 * Follows discovery sources into `pool` until closed. Each set a source yields replaces its
 * last one, and the pool's upstreams become the fixed `upstreams` plus every source's last good
 * set, through {@linkcode Pool.prototype.update}: new upstreams join, those gone drain, and open
 * connections are never disturbed. A source that throws, or yields an empty or malformed set, is
 * logged and counted, keeps its last good set, and is asked again after `retry` ms.
 *
 * @param pool The pool to keep up to date.
 * @param options The sources, and what else the pool has.
 * @returns A handle that shows each source's state and stops following when closed.
 *
 * @example Follow a source that yields two sets
 * ```ts
 * import { discover, Pool } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * async function* registry() { // a generator: it cannot start over if it throws
 *   yield ["10.0.0.1:80"];
 *   yield ["10.0.0.1:80", "10.0.0.2:80"];
 * }
 * await using pool = new Pool({ upstreams: [] });
 * await using discovered = discover(pool, { sources: { registry: registry() } });
 * await discovered.ready;
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * assert.deepEqual(pool.upstreams.map(({ name }) => name), ["10.0.0.1:80", "10.0.0.2:80"]);
 * assert.equal(discovered.sources[0].updates, 2);
 * ```
 */
export function discover(pool: Pool, options: DiscoverOptions): Discovered {
  return new Discovered(pool, options);
}

/** A running {@linkcode discover}: each source's state, and a way to stop. */
export class Discovered implements AsyncDisposable {
  readonly #pool: Pool;
  readonly #options: DiscoverOptions;
  readonly #sets = new Map<string, readonly DiscoveredUpstream[]>();
  readonly #states = new Map<string, SourceState>();
  readonly #stop = new AbortController();
  readonly #running: Promise<void>;
  /** Settles once every source has delivered its first set or failed once. */
  readonly ready: Promise<void>;

  /**
   * @param pool The pool.
   * @param options The sources, and what else the pool has.
   */
  constructor(pool: Pool, options: DiscoverOptions) {
    this.#pool = pool;
    this.#options = options;
    const signal = AbortSignal.any([this.#stop.signal, ...options.signal ? [options.signal] : []]);
    for (const name of Object.keys(options.sources)) {
      this.#states.set(name, { name, upstreams: 0, updates: 0, failures: 0 });
      const seed = options.seeds?.[name];
      if (seed && seed.length > 0) {
        this.#sets.set(name, seed);
        this.#states.get(name)!.upstreams = seed.length;
      }
    }
    if (this.#sets.size > 0) this.#apply();
    followed.set(pool, this);
    const firsts: Promise<void>[] = [];
    this.#running = Promise.all(
      Object.entries(options.sources).map(([name, source]) => {
        const first = Promise.withResolvers<void>();
        firsts.push(first.promise);
        return this.#follow(name, source, signal, first.resolve);
      }),
    ).then(() => {});
    this.ready = Promise.all(firsts).then(() => {});
  }

  /** Each source's state, in the order given. */
  get sources(): SourceState[] {
    return [...this.#states.values()].map((state) => ({ ...state }));
  }

  /** Stops following; the pool keeps the upstreams it has. */
  async close(): Promise<void> {
    this.#stop.abort();
    await this.#running;
  }

  /** Same as {@linkcode Discovered.prototype.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #follow(name: string, source: Discovery, signal: AbortSignal, first: () => void) {
    const aborted = new Promise<"aborted">((resolve) => {
      if (signal.aborted) resolve("aborted");
      signal.addEventListener("abort", () => resolve("aborted"), { once: true });
    });
    try {
      while (!signal.aborted) {
        try {
          // A source that ends keeps its last set.
          if (await this.#take(name, source[Symbol.asyncIterator](), aborted, first)) return;
        } catch (error) {
          this.#failed(name, error);
        }
        first();
        await sleep(this.#options.retry ?? 5_000, signal);
      }
    } finally {
      first();
    }
  }

  /**
   * Applies each set `iterator` yields until it ends (then `true`) or the follow is aborted; it
   * throws what the source throws. A bad set is counted, and the source goes on.
   */
  async #take(
    name: string,
    iterator: AsyncIterator<readonly DiscoveredUpstream[]>,
    aborted: Promise<"aborted">,
    first: () => void,
  ): Promise<boolean> {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next === "aborted") {
        Promise.resolve().then(() => iterator.return?.()).catch(() => {});
        return false;
      }
      if (next.done) return true;
      try {
        this.#use(name, next.value);
      } catch (error) {
        this.#failed(name, error);
      }
      first();
    }
  }

  #use(name: string, set: readonly DiscoveredUpstream[]): void {
    if (set.length === 0) throw new Error("it found no upstreams");
    const previous = this.#sets.get(name);
    this.#sets.set(name, set);
    try {
      this.#apply();
    } catch (error) {
      if (previous) this.#sets.set(name, previous);
      else this.#sets.delete(name);
      throw error;
    }
    const state = this.#states.get(name)!;
    Object.assign(state, { upstreams: set.length, lastUpdate: new Date(), lastError: undefined });
    state.updates++;
    this.#options.onSet?.(name, set);
  }

  #apply(): void {
    const all = [...this.#options.upstreams ?? [], ...[...this.#sets.values()].flat()];
    const { added, removed, changed } = this.#pool.update(all);
    if (added.length + removed.length + changed.length === 0) return;
    log.info("Discovery changed pool {pool}: {added} joined, {removed} left, {changed} changed", {
      pool: this.#pool.name,
      added: added.join(", ") || "none",
      removed: removed.join(", ") || "none",
      changed: changed.join(", ") || "none",
    });
  }

  #failed(name: string, error: unknown): void {
    const state = this.#states.get(name)!;
    state.failures++;
    state.lastError = messageOf(error);
    log.warn("Discovery {source} for pool {pool} failed: {error}; keeping its last {kept}", {
      source: name,
      pool: this.#pool.name,
      error: state.lastError,
      kept: `${state.upstreams} upstreams`,
    });
  }
}
