/**
 * The histogram: how observations such as connection durations spread over fixed buckets.
 *
 * @module
 */

import type { Labels, MetricOptions } from "./metric.ts";
import { SeriesMetric } from "./_series_metric.ts";
import { checkBuckets, formatValue } from "./_util.ts";

/**
 * Options for a {@linkcode Histogram}: those of every metric, and its buckets.
 *
 * @example Connection durations in seconds
 * ```ts
 * import { Histogram, type HistogramOptions } from "@minginx/minginx";
 *
 * const buckets = [0.01, 0.1, 1, 10, 60, 600];
 * const options: HistogramOptions = { name: "minginx_duration_seconds", help: "Durations.", buckets };
 * const durations = new Histogram(options);
 * ```
 */
export interface HistogramOptions extends MetricOptions {
  /**
   * The buckets' upper bounds: finite numbers in increasing order. The `+Inf` bucket is always
   * added; a last bound of `Infinity` is taken as that one.
   */
  buckets: readonly number[];
}

/**
 * One series of a {@linkcode Histogram}, bound to its label values. Keep it where observations
 * are made: `observe()` walks the bounds and adds, with no lookup and no allocation.
 *
 * @example Observe on a child kept in advance
 * ```ts
 * import { Histogram } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const sizes = new Histogram({
 *   name: "minginx_read_bytes",
 *   help: "Bytes a read returned, by direction.",
 *   labelNames: ["direction"],
 *   buckets: [1024, 16384],
 * });
 * const up = sizes.labels("up");
 * for (const n of [100, 2000, 2000, 70000]) up.observe(n);
 * assert.deepEqual(up.cumulativeCounts(), [1, 3, 4]); // <= 1024, <= 16384, +Inf
 * assert.equal(up.count, 4);
 * assert.equal(up.sum, 74100);
 * ```
 */
export class HistogramChild {
  readonly #bounds: readonly number[];
  readonly #counts: Float64Array;
  #sum = 0;
  #count = 0;

  /**
   * Creates an empty series; {@linkcode Histogram.prototype.labels} makes them.
   *
   * @param bounds The buckets' finite upper bounds, in increasing order.
   */
  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1);
  }

  /** How many observations were made. */
  get count(): number {
    return this.#count;
  }

  /** The sum of the observations. */
  get sum(): number {
    return this.#sum;
  }

  /**
   * Records an observation in the first bucket whose bound is at least `value`.
   *
   * @param value The observation.
   * @throws {RangeError} If `value` is `NaN`.
   */
  observe(value: number): void {
    if (value !== value) throw new RangeError("Cannot observe NaN: expected a number");
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.#counts[i]++;
    this.#sum += value;
    this.#count++;
  }

  /**
   * Adds the observations of another series with the same bounds, as when the scrapes of several
   * workers are merged.
   *
   * @param cumulative Its counts at most each bound, then its count (`cumulativeCounts()`).
   * @param sum Its sum.
   * @throws {RangeError} If there is not one count a bound and one more.
   */
  add(cumulative: readonly number[], sum: number): void {
    if (cumulative.length !== this.#counts.length) {
      throw new RangeError(
        `Cannot add ${cumulative.length} bucket counts: expected ${this.#counts.length}`,
      );
    }
    let before = 0;
    for (let i = 0; i < cumulative.length; i++) {
      this.#counts[i] += cumulative[i] - before;
      before = cumulative[i];
    }
    this.#sum += sum;
    this.#count += before;
  }

  /**
   * The observations at most each bound, as the `_bucket` samples count them.
   *
   * @returns One count a bound, then the count of all (the `+Inf` bucket).
   */
  cumulativeCounts(): number[] {
    let total = 0;
    return Array.from(this.#counts, (n) => total += n);
  }
}

