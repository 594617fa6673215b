/**
 * One upstream in a pool: its address, weight and tier, and the state that balancing and health
 * checks keep about it.
 *
 * @module
 */

import { type Address, formatAddress, parseAddress } from "../address.ts";
import type { Connected } from "../connect.ts";

/**
 * How to add an upstream to a pool: its address, and optionally its weight and tier.
 *
 * @example A backup upstream with twice the default weight
 * ```ts
 * import type { UpstreamSpec } from "@minginx/minginx";
 *
 * const spec: UpstreamSpec = { address: "10.0.0.9:80", weight: 2, backup: true };
 * ```
 */
export interface UpstreamSpec {
  /** Where it listens: an address, or `HOST:PORT` text. */
  address: Address | string;
  /**
   * Its share of connections relative to the others, a whole number from 1 to 1000.
   *
   * @default {1}
   */
  weight?: number;
  /**
   * A backup is only offered when no primary upstream is available.
   *
   * @default {false}
   */
  backup?: boolean;
}

/** Whether an upstream takes new connections, and why not. */
export type UpstreamState = "up" | "down" | "ejected" | "draining";

/** The highest weight an upstream may have. */
export const MAX_WEIGHT = 1000;

/**
 * An upstream in a {@linkcode Pool}. Balancing algorithms read its `weight` (through
 * `effectiveWeight`, which follows slow start) and its count of `active` connections; the pool and
 * its health checks change the rest.
 *
 * @example What an algorithm sees
 * ```ts
 * import { Upstream } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const upstream = new Upstream({ address: "10.0.0.1:80", weight: 3 });
 * assert.equal(upstream.name, "10.0.0.1:80");
 * assert.equal(upstream.effectiveWeight, 3);
 * assert.equal(upstream.active, 0);
 * assert.equal(upstream.state, "up");
 * ```
 */
export class Upstream implements Address {
  /** Its hostname or IP address. */
  readonly hostname: string;
  /** Its port. */
  readonly port: number;
  /** Its address as `HOST:PORT`, which names it in the pool, logs and the runtime API. */
  readonly name: string;
  /** Whether it is a backup, offered only when no primary is available; see `Pool.update()`. */
  backup: boolean;
  /** The connections open to it now. */
  readonly connections: Set<Connected> = new Set();
  /** Whether the last active health checks found it down (after the fall threshold). */
  healthy = true;
  /** Until when (in `performance.now()` time) passive ejection keeps it out; 0 if it is not. */
  ejectedUntil = 0;
  /** Whether it is draining: it takes no new connections. */
  draining = false;
  #weight: number;
  #rampStart = 0;
  #rampMs = 0;

  /**
   * Creates an upstream.
   *
   * @param spec Its address, weight and tier.
   * @throws {TypeError} If the address is not `HOST:PORT`.
   * @throws {RangeError} If the weight is not a whole number from 1 to 1000.
   */
  constructor(spec: UpstreamSpec) {
    const address = typeof spec.address === "string"
      ? parseAddress(spec.address, { label: "upstream" })
      : spec.address;
    this.hostname = address.hostname;
    this.port = address.port;
    this.name = upstreamName(address);
    this.backup = spec.backup ?? false;
    this.#weight = checkWeight(spec.weight ?? 1, this.name);
  }

  /**
   * Makes an upstream from any of the ways a pool's options write one.
   *
   * @param spec `HOST:PORT` text, an address, or a spec with weight and tier.
   * @returns The upstream.
   * @throws {TypeError} If the address is not `HOST:PORT`.
   * @throws {RangeError} If the weight is not a whole number from 1 to 1000.
   */
  static from(spec: string | Address | UpstreamSpec): Upstream {
    return new Upstream(
      typeof spec === "string" || !("address" in spec) ? { address: spec } : spec,
    );
  }

  /** Its configured weight. */
  get weight(): number {
    return this.#weight;
  }

