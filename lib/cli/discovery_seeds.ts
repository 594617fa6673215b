/**
 * Asking every discovery source once before the servers start, so their pools start full rather
 * than empty, and a DNS server that `--allow-net` does not cover is named before anything runs.
 *
 * @module
 */

import type { DiscoveredUpstream } from "../discovery/discovery.ts";
import { sourceKey, type SourceSpec } from "../discovery/source.ts";
import type { PoolFlags } from "./pool_flags.ts";

/** Each discovery source's set, by `sourceKey`: plain data, which a worker receives as it is. */
export type Seeds = Record<string, readonly DiscoveredUpstream[]>;

/** What asking every source once found. */
export interface Primed {
  /** The sets of the sources that answered. */
  seeds: Seeds;
  /** Each missing permission, as a line that names the flag that would grant it. */
  denied: string[];
}

/** How long the first answer of a source may take before the servers start without it. */
export const PRIME_TIMEOUT_MS = 5_000;

/**
 * Asks each discovery source of the servers once, all at the same time. A source that fails or
 * is slow is left out (its pool's discovery tries again, and logs why); one that a missing
 * permission stops is named.
 *
 * @param servers The servers' pool settings.
 * @param timeoutMs How long a source may take.
 * @returns The sets, and the missing permissions.
 */
export async function primeDiscovery(
  servers: readonly Pick<PoolFlags, "discover" | "discoveryInterval" | "resolver">[],
  timeoutMs = PRIME_TIMEOUT_MS,
): Promise<Primed> {
  const asks = new Map<string, Promise<readonly DiscoveredUpstream[] | undefined>>();
  const denied: string[] = [];
  // Discovery loads only for servers that have sources: most proxies do without it.
  if (!servers.some(({ discover }) => discover.length > 0)) return { seeds: {}, denied };
  const { discoveryFrom } = await import("../discovery/discovery_from.ts");
  const signal = AbortSignal.timeout(timeoutMs);
  for (const { discover, discoveryInterval: interval, resolver } of servers) {
    for (const source of discover) {
      const key = sourceKey(source, resolver);
      if (asks.has(key)) continue;
      asks.set(
        key,
        (async () => {
          const stop = new AbortController();
          const discovery = discoveryFrom(source, {
            interval,
            resolver,
            signal: AbortSignal.any([signal, stop.signal]),
          });
          try {
            for await (const set of discovery) return set;
          } catch (error) {
            if (error instanceof Deno.errors.NotCapable) {
              denied.push(deniedLine(source, error));
            }
          } finally {
            stop.abort();
          }
        })(),
      );
    }
  }
  const seeds: Seeds = {};
  for (const [key, ask] of asks) {
    const set = await ask;
    if (set && set.length > 0) seeds[key] = set;
  }
  return { seeds, denied };
}

function deniedLine({ kind, text }: SourceSpec, error: Error): string {
  // Deno's message names what it needs: Requires net access to "10.0.0.53:53", ...
  const needed = error.message.match(/access to "([^"]+)"/)?.[1];
  if (!needed) return `Cannot follow ${text}: ${error.message}`;
  const flag = kind === "file" ? "--allow-read" : "--allow-net";
  return `Missing permission for ${needed} (${text}): add it to ${flag}`;
}
