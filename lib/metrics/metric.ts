/**
 * What every metric shares: its options, its label sets, and what a {@linkcode Registry} needs of
 * it to render a scrape.
 *
 * @module
 */

/**
 * The labels of one series, by name: `{ pool: "web", reason: "client_closed" }`.
 *
 * @example Counting connection endings by pool and reason
 * ```ts
 * import { Counter, type Labels } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const closed = new Counter({
 *   name: "minginx_connections_closed_total",
 *   help: "Connections closed, by pool and reason.",
 *   labelNames: ["pool", "reason"],
 * });
 * const labels: Labels = { pool: "web", reason: "client_closed" };
 * closed.inc(labels);
 * assert.equal(closed.labels("web", "client_closed").value, 1);
 * ```
 */
export type Labels = Readonly<Record<string, string>>;

/** The metric types minginx writes, as the `# TYPE` line names them. */
export type MetricType = "counter" | "gauge" | "histogram";

/** The most series a metric keeps by default before it sends new label sets to the overflow. */
export const DEFAULT_MAX_SERIES = 1000;

/** The value of every label of the overflow series that takes label sets beyond the cap. */
export const OVERFLOW_LABEL_VALUE = "other";

/**
 * Options for a {@linkcode Counter}, a {@linkcode Gauge} or a {@linkcode Histogram}.
 *
 * A metric keeps one series for each tuple of label values it has seen, up to `maxSeries`. After
 * that, a new tuple goes to a single overflow series whose every label is `"other"` (a tuple that
 * is `"other"` throughout shares it, and does not count toward the cap), so that a scrape stays
 * small whatever the traffic. Removing a series frees its place. Labels should name things of which there are few (a
 * pool, an upstream, a close reason), never a client's address.
 *
 * @example A counter with a small cap
 * ```ts
 * import { Counter, type MetricOptions } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const options: MetricOptions = {
 *   name: "minginx_sni_connections_total",
 *   help: "Connections by TLS server name.",
 *   labelNames: ["server_name"],
 *   maxSeries: 2,
 * };
 * const bySni = new Counter(options);
 * for (const name of ["a.example", "b.example", "c.example", "d.example"]) {
 *   bySni.inc({ server_name: name });
 * }
 * assert.equal(bySni.labels("other").value, 2); // c and d went to the overflow
 * assert.equal(bySni.size, 3);
 * ```
 */
export interface MetricOptions {
  /**
   * The metric's name: `[a-zA-Z_:][a-zA-Z0-9_:]*`, not starting with `__`. A counter's name ends in
   * `_total`.
   */
  name: string;
  /** What the metric measures, for the `# HELP` line. */
  help: string;
  /**
   * The names of its labels: `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`, each once. A
   * histogram may not have a label named `le`.
   *
   * @default {[]}
   */
  labelNames?: readonly string[];
  /**
   * The most series it keeps before new label sets go to the overflow series; a whole number of at
   * least 1. With the overflow, a metric has at most `maxSeries + 1` series.
   *
   * @default {1000}
   */
  maxSeries?: number;
}

/**
 * What a {@linkcode Registry} needs of a metric: its name and type, and its samples as text.
 * {@linkcode Counter}, {@linkcode Gauge} and {@linkcode Histogram} are metrics.
 *
 * @example Render one metric alone
 * ```ts
 * import { Gauge, type Metric } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const open: Metric = new Gauge({ name: "minginx_open", help: "Open connections." });
 * assert.equal(open.render(), "# HELP minginx_open Open connections.\n# TYPE minginx_open gauge\nminginx_open 0\n");
 * ```
 */
export interface Metric {
  /** Its name. */
  readonly name: string;
  /** Its help text. */
  readonly help: string;
  /** Its type. */
  readonly type: MetricType;
  /** Its label names. */
  readonly labelNames: readonly string[];
  /** How many series it has now, the overflow series included. */
  readonly size: number;
  /**
   * Writes its `# HELP` and `# TYPE` lines and its samples, its series sorted by label values, in
   * the Prometheus text exposition format 0.0.4. A metric with labels but no series yet writes
   * nothing.
   *
   * @returns The lines, each ending in a line feed; `""` if it has no series.
   */
  render(): string;
}