  set weight(weight: number) {
    this.#weight = checkWeight(weight, this.name);
  }

  /** Open connections to it. */
  get active(): number {
    return this.connections.size;
  }

  /**
   * The weight to balance with now: the configured weight, or during a slow start a share of it
   * that grows from 1% to all of it.
   */
  get effectiveWeight(): number {
    if (this.#rampMs === 0) return this.#weight;
    const elapsed = performance.now() - this.#rampStart;
    if (elapsed >= this.#rampMs) {
      this.#rampMs = 0;
      return this.#weight;
    }
    return this.#weight * Math.max(0.01, elapsed / this.#rampMs);
  }

  /** Whether it takes new connections, and if not, why. */
  get state(): UpstreamState {
    if (this.draining) return "draining";
    if (!this.healthy) return "down";
    if (this.ejectedUntil > 0) return "ejected";
    return "up";
  }

  /**
   * Ramps its effective weight up from 1% over `ms`, as after a recovery.
   *
   * @param ms How long the ramp lasts; 0 ends any ramp.
   */
  slowStart(ms: number): void {
    this.#rampStart = performance.now();
    this.#rampMs = ms;
  }
}

function checkWeight(weight: number, name: string): number {
  if (!Number.isInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
    throw new RangeError(
      `Cannot use weight ${weight} for upstream ${name}: expected a whole number from 1 to ${MAX_WEIGHT}`,
    );
  }
  return weight;
}

/**
 * Parses an upstream as the command line writes it: `HOST:PORT`, then optionally `,weight=N` and
 * `,backup`, in any order.
 *
 * @param text The text, such as `"10.0.0.1:80,weight=3"`.
 * @param label What the text is, for error messages.
 * @returns The upstream's spec.
 * @throws {TypeError} If the address or an option is malformed; the message quotes the text.
 *
 * @example Weights and backups
 * ```ts
 * import { parseUpstream } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseUpstream("10.0.0.1:80,weight=3"), {
 *   address: { hostname: "10.0.0.1", port: 80 },
 *   weight: 3,
 *   backup: false,
 * });
 * assert.equal(parseUpstream("[::1]:80,backup").backup, true);
 * assert.throws(
 *   () => parseUpstream("10.0.0.1:80,wieght=3", "--upstream"),
 *   { message: 'Cannot parse --upstream "10.0.0.1:80,wieght=3": expected HOST:PORT followed by ,weight=N (1 to 1000) or ,backup' },
 * );
 * ```
 */
export function parseUpstream(
  text: string,
  label = "upstream",
): Required<UpstreamSpec> & { address: Address } {
  const [addressText, ...options] = text.split(",");
  const address = parseAddress(addressText, { label });
  let weight = 1;
  let backup = false;
  for (const option of options) {
    const match = option.match(/^weight=([0-9]{1,4})$/);
    if (match && Number(match[1]) >= 1 && Number(match[1]) <= MAX_WEIGHT) {
      weight = Number(match[1]);
    } else if (option === "backup") {
      backup = true;
    } else {
      throw new TypeError(
        `Cannot parse ${label} "${text}": expected HOST:PORT followed by ,weight=N (1 to ${MAX_WEIGHT}) or ,backup`,
      );
    }
  }
  return { address, weight, backup };
}

/**
 * The name an upstream goes by in a pool, its logs and its runtime API: its address as
 * `HOST:PORT`, with brackets around IPv6.
 *
 * @param address `HOST:PORT` text or an address.
 * @returns The name.
 * @throws {TypeError} If the text is not `HOST:PORT`.
 *
 * @example Text and addresses name the same upstream
 * ```ts
 * import { upstreamName } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(upstreamName("[::1]:80"), upstreamName({ hostname: "::1", port: 80 }));
 * ```
 */
export function upstreamName(address: string | Address): string {
  return formatAddress(
    typeof address === "string" ? parseAddress(address, { label: "upstream" }) : address,
  );
}
