/**
 * A pool of upstreams: which of them can take a connection now, in what order, and the runtime API
 * that adds, removes, re-weights and drains them.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type Address, formatAddress } from "../address.ts";
import { roundRobin } from "../balance/round_robin.ts";
import type { Balancer, Connected } from "../connect.ts";
import type { Connection } from "../connection.ts";
import { HealthChecker } from "../health/checker.ts";
import { Drains } from "./drain.ts";
import { updatePool, type UpstreamChanges } from "./update.ts";
import { Tiers } from "./tiers.ts";
import { PassiveEjection } from "./passive.ts";
import { StateLog } from "./state_log.ts";
import type { PoolOptions } from "./pool_options.ts";
import { Upstream, upstreamName, type UpstreamSpec } from "./upstream.ts";

const log = getLogger(["minginx", "pool"]);
const LEAVES = "it leaves once its connections end";

/**
 * A pool of upstreams, and the {@linkcode Balancer} that {@linkcode forward} walks. For each
 * connection it offers the available primaries in the order its algorithm gives, then the available
 * backups; if no upstream at all is available, it offers every upstream that is not draining, in
 * list order, rather than refuse the client outright. An upstream is available when it is healthy,
 * not ejected by passive checks, and not draining.
 *
 * @example Drain an upstream at runtime
 * ```ts
 * import { Pool } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * await using pool = new Pool({ upstreams: ["10.0.0.1:80", "10.0.0.2:80"] });
 * await pool.drain("10.0.0.1:80"); // nothing open on it, so it leaves at once
 * assert.deepEqual(pool.upstreams.map(({ name }) => name), ["10.0.0.2:80"]);
 * assert.deepEqual([...pool.pick()].map(({ name }) => name), ["10.0.0.2:80"]);
 * ```
 */
export class Pool implements Balancer, AsyncDisposable {
  /** The pool's name, for log messages. */
  readonly name: string;
  #all: readonly Upstream[] = [];
  readonly #tiers: Tiers;
  readonly #slowStartMs: number;
  readonly #passive: PassiveEjection;
  readonly #drains: Drains;
  readonly #checker: HealthChecker | undefined;
  readonly #states = new StateLog();

