/**
 * The series of one metric: a child for each tuple of label values, kept in a map keyed by the
 * joined values, with a cap past which new tuples share one overflow series. Not exported from
 * mod.ts.
 *
 * @module
 */

import { checkWhole } from "../_util.ts";
import { DEFAULT_MAX_SERIES, type Labels, OVERFLOW_LABEL_VALUE } from "./metric.ts";
import { escapeHelp, formatLabels, keyPart, seriesKey } from "./_util.ts";

interface Series<Child> {
  /** The labels with their braces, such as `{pool="web"}`, or `""` without labels. */
  readonly labels: string;
  /** The label values, in the order of the label names. */
  readonly values: readonly string[];
  /** The child holding the series' value. */
  readonly child: Child;
}

/** The series of one metric, and the lookups its `labels()`, `inc()`, `set()` and `observe()` use. */
export class SeriesMap<Child> {
  readonly #metric: string;
  readonly #names: readonly string[];
  readonly #max: number;
  readonly #create: () => Child;
  readonly #overflowKey: string;
  readonly #series = new Map<string, Series<Child>>();
  #only: Child | undefined;

  /**
   * Creates the series of a metric; a metric without labels gets its one series at once.
   *
   * @param metric The metric's name, for messages.
   * @param names Its label names, already checked.
   * @param maxSeries The cap, or `undefined` for the default.
   * @param create Makes the child of a new series.
   * @throws {RangeError} If `maxSeries` is not a whole number of at least 1.
   */
  constructor(
    metric: string,
    names: readonly string[],
    maxSeries: number | undefined,
    create: () => Child,
  ) {
    this.#metric = metric;
    this.#names = names;
    this.#max = checkWhole(maxSeries ?? DEFAULT_MAX_SERIES, "maxSeries", 1, " of series");
    this.#create = create;
    this.#overflowKey = seriesKey(names.map(() => OVERFLOW_LABEL_VALUE));
    if (names.length === 0) this.#only = this.#add("", []);
  }

  /** How many series there are, the overflow included. */
  get size(): number {
    return this.#series.size;
  }

  /**
   * The child of a tuple of label values, created if new (or the overflow's, past the cap).
   *
   * @param values One value for each label name, in order.
   * @returns The child.
   * @throws {TypeError} If the values do not match the label names.
   */
  byValues(values: readonly string[]): Child {
    this.#check(values);
    const key = seriesKey(values);
    return this.#series.get(key)?.child ?? this.#add(key, values);
  }

  /**
   * The child of a tuple of label values, if there is such a series; never creates one.
   *
   * @param values One value for each label name, in order.
   * @returns The child, or `undefined`.
   */
  find(values: readonly string[]): Child | undefined {
    return this.#series.get(seriesKey(values))?.child;
  }

  /** Every series' label values and child, in no particular order. */
  *entries(): IterableIterator<[values: readonly string[], child: Child]> {
    for (const { values, child } of this.#series.values()) yield [values, child];
  }

  /**
   * The child of a set of labels by name, or of the only series when `labels` is `undefined`.
   *
   * @param labels A value for each label name and no other, or `undefined` if there are none.
   * @returns The child.
   * @throws {TypeError} If the labels do not match the label names.
   */
  byLabels(labels: Labels | undefined): Child {
    if (this.#only !== undefined && (labels === undefined || isEmpty(labels))) return this.#only;
    if (labels == null || typeof labels !== "object") throw this.#error(labels);
    const names = this.#names;
    let key = "";
    for (let i = 0; i < names.length; i++) {
      const value = labels[names[i]];
      if (typeof value !== "string") throw this.#error(labels);
      key += i === 0 ? keyPart(value) : "\0" + keyPart(value);
    }
    let count = 0;
    for (const _ in labels) count++;
    if (count !== names.length) throw this.#error(labels);
    return this.#series.get(key)?.child ??
      this.#add(key, names.map((name) => labels[name]));
  }

  /**
   * Forgets the series of a tuple of label values.
   *
   * @param values One value for each label name, in order.
   * @returns Whether there was such a series.
   * @throws {TypeError} If the values do not match the label names, or there are no labels.
   */
  remove(values: readonly string[]): boolean {
    if (this.#only !== undefined) {
      throw new TypeError(
        `Cannot remove a series of metric "${this.#metric}": expected a metric with labels`,
      );
    }
    this.#check(values);
    return this.#series.delete(seriesKey(values));
  }

  /** Forgets every series; a metric without labels gets a new one at zero. */
  clear(): void {
    this.#series.clear();
    if (this.#only !== undefined) this.#only = this.#add("", []);
  }

  /**
   * Writes the metric in the text exposition format: its `# HELP` and `# TYPE` lines, then the
   * samples of each series, the series sorted by their label values.
   *
   * @param help The help text.
   * @param type The metric's type.
   * @param write Writes the sample lines of one series from its labels (`{pool="web"}` or `""`).
   * @returns The text; `""` if there is no series.
   */
  render(help: string, type: string, write: (labels: string, child: Child) => string): string {
    if (this.#series.size === 0) return "";
    let text = `# HELP ${this.#metric} ${escapeHelp(help)}\n# TYPE ${this.#metric} ${type}\n`;
    for (const key of [...this.#series.keys()].sort()) {
      const { labels, child } = this.#series.get(key)!;
      text += write(labels, child);
    }
    return text;
  }

  #add(key: string, values: readonly string[]): Child {
    const overflow = this.#series.get(this.#overflowKey);
    if (this.#series.size - (overflow === undefined ? 0 : 1) >= this.#max) {
      if (overflow !== undefined) return overflow.child;
      key = this.#overflowKey;
      values = this.#names.map(() => OVERFLOW_LABEL_VALUE);
    }
    const labels = values.length === 0 ? "" : `{${formatLabels(this.#names, values)}}`;
    const series = { labels, values, child: this.#create() };
    this.#series.set(key, series);
    return series.child;
  }

  #check(values: readonly string[]): void {
    if (values.length !== this.#names.length || values.some((v) => typeof v !== "string")) {
      throw this.#error(values);
    }
  }

  #error(labels: unknown): TypeError {
    const expected = this.#names.length === 0
      ? "no labels"
      : `a string value for each of ${this.#names.join(", ")} and no other`;
    return new TypeError(
      `Cannot use labels ${
        JSON.stringify(labels)
      } for metric "${this.#metric}": expected ${expected}`,
    );
  }
}

function isEmpty(labels: Labels): boolean {
  for (const _ in labels) return false;
  return true;
}
