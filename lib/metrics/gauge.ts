/**
 * The gauge: a value that goes up and down, such as open connections or an upstream's weight.
 *
 * @module
 */

import type { Labels, MetricOptions } from "./metric.ts";
import { SeriesMetric } from "./_series_metric.ts";
import { formatValue } from "./_util.ts";

/**
 * One series of a {@linkcode Gauge}, bound to its label values. Keep it where the value changes:
 * its methods are an assignment or an addition, with no lookup and no allocation.
 *
 * @example Track open connections on a child kept in advance
 * ```ts
 * import { Gauge } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const open = new Gauge({
 *   name: "minginx_connections_open",
 *   help: "Connections open now, by listener.",
 *   labelNames: ["listener"],
 * });
 * const web = open.labels("web");
 * web.inc();
 * web.inc();
 * web.dec();
 * assert.equal(web.value, 1);
 * web.set(7);
 * assert.equal(open.labels("web").value, 7);
 * ```
 */
export class GaugeChild {
  #value = 0;

  /** The value now. */
  get value(): number {
    return this.#value;
  }

  /**
   * Sets the value.
   *
   * @param value The new value.
   */
  set(value: number): void {
    this.#value = value;
  }

  /**
   * Adds to the value.
   *
   * @param n How much to add.
   */
  inc(n = 1): void {
    this.#value += n;
  }

  /**
   * Subtracts from the value.
   *
   * @param n How much to subtract.
   */
  dec(n = 1): void {
    this.#value -= n;
  }
}

/**
 * Options for a {@linkcode Gauge}: those of every metric, and how the values of several workers
 * combine when {@linkcode mergeSnapshots} adds up their scrapes.
 *
 * @example A gauge that every worker sets to the same value
 * ```ts
 * import { Gauge, type GaugeOptions } from "@minginx/minginx";
 *
 * const options: GaugeOptions = {
 *   name: "minginx_upstream_weight",
 *   help: "Each upstream's weight.",
 *   labelNames: ["pool", "upstream"],
 *   merge: "max",
 * };
 * const weight = new Gauge(options);
 * ```
 */
export interface GaugeOptions extends MetricOptions {
  /**
   * `sum` for a value that each worker holds a share of (open connections), `max` for one that
   * each worker sets alike (a weight, a state).
   *
   * @default {"sum"}
   */
  merge?: "sum" | "max";
}

/**
 * A gauge: a value for each set of label values, that goes up and down. Gauges that mirror state
 * kept elsewhere (memory, upstream health) are best set by a collector at scrape time; see
 * {@linkcode Registry.prototype.addCollector}. See {@linkcode MetricOptions} for the naming rules
 * and the cap on label sets.
 *
 * @example The state of each upstream, as one series an upstream
 * ```ts
 * import { Gauge } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const up = new Gauge({
 *   name: "minginx_upstream_up",
 *   help: "Whether the upstream takes connections (1) or not (0).",
 *   labelNames: ["pool", "upstream"],
 * });
 * up.set({ pool: "web", upstream: "10.0.0.2:80" }, 0);
 * up.set({ pool: "web", upstream: "10.0.0.1:80" }, 1);
 * assert.equal(
 *   up.render(),
 *   [
 *     "# HELP minginx_upstream_up Whether the upstream takes connections (1) or not (0).",
 *     "# TYPE minginx_upstream_up gauge",
 *     "minginx_upstream_up{pool=\"web\",upstream=\"10.0.0.1:80\"} 1",
 *     "minginx_upstream_up{pool=\"web\",upstream=\"10.0.0.2:80\"} 0",
 *   ].map((line) => `${line}\n`).join(""),
 * );
 * ```
 */
export class Gauge extends SeriesMetric<GaugeChild> {
  /** Its type: `gauge`. */
  readonly type: "gauge" = "gauge";
  /** How the values of several workers combine into one. */
  readonly merge: "sum" | "max";

  /**
   * Creates a gauge. A gauge without labels starts with its one series at 0.
   *
   * @param options Its name, help, label names, cap on label sets and merge rule.
   * @throws {TypeError} If the name or a label name breaks Prometheus' rules.
   * @throws {RangeError} If `maxSeries` is not a whole number of at least 1.
   */
  constructor(options: GaugeOptions) {
    super(options, "gauge", () => new GaugeChild());
    this.merge = options.merge === "max" ? "max" : "sum";
  }

  /**
   * Sets the value of a gauge without labels.
   *
   * @param value The new value.
   * @throws {TypeError} If the gauge has labels.
   */
  set(value: number): void;
  /**
   * Sets the value of a set of labels.
   *
   * @param labels A value for each label name.
   * @param value The new value.
   * @throws {TypeError} If the labels do not match the label names, or the value is not a number.
   */
  set(labels: Labels, value: number): void;
  set(labelsOrValue: Labels | number, value?: number): void {
    if (typeof labelsOrValue === "number") this.series.byLabels(undefined).set(labelsOrValue);
    else if (typeof value === "number") this.series.byLabels(labelsOrValue).set(value);
    else throw new TypeError(`Cannot set gauge "${this.name}" to ${value}: expected a number`);
  }

  /**
   * Adds to the value of a gauge without labels.
   *
   * @param n How much to add.
   * @throws {TypeError} If the gauge has labels.
   */
  inc(n?: number): void;
  /**
   * Adds to the value of a set of labels.
   *
   * @param labels A value for each label name.
   * @param n How much to add.
   * @throws {TypeError} If the labels do not match the label names.
   */
  inc(labels: Labels, n?: number): void;
  inc(labelsOrN?: Labels | number, n = 1): void {
    if (typeof labelsOrN === "number") this.series.byLabels(undefined).inc(labelsOrN);
    else this.series.byLabels(labelsOrN).inc(n);
  }

  /**
   * Subtracts from the value of a gauge without labels.
   *
   * @param n How much to subtract.
   * @throws {TypeError} If the gauge has labels.
   */
  dec(n?: number): void;
  /**
   * Subtracts from the value of a set of labels.
   *
   * @param labels A value for each label name.
   * @param n How much to subtract.
   * @throws {TypeError} If the labels do not match the label names.
   */
  dec(labels: Labels, n?: number): void;
  dec(labelsOrN?: Labels | number, n = 1): void {
    if (typeof labelsOrN === "number") this.series.byLabels(undefined).dec(labelsOrN);
    else this.series.byLabels(labelsOrN).dec(n);
  }

  /**
   * Writes the gauge in the Prometheus text exposition format.
   *
   * @returns Its `# HELP` and `# TYPE` lines and a sample a series; `""` if it has no series.
   */
  render(): string {
    return this.series.render(
      this.help,
      this.type,
      (labels, child) => `${this.name}${labels} ${formatValue(child.value)}\n`,
    );
  }
}
