/**
 * The counter: a total that only goes up, such as connections accepted or bytes forwarded.
 *
 * @module
 */

import type { Labels, MetricOptions } from "./metric.ts";
import { SeriesMetric } from "./_series_metric.ts";
import { formatValue } from "./_util.ts";

/**
 * One series of a {@linkcode Counter}, bound to its label values. Keep it where the counting
 * happens: its `inc()` is an addition, with no lookup and no allocation.
 *
 * @example Count on a child kept in advance
 * ```ts
 * import { Counter } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Counter({
 *   name: "minginx_bytes_total",
 *   help: "Bytes forwarded, by direction.",
 *   labelNames: ["direction"],
 * });
 * const up = bytes.labels("up");
 * up.inc(512);
 * up.inc(512);
 * assert.equal(up.value, 1024);
 * assert.equal(bytes.labels("up"), up); // the same child each time
 * ```
 */
export class CounterChild {
  #value = 0;

  /** The total so far. */
  get value(): number {
    return this.#value;
  }

  /**
   * Adds to the total.
   *
   * @param n How much to add, at least 0.
   * @throws {RangeError} If `n` is negative or `NaN`: a counter never goes down.
   */
  inc(n = 1): void {
    if (!(n >= 0)) {
      throw new RangeError(`Cannot add ${n} to a counter: expected a number of at least 0`);
    }
    this.#value += n;
  }
}

/**
 * A counter: a total for each set of label values, that only goes up. Its name ends in `_total`.
 * See {@linkcode MetricOptions} for the naming rules and the cap on label sets.
 *
 * @example Counting with labels
 * ```ts
 * import { Counter } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const accepted = new Counter({
 *   name: "minginx_connections_accepted_total",
 *   help: "Connections accepted, by listener.",
 *   labelNames: ["listener"],
 * });
 * accepted.inc({ listener: "web" });
 * accepted.inc({ listener: "web" }, 2);
 * assert.equal(
 *   accepted.render(),
 *   [
 *     "# HELP minginx_connections_accepted_total Connections accepted, by listener.",
 *     "# TYPE minginx_connections_accepted_total counter",
 *     "minginx_connections_accepted_total{listener=\"web\"} 3",
 *   ].map((line) => `${line}\n`).join(""),
 * );
 * assert.throws(() => new Counter({ name: "accepted", help: "" }), TypeError);
 * ```
 */
export class Counter extends SeriesMetric<CounterChild> {
  /** Its type: `counter`. */
  readonly type: "counter" = "counter";

  /**
   * Creates a counter. A counter without labels starts with its one series at 0.
   *
   * @param options Its name, help, label names and cap on label sets.
   * @throws {TypeError} If the name or a label name breaks Prometheus' rules, or the name does not
   * end in `_total`.
   * @throws {RangeError} If `maxSeries` is not a whole number of at least 1.
   */
  constructor(options: MetricOptions) {
    super(options, "counter", () => new CounterChild());
  }

  /**
   * Adds to the total of a counter without labels.
   *
   * @param n How much to add, at least 0.
   * @throws {TypeError} If the counter has labels.
   * @throws {RangeError} If `n` is negative or `NaN`.
   */
  inc(n?: number): void;
  /**
   * Adds to the total of a set of labels.
   *
   * @param labels A value for each label name.
   * @param n How much to add, at least 0.
   * @throws {TypeError} If the labels do not match the label names.
   * @throws {RangeError} If `n` is negative or `NaN`.
   */
  inc(labels: Labels, n?: number): void;
  inc(labelsOrN?: Labels | number, n = 1): void {
    if (typeof labelsOrN === "number") this.series.byLabels(undefined).inc(labelsOrN);
    else this.series.byLabels(labelsOrN).inc(n);
  }

  /**
   * Writes the counter in the Prometheus text exposition format.
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
