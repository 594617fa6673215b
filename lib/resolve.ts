/**
 * Resolving hostname upstreams at connect time, with a cache of bounded lifetime.
 *
 * @module
 */

import { isIpAddress } from "./ip.ts";
import { checkWhole, messageOf } from "./_util.ts";
import { ConnectionError } from "./report.ts";

/**
 * Looks a hostname up, returning its addresses in the order to try them.
 *
 * @example A fixed table, as a test or a service registry might use
 * ```ts
 * import type { Lookup } from "@minginx/minginx";
 *
 * const table: Record<string, string[]> = { "db.internal": ["10.0.0.5", "10.0.0.6"] };
 * const fromTable: Lookup = async (hostname) => table[hostname] ?? [];
 * ```
 */
export type Lookup = (hostname: string) => Promise<string[]>;

/**
 * Thrown when an upstream's hostname does not resolve; its close reason is `dns_failed`.
 *
 * @example The message names the hostname
 * ```ts
 * import { ResolveError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const error = new ResolveError("db.internal", "getaddrinfo ENOTFOUND db.internal");
 * assert.equal(error.reason, "dns_failed");
 * assert.equal(error.message, 'Cannot resolve "db.internal": getaddrinfo ENOTFOUND db.internal');
 * ```
 */
export class ResolveError extends ConnectionError {
  /**
   * @param hostname The hostname that did not resolve.
   * @param why What the resolver said.
   * @param options The resolver's error, as `cause`.
   */
  constructor(hostname: string, why: string, options?: ErrorOptions) {
    super("dns_failed", `Cannot resolve "${hostname}": ${why}`, options);
    this.name = "ResolveError";
  }
}

/**
 * Options for a {@linkcode Resolver}.
 *
 * @example Keep answers for 30 s
 * ```ts
 * import { Resolver, type ResolverOptions } from "@minginx/minginx";
 *
 * const options: ResolverOptions = { ttl: 30_000 };
 * const resolver = new Resolver(options);
 * ```
 */
export interface ResolverOptions {
  /**
   * How long an answer is kept, in milliseconds; 0 resolves on every connect.
   *
   * @default {10_000}
   */
  ttl?: number;
  /**
   * How to look a name up.
   *
   * @default {the system's resolver (getaddrinfo), which reads /etc/hosts}
   */
  lookup?: Lookup;
}

interface Entry {
  addresses: Promise<string[]>;
  expires: number;
}

/**
 * Resolves hostnames for connecting, caching each answer for a bounded time and sharing one lookup
 * among the connections that ask at once. An IP address resolves to itself without a lookup.
 *
 * With the system resolver, a lookup needs `--allow-net=NAME` (the name with no port). Without
 * that permission the resolver answers with the name itself, and `Deno.connect` then resolves it
 * under the `NAME:PORT` permission, trying only the first address.
 *
 * @example Resolve once, then from the cache
 * ```ts
 * import { Resolver } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * let lookups = 0;
 * const resolver = new Resolver({
 *   lookup: async () => (lookups++, ["10.0.0.5", "10.0.0.6"]),
 * });
 * assert.deepEqual(await resolver.resolve("db.internal"), ["10.0.0.5", "10.0.0.6"]);
 * assert.deepEqual(await resolver.resolve("db.internal"), ["10.0.0.5", "10.0.0.6"]);
 * assert.deepEqual(await resolver.resolve("10.0.0.7"), ["10.0.0.7"]);
 * assert.equal(lookups, 1);
 * ```
 */
export class Resolver {
  readonly #ttlMs: number;
  readonly #lookup: Lookup;
  readonly #cache = new Map<string, Entry>();

  /**
   * @param options The cache lifetime and the lookup.
   * @throws {RangeError} If the lifetime is negative or not whole.
   */
  constructor(options: ResolverOptions = {}) {
    this.#ttlMs = checkWhole(options.ttl ?? 10_000, "DNS cache lifetime", 0, " ms");
    this.#lookup = options.lookup ?? systemLookup;
  }

  /**
   * The addresses of `hostname`, from the cache when it holds a fresh answer.
   *
   * @param hostname A hostname or IP address.
   * @returns At least one address.
   * @throws {ResolveError} If the name does not resolve, or resolves to nothing.
   */
  resolve(hostname: string): Promise<string[]> | string[] {
    if (isIpAddress(hostname)) return [hostname];
    const now = performance.now();
    const cached = this.#cache.get(hostname);
    if (cached && cached.expires > now) return cached.addresses;
    const addresses = this.#resolve(hostname);
    const entry = { addresses, expires: now + this.#ttlMs };
    this.#cache.set(hostname, entry);
    // A failed lookup is not kept: the next connect asks again.
    addresses.catch(() => {
      if (this.#cache.get(hostname) === entry) this.#cache.delete(hostname);
    });
    return addresses;
  }

  async #resolve(hostname: string): Promise<string[]> {
    let addresses: string[];
    try {
      addresses = await this.#lookup(hostname);
    } catch (error) {
      throw new ResolveError(hostname, messageOf(error), { cause: error });
    }
    if (addresses.length === 0) throw new ResolveError(hostname, "no address");
    return addresses;
  }
}

async function systemLookup(hostname: string): Promise<string[]> {
  const { state } = await Deno.permissions.query({ name: "net", host: hostname });
  if (state !== "granted") return [hostname];
  // Loaded on the first name, so a proxy of IP addresses never loads Node's DNS module.
  const { lookup } = await import("node:dns/promises");
  const answers = await lookup(hostname, { all: true });
  return answers.map(({ address }) => address);
}
