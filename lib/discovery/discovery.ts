/**
 * Service discovery's interface: a source of upstream sets, each the whole set as it is now, and
 * the polling loop the built-in sources (DNS, SRV, a file) share.
 *
 * @module
 */

import type { Address } from "../address.ts";
import type { UpstreamSpec } from "../pool/upstream.ts";
import { sleep } from "../_util.ts";

/** One upstream of a discovered set: `HOST:PORT` text, an address, or a spec with weight and tier. */
export type DiscoveredUpstream = string | Address | UpstreamSpec;

/**
 * A source of upstream sets: each value is the whole set as it is now, not a change to the last.
 * {@linkcode discover} applies each set to a pool. A source that throws is counted as failed, its
 * last set is kept, and it is asked again for a new iterator after the retry delay, so a source
 * whose iterator starts over (an object with an `async *[Symbol.asyncIterator]()`, as below)
 * need not retry by itself; a bare generator cannot start over, so one that throws is done. An
 * empty set counts as a failure too: discovery never empties a pool.
 *
 * @example A source that asks an HTTP service registry every 5 s (Consul's catalog API, here)
 * ```ts
 * import type { Discovery, DiscoveredUpstream } from "@minginx/minginx";
 *
 * function consul(service: string, signal: AbortSignal): Discovery {
 *   return {
 *     async *[Symbol.asyncIterator]() {
 *       while (!signal.aborted) {
 *         const url = `http://127.0.0.1:8500/v1/health/service/${service}?passing=true`;
 *         const response = await fetch(url, { signal });
 *         if (!response.ok) throw new Error(`Consul answered ${response.status}`);
 *         const entries: { Service: { Address: string; Port: number } }[] = await response.json();
 *         yield entries.map(({ Service }): DiscoveredUpstream => ({
 *           address: { hostname: Service.Address, port: Service.Port },
 *         }));
 *         await new Promise((resolve) => setTimeout(resolve, 5_000));
 *       }
 *     },
 *   };
 * }
 * const source: Discovery = consul("web", AbortSignal.timeout(1));
 * ```
 */
export type Discovery = AsyncIterable<readonly DiscoveredUpstream[]>;

/**
 * Asks `read` for the set every `interval` ms and yields it whenever it differs from the last one
 * yielded. A failed read ends the iteration with its error, for {@linkcode discover} to count and
 * retry; an abort ends it quietly.
 *
 * @param read Reads the set now.
 * @param interval How long to wait between reads, in milliseconds.
 * @param signal Ends the polling.
 * @returns The sets, each different from the one before; each iteration starts over.
 *
 * @example Poll a function
 * ```ts
 * import { poll } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const controller = new AbortController();
 * for await (const set of poll(async () => ["10.0.0.1:80"], 1_000, controller.signal)) {
 *   assert.deepEqual(set, ["10.0.0.1:80"]);
 *   controller.abort();
 * }
 * ```
 */
export function poll(
  read: () => Promise<readonly DiscoveredUpstream[]>,
  interval: number,
  signal?: AbortSignal,
): Discovery {
  return {
    async *[Symbol.asyncIterator]() {
      let last: string | undefined;
      while (!signal?.aborted) {
        const set = await read();
        const key = JSON.stringify(set);
        if (key !== last && !signal?.aborted) {
          last = key;
          yield set;
        }
        await sleep(interval, signal);
      }
    },
  };
}
