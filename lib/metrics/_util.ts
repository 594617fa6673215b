/**
 * Private helpers of the metrics: the Prometheus naming rules, and the escaping and number format of
 * the text exposition format 0.0.4. Not exported from mod.ts.
 *
 * @module
 */

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Checks a metric's name against Prometheus' rules.
 *
 * @param name The name.
 * @param kind The metric's type, for the message: `"counter"`.
 * @returns `name`.
 * @throws {TypeError} `Cannot create counter "a-b": expected a name matching ...`, or for a
 * counter whose name does not end in `_total`.
 */
export function checkMetricName(name: string, kind: string): string {
  if (typeof name !== "string" || !METRIC_NAME.test(name) || name.startsWith("__")) {
    throw new TypeError(
      `Cannot create ${kind} "${name}": expected a name matching [a-zA-Z_:][a-zA-Z0-9_:]* not starting with __`,
    );
  }
  if (kind === "counter" && !name.endsWith("_total")) {
    throw new TypeError(`Cannot create counter "${name}": expected a name ending in _total`);
  }
  return name;
}

/**
 * Checks a metric's label names: each valid, none repeated, none of those the type reserves.
 *
 * @param names The label names.
 * @param metric The metric's name, for the message.
 * @param reserved A label name the metric's type writes itself, such as `le` for a histogram.
 * @returns A frozen copy of `names`.
 * @throws {TypeError} `Cannot use label "__a" for metric "x_total": expected ...`.
 */
export function checkLabelNames(
  names: readonly string[],
  metric: string,
  reserved?: string,
): readonly string[] {
  const seen = new Set<string>();
  for (const name of names) {
    const problem = typeof name !== "string" || !LABEL_NAME.test(name) || name.startsWith("__")
      ? "a name matching [a-zA-Z_][a-zA-Z0-9_]* not starting with __"
      : name === reserved
      ? `a name other than ${reserved}, which the metric writes itself`
      : seen.has(name)
      ? "each label name once"
      : undefined;
    if (problem) {
      throw new TypeError(`Cannot use label "${name}" for metric "${metric}": expected ${problem}`);
    }
    seen.add(name);
  }
  return Object.freeze([...names]);
}

/**
 * Escapes the text of a `# HELP` line: a backslash as `\\`, a line feed as `\n`.
 *
 * @param text The help text.
 * @returns The escaped text.
 */
export function escapeHelp(text: string): string {
  return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/**
 * Escapes a label value: a backslash as `\\`, a double quote as `\"`, a line feed as `\n`.
 *
 * @param value The label value.
 * @returns The escaped value, without its quotes.
 */
export function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

/**
 * Writes the labels of a series as the exposition format writes them between braces.
 *
 * @param names The label names.
 * @param values Their values, in the same order.
 * @returns Text such as `pool="web",state="up"`, or `""` without labels.
 */
export function formatLabels(names: readonly string[], values: readonly string[]): string {
  return names.map((name, i) => `${name}="${escapeLabelValue(values[i])}"`).join(",");
}

/**
 * Writes a sample value as Prometheus parses it: integers plainly, `+Inf`, `-Inf` and `NaN` by
 * name, other numbers in JavaScript's shortest round-trip form (`0.25`, `1e-7`, `1e+21`).
 *
 * @param value The value.
 * @returns Its text.
 */
export function formatValue(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/**
 * Turns label values into the key of their series: the values joined by NUL characters. A value
 * that holds a NUL or a backslash is escaped first, so that two different tuples never share a key.
 *
 * @param values The label values.
 * @returns The key.
 */
export function seriesKey(values: readonly string[]): string {
  let key = "";
  for (let i = 0; i < values.length; i++) {
    key += i === 0 ? keyPart(values[i]) : "\0" + keyPart(values[i]);
  }
  return key;
}

/**
 * One label value as a part of a series key.
 *
 * @param value The label value.
 * @returns The value itself, or escaped if it holds a NUL or a backslash.
 */
export function keyPart(value: string): string {
  if (!value.includes("\0") && !value.includes("\\")) return value;
  return value.replaceAll("\\", "\\\\").replaceAll("\0", "\\0");
}

/**
 * Checks a histogram's bucket bounds: finite and increasing; a last `Infinity` is dropped, as the
 * `+Inf` bucket is always there.
 *
 * @param buckets The bounds.
 * @param name The histogram's name, for the message.
 * @returns The finite bounds, frozen.
 * @throws {RangeError} `Cannot use buckets [2,1] for histogram "h": expected finite numbers ...`.
 */
export function checkBuckets(buckets: readonly number[], name: string): readonly number[] {
  const bounds = Array.isArray(buckets) ? [...buckets] : [NaN];
  if (bounds.at(-1) === Infinity) bounds.pop();
  bounds.forEach((bound, i) => {
    if (typeof bound !== "number" || !Number.isFinite(bound) || (i > 0 && bound <= bounds[i - 1])) {
      throw new RangeError(
        `Cannot use buckets [${buckets}] for histogram "${name}": expected finite numbers in increasing order`,
      );
    }
  });
  return Object.freeze(bounds);
}
