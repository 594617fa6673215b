/**
 * The registry: the metrics of a process and the collectors that refresh some of them, rendered
 * together for a Prometheus scrape.
 *
 * @module
 */

import { Counter } from "./counter.ts";
import { Gauge, type GaugeOptions } from "./gauge.ts";
import { Histogram, type HistogramOptions } from "./histogram.ts";
import type { Metric, MetricOptions } from "./metric.ts";

/** The `Content-Type` of what {@linkcode Registry.prototype.render} writes. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * A function a {@linkcode Registry} calls at each scrape, before it renders, to set gauges from
 * state kept elsewhere: memory, open files, the health of upstreams. It must not block for long.
 *
 * @example Mirror a pool's upstreams at scrape time
 * ```ts
 * import { type Collector, Pool, Registry } from "@minginx/minginx";
 *
 * await using pool = new Pool({ upstreams: ["10.0.0.1:80"] });
 * const registry = new Registry();
 * const active = registry.gauge({
 *   name: "minginx_upstream_active_connections",
 *   help: "Connections open to the upstream.",
 *   labelNames: ["upstream"],
 * });
 * const collectUpstreams: Collector = () => {
 *   active.clear(); // upstreams removed since the last scrape disappear
 *   for (const upstream of pool.upstreams) active.set({ upstream: upstream.name }, upstream.active);
 * };
 * registry.addCollector(collectUpstreams);
 * ```
 */
export type Collector = () => void;

/**
 * The metrics of a process, rendered together in the Prometheus text exposition format 0.0.4 for
 * a `/metrics` endpoint. Metric names are unique within a registry, counting the `_bucket`, `_sum`
 * and `_count` names a histogram writes.
 *
 * @example A registry with a counter, a collector and a scrape
 * ```ts
 * import { Registry } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * const accepted = registry.counter({
 *   name: "minginx_connections_accepted_total",
 *   help: "Connections accepted.",
 * });
 * const heap = registry.gauge({ name: "minginx_heap_bytes", help: "Heap in use." });
 * registry.addCollector(() => heap.set(1024));
 * accepted.inc();
 * assert.equal(
 *   registry.render(),
 *   [
 *     "# HELP minginx_connections_accepted_total Connections accepted.",
 *     "# TYPE minginx_connections_accepted_total counter",
 *     "minginx_connections_accepted_total 1",
 *     "# HELP minginx_heap_bytes Heap in use.",
 *     "# TYPE minginx_heap_bytes gauge",
 *     "minginx_heap_bytes 1024",
 *   ].map((line) => `${line}\n`).join(""),
 * );
 * ```
 */
export class Registry {
  readonly #metrics = new Map<string, Metric>();
  readonly #names = new Map<string, string>();
  readonly #collectors = new Set<Collector>();
  #sorted: Metric[] | undefined;

  /** Its metrics, sorted by name. */
  get metrics(): readonly Metric[] {
    return this.#sorted ??= [...this.#metrics.values()].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
  }

  /**
   * Adds a metric.
   *
   * @param metric The metric.
   * @returns `metric`.
   * @throws {TypeError} If a metric of the registry already writes one of the metric's names.
   */
  register<M extends Metric>(metric: M): M {
    const names = namesOf(metric);
    for (const name of names) {
      const owner = this.#names.get(name);
      if (owner === undefined) continue;
      throw new TypeError(
        owner === name && name === metric.name
          ? `Cannot register metric "${name}": expected a name the registry does not have yet`
          : `Cannot register metric "${metric.name}": expected no other metric to write "${name}", which "${owner}" writes`,
      );
    }
    for (const name of names) this.#names.set(name, metric.name);
    this.#metrics.set(metric.name, metric);
    this.#sorted = undefined;
    return metric;
  }

  /**
   * Removes a metric.
   *
   * @param name The metric's name.
   * @returns Whether the registry had it.
   */
  unregister(name: string): boolean {
    const metric = this.#metrics.get(name);
    if (metric === undefined) return false;
    for (const written of namesOf(metric)) this.#names.delete(written);
    this.#metrics.delete(name);
    this.#sorted = undefined;
    return true;
  }

  /**
   * The metric of a name.
   *
   * @param name The metric's name.
   * @returns The metric, or `undefined`.
   */
  get(name: string): Metric | undefined {
    return this.#metrics.get(name);
  }

  /**
   * Creates a {@linkcode Counter} and adds it.
   *
   * @param options The counter's options.
   * @returns The counter.
   * @throws {TypeError} See {@linkcode Counter} and {@linkcode Registry.prototype.register}.
   * @throws {RangeError} See {@linkcode Counter}.
   */
  counter(options: MetricOptions): Counter {
    return this.register(new Counter(options));
  }

  /**
   * Creates a {@linkcode Gauge} and adds it.
   *
   * @param options The gauge's options.
   * @returns The gauge.
   * @throws {TypeError} See {@linkcode Gauge} and {@linkcode Registry.prototype.register}.
   * @throws {RangeError} See {@linkcode Gauge}.
   */
  gauge(options: GaugeOptions): Gauge {
    return this.register(new Gauge(options));
  }

  /**
   * Creates a {@linkcode Histogram} and adds it.
   *
   * @param options The histogram's options.
   * @returns The histogram.
   * @throws {TypeError} See {@linkcode Histogram} and {@linkcode Registry.prototype.register}.
   * @throws {RangeError} See {@linkcode Histogram}.
   */
  histogram(options: HistogramOptions): Histogram {
    return this.register(new Histogram(options));
  }

  /**
   * Adds a collector, called at each render in the order collectors were added. Adding the same
   * function twice adds it once.
   *
   * @param collector The collector.
   * @returns A function that removes it.
   */
  addCollector(collector: Collector): () => void {
    this.#collectors.add(collector);
    return () => this.#collectors.delete(collector);
  }

  /** Runs the collectors, as a render does first. */
  collect(): void {
    for (const collector of this.#collectors) collector();
  }

  /**
   * Runs the collectors, then writes every metric in the Prometheus text exposition format 0.0.4
   * (serve it as {@linkcode PROMETHEUS_CONTENT_TYPE}): metrics sorted by name, each with its
   * `# HELP` and `# TYPE` lines and its series sorted by label values; help text and label values
   * escaped; one line feed at the end of each line. A metric with labels but no series yet is left
   * out.
   *
   * @returns The text; `""` if no metric has a series.
   * @throws Whatever a collector throws.
   */
  render(): string {
    this.collect();
    let text = "";
    for (const metric of this.metrics) text += metric.render();
    return text;
  }
}

function namesOf(metric: Metric): string[] {
  const { name } = metric;
  return metric.type === "histogram"
    ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]
    : [name];
}