  /**
   * Creates a pool and starts its health checks, if any.
   *
   * @param options The upstreams and how to balance and check them.
   * @throws {TypeError} If an upstream is malformed or listed twice.
   */
  constructor(options: PoolOptions) {
    this.name = options.name ?? "default";
    this.#tiers = new Tiers(options.balance ?? roundRobin);
    this.#slowStartMs = options.slowStart ?? 0;
    this.#passive = new PassiveEjection(options, (upstream, ejected) => {
      this.#changed(upstream, ejected ? "connects failed" : "its ejection ended");
    });
    this.#drains = new Drains((upstream) => this.#leave(upstream));
    for (const spec of options.upstreams) this.add(spec);
    if (options.healthCheck) {
      this.#checker = new HealthChecker(options.healthCheck, options.health ?? {}, {
        upstreams: () => this.#all,
        passed: (upstream) => this.#passive.clear(upstream),
        changed: (upstream, why) => this.#changed(upstream, why),
      });
    }
  }

  /** Every upstream in the pool, in list order, whatever its state. */
  get upstreams(): readonly Upstream[] {
    return this.#all;
  }

  /**
   * The upstream with this address, if it is in the pool.
   *
   * @param address `HOST:PORT` text or an address.
   * @returns The upstream, or `undefined`.
   */
  get(address: string | Address): Upstream | undefined {
    const name = upstreamName(address);
    return this.#all.find((upstream) => upstream.name === name);
  }

  /**
   * Offers the upstreams to try for a connection, best first.
   *
   * @param connection The connection, for algorithms that look at its client.
   * @returns The candidates: available primaries, then available backups.
   */
  pick(connection?: Connection): Iterable<Upstream> {
    this.#passive.expire();
    return this.#tiers.pick(connection);
  }

  /**
   * Counts a connection on the upstream that accepted it; {@linkcode forward} calls this.
   *
   * @param address The candidate that accepted, as {@linkcode Pool.prototype.pick} yielded it.
   * @param connection The connection.
   * @returns What to call when the connection ends.
   */
  onConnect(address: Address, connection: Connected): () => void {
    if (!(address instanceof Upstream)) return () => {};
    this.#passive.succeeded(address);
    address.connections.add(connection);
    return () => {
      address.connections.delete(connection);
      if (address.draining) this.#drains.check(address);
    };
  }

  /** Counts a failed connect to `address` towards passive ejection; forward calls this. */
  onConnectFailure(address: Address): void {
    if (address instanceof Upstream && this.#all.includes(address)) this.#passive.failed(address);
  }

  /**
   * Adds an upstream at the end of the list.
   *
   * @param spec `HOST:PORT` text, an address, or a spec with weight and tier.
   * @returns The new upstream.
   * @throws {TypeError} If it is malformed or already in the pool.
   */
  add(spec: string | Address | UpstreamSpec): Upstream {
    const upstream = Upstream.from(spec);
    if (this.get(upstream.name)) {
      throw new TypeError(`Cannot add upstream ${upstream.name}: it is already in the pool`);
    }
    this.#all = [...this.#all, upstream];
    this.#refresh();
    return upstream;
  }

  /**
   * Makes the pool's upstreams the given set in one step, as service discovery does: see
   * {@linkcode updatePool}.
   *
   * @param specs The whole set; an address listed twice counts once (the first).
   * @returns What changed, by name.
   * @throws {TypeError} If a spec is malformed; nothing changes then.
   */
  update(specs: readonly (string | Address | UpstreamSpec)[]): UpstreamChanges {
    return updatePool(this, this.#slowStartMs, specs);
  }

  /** Takes `address` out at once; its open connections finish. Returns whether it was there. */
  remove(address: string | Address): boolean {
    const upstream = this.get(address);
    if (!upstream) return false;
    this.#drains.cancel(upstream);
    this.#leave(upstream);
    return true;
  }

  /**
   * Changes an upstream's weight, for new connections.
   *
   * @param address The upstream.
   * @param weight A whole number from 1 to 1000.
   * @throws {TypeError} If the upstream is not in the pool.
   * @throws {RangeError} If the weight is out of range.
   */
  setWeight(address: string | Address, weight: number): void {
    this.#find(address, "re-weight").weight = weight;
    this.#refresh();
  }

  /**
   * Drains an upstream: it takes no new connections, and leaves the pool once its open ones have
   * ended (with `keep`, it stays listed until enabled). After `timeout`, those left are closed
   * with the reason `drained`.
   *
   * @param address The upstream.
   * @param options How long open connections may take (no limit if absent); `keep` it listed.
   * @returns Resolves once its open connections have ended, or it was enabled.
   * @throws {TypeError} If the upstream is not in the pool.
   */
  drain(
    address: string | Address,
    options: { timeout?: number; keep?: boolean } = {},
  ): Promise<void> {
    const upstream = this.#find(address, "drain");
    upstream.draining = true;
    this.#changed(upstream, options.keep ? "drained by request" : LEAVES);
    return this.#drains.start(upstream, options.timeout, options.keep);
  }

  /**
   * Takes a draining upstream back: it takes new connections again.
   *
   * @param address The upstream.
   * @throws {TypeError} If the upstream is not in the pool.
   */
  enable(address: string | Address): void {
    const upstream = this.#find(address, "enable");
    if (!upstream.draining) return;
    upstream.draining = false;
    this.#drains.cancel(upstream);
    this.#changed(upstream, "enabled");
  }

  /** Stops the health checks and the drain deadlines; open connections are left alone. */
  async close(): Promise<void> {
    this.#drains.close();
    await this.#checker?.close();
  }

  /** Same as {@linkcode Pool.prototype.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #find(address: string | Address, action: string): Upstream {
    const upstream = this.get(address);
    if (upstream) return upstream;
    const name = typeof address === "string" ? address : formatAddress(address);
    throw new TypeError(`Cannot ${action} upstream ${name}: it is not in pool "${this.name}"`);
  }

  #leave(upstream: Upstream): void {
    this.#all = this.#all.filter((other) => other !== upstream);
    this.#passive.forget(upstream);
    this.#refresh();
    log.info("Upstream {upstream} left pool {pool}", { upstream: upstream.name, pool: this.name });
  }

  #changed(upstream: Upstream, why: string): void {
    const wasAvailable = this.#tiers.offers(upstream);
    this.#refresh();
    const available = upstream.state === "up";
    if (available && !wasAvailable && this.#slowStartMs > 0) upstream.slowStart(this.#slowStartMs);
    this.#states.log(this.name, upstream, why);
  }

  #refresh(): void {
    this.#tiers.refresh(this.#all);
  }
}
