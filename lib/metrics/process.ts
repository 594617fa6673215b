/**
 * The process collector: memory, open files and start time, as gauges refreshed at each scrape.
 *
 * @module
 */

import type { Gauge } from "./gauge.ts";
import type { Registry } from "./registry.ts";

const FD_DIR = "/proc/self/fd";

/**
 * Adds gauges about the process to a registry, and a collector that refreshes them at each
 * render:
 *
 * | metric | value |
 * |---|---|
 * | `minginx_process_resident_memory_bytes` | resident memory of the whole process, `Deno.memoryUsage().rss` |
 * | `minginx_process_heap_used_bytes` | the V8 heap in use by this isolate, `Deno.memoryUsage().heapUsed` |
 * | `minginx_process_open_fds` | entries of `/proc/self/fd`, the one used to read them included |
 * | `minginx_process_start_time_seconds` | when the runtime started (`performance.timeOrigin`), in seconds since the Unix epoch; in a worker, when the worker started |
 *
 * The open files are counted only where `/proc/self/fd` exists and may be read: the check is a
 * permission query, which never prompts, then one read. Deno 2.9 lets a program read its own
 * `/proc/self` only when run with `--allow-all`; elsewhere the metric is left out, silently.
 *
 * @param registry Where to add the gauges and the collector.
 * @returns A function that removes the collector and the gauges.
 * @throws {TypeError} If the registry already has a metric of one of these names; then it adds
 * none of them.
 *
 * @example Process metrics in a scrape
 * ```ts
 * import { processMetrics, Registry } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const stop = processMetrics(registry);
 * const text = registry.render();
 * assert.match(text, /^minginx_process_resident_memory_bytes \d+$/m);
 * assert.match(text, /^minginx_process_start_time_seconds \d+(\.\d+)?$/m);
 * stop();
 * assert.equal(registry.render(), "");
 * ```
 */
export function processMetrics(registry: Registry): () => void {
  const gauges: Gauge[] = [];
  const removeGauges = () => {
    for (const gauge of gauges) {
      if (registry.get(gauge.name) === gauge) registry.unregister(gauge.name);
    }
  };
  const add = (name: string, help: string) => {
    const gauge = registry.gauge({ name: `minginx_process_${name}`, help });
    gauges.push(gauge);
    return gauge;
  };
  let rss: Gauge, heap: Gauge, fds: Gauge | undefined;
  try {
    rss = add("resident_memory_bytes", "Resident memory size of the process in bytes.");
    heap = add("heap_used_bytes", "V8 heap used by this isolate in bytes.");
    add("start_time_seconds", "Start time of the process since the Unix epoch in seconds.")
      .set(performance.timeOrigin / 1000);
    if (countOpenFds() !== undefined) {
      fds = add("open_fds", "Number of open file descriptors of the process.");
    }
  } catch (error) {
    removeGauges(); // all or nothing
    throw error;
  }

  const removeCollector = registry.addCollector(function collectProcessMetrics() {
    const memory = Deno.memoryUsage();
    rss.set(memory.rss);
    heap.set(memory.heapUsed);
    if (fds === undefined) return;
    const count = countOpenFds();
    if (count !== undefined) {
      fds.set(count);
    } else { // the permission was revoked since: leave the metric out from now on
      registry.unregister(fds.name);
      fds = undefined;
    }
  });
  return function stopProcessMetrics() {
    removeCollector();
    removeGauges();
  };
}

/**
 * Counts the entries of `/proc/self/fd`, if this process may read it.
 *
 * @returns The count, or `undefined` if it may not be read or does not exist.
 */
function countOpenFds(): number | undefined {
  if (Deno.permissions.querySync({ name: "read", path: FD_DIR }).state !== "granted") {
    return undefined;
  }
  try {
    let count = 0;
    for (const _ of Deno.readDirSync(FD_DIR)) count++;
    return count;
  } catch {
    return undefined; // not Linux, or Deno wants --allow-all for /proc/self
  }
}
