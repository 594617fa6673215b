/**
 * Scrapes as data: what each worker's registry holds, sent to the main thread as a message, and
 * the sum of several of them rendered as one scrape.
 *
 * @module
 */

import { Counter } from "./counter.ts";
import { Gauge } from "./gauge.ts";
import { Histogram } from "./histogram.ts";
import type { MetricType } from "./metric.ts";
import { Registry } from "./registry.ts";

/** One series of a {@linkcode MetricSnapshot}. */
export interface SeriesSnapshot {
  /** Its label values, in the order of the label names. */
  values: string[];
  /** A counter's or a gauge's value; a histogram's sum. */
  value: number;
  /** A histogram's cumulative bucket counts, the `+Inf` one last. */
  counts?: number[];
}

/**
 * One metric of a registry as plain data, which `postMessage` can carry.
 *
 * @example Snapshot a registry and merge two of them
 * ```ts
 * import { mergeSnapshots, type MetricSnapshot, Registry, snapshotOf } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const worker = new Registry();
 * worker.counter({ name: "minginx_connections_accepted_total", help: "Accepted." }).inc(2);
 * const snapshot: MetricSnapshot[] = snapshotOf(worker);
 * const merged = mergeSnapshots([snapshot, snapshot]);
 * assert.match(merged.render(), /^minginx_connections_accepted_total 4$/m);
 * ```
 */
export interface MetricSnapshot {
  /** The metric's name. */
  name: string;
  /** Its help text. */
  help: string;
  /** Its type. */
  type: MetricType;
  /** Its label names. */
  labelNames: string[];
  /** A gauge's merge rule. */
  merge?: "sum" | "max";
  /** A histogram's finite bounds. */
  buckets?: number[];
  /** Its series. */
  series: SeriesSnapshot[];
}

/**
 * Runs a registry's collectors and copies its counters, gauges and histograms as data; metrics of
 * other classes are left out.
 *
 * @param registry The registry.
 * @returns One snapshot a metric.
 */
export function snapshotOf(registry: Registry): MetricSnapshot[] {
  registry.collect();
  const snapshots: MetricSnapshot[] = [];
  for (const metric of registry.metrics) {
    const { name, help, type } = metric;
    const labelNames = [...metric.labelNames];
    if (metric instanceof Histogram) {
      const series = [...metric.entries()].map(([values, child]) => ({
        values: [...values],
        value: child.sum,
        counts: child.cumulativeCounts(),
      }));
      snapshots.push({ name, help, type, labelNames, buckets: [...metric.buckets], series });
    } else if (metric instanceof Counter || metric instanceof Gauge) {
      const series = [...metric.entries()].map(([values, child]) => ({
        values: [...values],
        value: child.value,
      }));
      const merge = metric instanceof Gauge ? metric.merge : undefined;
      snapshots.push({ name, help, type, labelNames, series, ...merge && { merge } });
    }
  }
  return snapshots;
}

/**
 * Adds up the snapshots of several registries into a new one: counters and histograms are summed,
 * gauges summed or, with merge rule `max`, the highest taken. A metric is defined by the first
 * snapshot that has it.
 *
 * @param snapshots Each registry's snapshot.
 * @returns A registry holding the sums, ready to render.
 * @throws {TypeError} If two snapshots give one name to metrics of different types.
 */
export function mergeSnapshots(snapshots: readonly MetricSnapshot[][]): Registry {
  const registry = new Registry();
  for (const snapshot of snapshots) {
    for (const metric of snapshot) {
      const { name, help, labelNames } = metric;
      const found = registry.get(name);
      if (found !== undefined && found.type !== metric.type) {
        throw new TypeError(
          `Cannot merge metric "${name}": it is a ${found.type} and a ${metric.type}`,
        );
      }
      if (metric.type === "histogram") {
        const histogram = (found as Histogram | undefined) ??
          registry.histogram({ name, help, labelNames, buckets: metric.buckets ?? [] });
        for (const { values, value, counts } of metric.series) {
          histogram.labels(...values).add(counts ?? [], value);
        }
      } else if (metric.type === "counter") {
        const counter = (found as Counter | undefined) ??
          registry.counter({ name, help, labelNames });
        for (const { values, value } of metric.series) counter.labels(...values).inc(value);
      } else {
        const gauge = (found as Gauge | undefined) ??
          registry.gauge({ name, help, labelNames, merge: metric.merge });
        for (const { values, value } of metric.series) {
          const child = gauge.find(...values);
          if (child === undefined) gauge.labels(...values).set(value);
          else {child.set(
              gauge.merge === "max" ? Math.max(child.value, value) : child.value + value,
            );}
        }
      }
    }
  }
  return registry;
}
