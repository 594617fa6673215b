/**
 * What counters, gauges and histograms share: their name, help and label names, checked once, and
 * their series by label values, with the cap on how many there may be.
 *
 * @module
 */

import type { Metric, MetricOptions, MetricType } from "./metric.ts";
import { SeriesMap } from "./_series.ts";
import { checkLabelNames, checkMetricName } from "./_util.ts";

/** A metric whose series are children of one kind, one for each set of label values. */
export abstract class SeriesMetric<Child> implements Metric {
  /** Its type. */
  abstract readonly type: MetricType;
  /** Its name. */
  readonly name: string;
  /** Its help text. */
  readonly help: string;
  /** Its label names. */
  readonly labelNames: readonly string[];
  /** Its series by label values. */
  protected readonly series: SeriesMap<Child>;

  /**
   * Checks the name and label names and makes the series map.
   *
   * @param options Its name, help, label names and cap on label sets.
   * @param kind Its type, for messages.
   * @param makeChild Makes the child of a new series.
   * @param reserved A label name its type keeps for itself (`le` for a histogram).
   */
  constructor(
    options: MetricOptions,
    kind: MetricType,
    makeChild: () => Child,
    reserved?: string,
  ) {
    this.name = checkMetricName(options.name, kind);
    this.help = String(options.help);
    this.labelNames = checkLabelNames(options.labelNames ?? [], this.name, reserved);
    this.series = new SeriesMap(this.name, this.labelNames, options.maxSeries, makeChild);
  }

  /** How many series it has, the overflow included. */
  get size(): number {
    return this.series.size;
  }

  /**
   * The child of a set of label values, to keep and update: created if new, the same object each
   * time after. Past the cap, the overflow series' child.
   *
   * @param values One value for each label name, in order.
   * @returns The child.
   * @throws {TypeError} If there is not one string for each label name.
   */
  labels(...values: string[]): Child {
    return this.series.byValues(values);
  }

  /**
   * The child of a set of label values if it has a series, without creating one: for reading.
   *
   * @param values One value for each label name, in order.
   * @returns The child, or `undefined`.
   */
  find(...values: string[]): Child | undefined {
    return this.series.find(values);
  }

  /** Every series' label values and child, in no particular order. */
  entries(): IterableIterator<[values: readonly string[], child: Child]> {
    return this.series.entries();
  }

  /**
   * Forgets the series of a set of label values, as when the upstream it counted is removed.
   * A child kept from before no longer shows in scrapes.
   *
   * @param values One value for each label name, in order.
   * @returns Whether there was such a series.
   * @throws {TypeError} If the metric has no labels, or the values do not match them.
   */
  remove(...values: string[]): boolean {
    return this.series.remove(values);
  }

  /** Forgets every series; one without labels starts again from nothing. */
  clear(): void {
    this.series.clear();
  }

  /** Writes the metric in the Prometheus text exposition format. */
  abstract render(): string;
}