/**
 * A histogram: for each set of label values, the count of observations at most each of a fixed
 * list of bounds, their sum and their count, written as `NAME_bucket{le="..."}` (cumulative, up to
 * `le="+Inf"`), `NAME_sum` and `NAME_count`. See {@linkcode MetricOptions} for the naming rules and
 * the cap on label sets; a histogram may not have a label named `le`.
 *
 * @example Connection durations
 * ```ts
 * import { Histogram } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const durations = new Histogram({
 *   name: "minginx_connection_duration_seconds",
 *   help: "How long connections lasted.",
 *   buckets: [0.1, 1],
 * });
 * durations.observe(0.05);
 * durations.observe(0.5);
 * durations.observe(3);
 * assert.equal(
 *   durations.render(),
 *   [
 *     "# HELP minginx_connection_duration_seconds How long connections lasted.",
 *     "# TYPE minginx_connection_duration_seconds histogram",
 *     "minginx_connection_duration_seconds_bucket{le=\"0.1\"} 1",
 *     "minginx_connection_duration_seconds_bucket{le=\"1\"} 2",
 *     "minginx_connection_duration_seconds_bucket{le=\"+Inf\"} 3",
 *     "minginx_connection_duration_seconds_sum 3.55",
 *     "minginx_connection_duration_seconds_count 3",
 *   ].map((line) => `${line}\n`).join(""),
 * );
 * ```
 */
export class Histogram extends SeriesMetric<HistogramChild> {
  /** Its type: `histogram`. */
  readonly type: "histogram" = "histogram";
  /** The buckets' finite upper bounds, in increasing order; `+Inf` is implied. */
  readonly buckets: readonly number[];
  readonly #le: readonly string[];

  /**
   * Creates a histogram. A histogram without labels starts with its one series empty.
   *
   * @param options Its name, help, label names, cap on label sets and buckets.
   * @throws {TypeError} If the name or a label name breaks Prometheus' rules, or a label is `le`.
   * @throws {RangeError} If the buckets are not finite and increasing, or `maxSeries` is not a
   * whole number of at least 1.
   */
  constructor(options: HistogramOptions) {
    const buckets = checkBuckets(options.buckets, options.name);
    super(options, "histogram", () => new HistogramChild(buckets), "le");
    this.buckets = buckets;
    this.#le = [...buckets.map((bound) => `le="${formatValue(bound)}"}`), 'le="+Inf"}'];
  }

  /**
   * Records an observation in a histogram without labels.
   *
   * @param value The observation.
   * @throws {TypeError} If the histogram has labels.
   * @throws {RangeError} If `value` is `NaN`.
   */
  observe(value: number): void;
  /**
   * Records an observation for a set of labels.
   *
   * @param labels A value for each label name.
   * @param value The observation.
   * @throws {TypeError} If the labels do not match the label names.
   * @throws {RangeError} If `value` is `NaN`.
   */
  observe(labels: Labels, value: number): void;
  observe(labelsOrValue: Labels | number, value?: number): void {
    if (typeof labelsOrValue === "number") this.series.byLabels(undefined).observe(labelsOrValue);
    else this.series.byLabels(labelsOrValue).observe(value ?? NaN);
  }

  /**
   * Writes the histogram in the Prometheus text exposition format.
   *
   * @returns Its `# HELP` and `# TYPE` lines and for each series its cumulative `_bucket` samples
   * up to `le="+Inf"`, its `_sum` and its `_count`; `""` if it has no series.
   */
  render(): string {
    const { name } = this;
    return this.series.render(this.help, this.type, (labels, child) => {
      const open = labels === "" ? "{" : `${labels.slice(0, -1)},`;
      const counts = child.cumulativeCounts();
      let text = "";
      for (let i = 0; i < counts.length; i++) {
        text += `${name}_bucket${open}${this.#le[i]} ${formatValue(counts[i])}\n`;
      }
      return `${text}${name}_sum${labels} ${formatValue(child.sum)}\n` +
        `${name}_count${labels} ${formatValue(child.count)}\n`;
    });
  }
}
