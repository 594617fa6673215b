/**
 * Discovery from a JSON file that minginx watches, as a sidecar or a template fed by Consul or
 * the Kubernetes API would write it.
 *
 * @module
 */

import { dirname, resolve } from "node:path";
import { messageOf, sleep } from "../_util.ts";
import { parseUpstream, Upstream } from "../pool/upstream.ts";
import type { DiscoveredUpstream, Discovery } from "./discovery.ts";

/** Options for {@linkcode fileDiscovery}. */
export interface FileDiscoveryOptions {
  /** The file. */
  path: string;
  /**
   * How often to read it again even when no change was seen, in milliseconds.
   *
   * @default {5000}
   */
  interval?: number;
  /** Ends the discovery. */
  signal?: AbortSignal;
}

/**
 * Follows a JSON file of upstreams: `{ "upstreams": [...] }`, or the list alone, each entry as
 * `--upstream` writes it (`"10.0.0.1:80,weight=2"`) or an object (`{ "address": "10.0.0.1:80",
 * "weight": 2, "backup": true }`). It is read again as soon as its folder reports a change (if
 * the folder may be watched) and every `interval` ms. Write it atomically (a new file renamed
 * over the old one): a file that cannot be read or parsed is a failure, and the pool keeps its
 * last set.
 *
 * @param options The file and how often to read it.
 * @returns The discovery, for {@linkcode discover}.
 *
 * @example Follow a file a sidecar writes
 * ```ts
 * import { fileDiscovery } from "@minginx/minginx";
 *
 * const source = fileDiscovery({ path: "/run/minginx/web.json" });
 * ```
 */
export function fileDiscovery(options: FileDiscoveryOptions): Discovery {
  return { [Symbol.asyncIterator]: () => follow(options) };
}

async function* follow(
  options: FileDiscoveryOptions,
): AsyncGenerator<readonly DiscoveredUpstream[]> {
  const { path, interval = 5_000, signal } = options;
  const wake = new Wake();
  const watching = watch(path, wake);
  try {
    let last: string | undefined;
    while (!signal?.aborted) {
      wake.dirty = false;
      const set = await readUpstreamsFile(path);
      const key = JSON.stringify(set);
      if (key !== last) {
        last = key;
        yield set;
      }
      if (!wake.dirty) await wake.sleep(interval, signal);
    }
  } finally {
    watching.close();
  }
}

/** Cuts the wait between reads short when the file changes, even one seen while reading. */
class Wake {
  dirty = false;
  #waiting: AbortController | undefined;

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.#waiting = new AbortController();
    return sleep(ms, AbortSignal.any([this.#waiting.signal, ...signal ? [signal] : []]));
  }

  wake(): void {
    this.dirty = true;
    this.#waiting?.abort();
  }
}

/**
 * Reads and checks a file of upstreams, as {@linkcode fileDiscovery} does.
 *
 * @param path The file.
 * @returns Its upstreams.
 * @throws {Error} If it cannot be read, is not JSON, or an entry is malformed; the message names
 * the file and the entry.
 *
 * @example Read a file of upstreams
 * ```ts
 * import { readUpstreamsFile } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * // { "upstreams": ["10.0.0.1:80", { "address": "10.0.0.2:80", "weight": 2, "backup": true }] }
 * const upstreams = await readUpstreamsFile("tests/fixtures/upstreams.json");
 * assert.deepEqual(upstreams[1], {
 *   address: { hostname: "10.0.0.2", port: 80 },
 *   weight: 2,
 *   backup: true,
 * });
 * ```
 */
export async function readUpstreamsFile(path: string): Promise<DiscoveredUpstream[]> {
  const fail = (why: string): never => {
    throw new Error(`Cannot read upstreams from "${path}": ${why}`);
  };
  let json: unknown;
  try {
    json = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    fail(messageOf(error));
  }
  const list = Array.isArray(json) ? json : (json as { upstreams?: unknown })?.upstreams;
  if (!Array.isArray(list)) fail('expected { "upstreams": [...] } or a list');
  return (list as unknown[]).map((entry, i) => {
    try {
      if (typeof entry === "string") return parseUpstream(entry, `upstreams[${i}]`);
      if (typeof entry !== "object" || entry === null || !("address" in entry)) {
        throw new TypeError(`upstreams[${i}]: expected "HOST:PORT" or { "address": "HOST:PORT" }`);
      }
      const { hostname, port, weight, backup } = Upstream.from(entry as DiscoveredUpstream);
      return { address: { hostname, port }, weight, backup };
    } catch (error) {
      return fail(messageOf(error));
    }
  });
}

/**
 * Wakes the reader when the file's folder reports a change to it; best effort. The reader closes
 * it when it stops, an abort included: the abort ends its wait, and with it its loop.
 */
function watch(path: string, wake: Wake): { close(): void } {
  const file = resolve(path);
  let watcher: Deno.FsWatcher;
  try {
    watcher = Deno.watchFs(dirname(file), { recursive: false });
  } catch {
    // No read permission for the folder, or no folder (reading the file will say so): reading
    // it every interval will do.
    return { close() {} };
  }
  (async () => {
    for await (const event of watcher) {
      if (event.paths.includes(file)) wake.wake();
    }
  })().catch(() => {}); // the watcher closed under the loop
  return {
    close() {
      try {
        watcher.close();
      } catch { /* closed already */ }
    },
  };
}
