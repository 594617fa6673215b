/**
 * Medians, ranges and ratios over the rounds of a benchmark run. Every measurement is a run of
 * one target in one round; runs of one round ran back to back, so a ratio taken within a round
 * cancels out the machine's drift between rounds.
 *
 * @module
 */

import type { Target } from "./proxies.ts";

/** The median and range of one figure over the rounds. */
export interface Spread {
  /** The median. */
  median: number;
  /** The smallest value. */
  min: number;
  /** The largest value. */
  max: number;
  /** How many values. */
  n: number;
}

/**
 * One target's figure over another's: the ratio of the medians, and the range of the ratios
 * within each round.
 */
export interface Ratio {
  /** The median over the other's median. */
  ofMedians: number;
  /** The smallest and largest ratio within a round; `null` if no round measured both. */
  perRound: Spread | null;
}

/** What every measured run has. */
export interface Run {
  /** Which target. */
  target: Target;
  /** The round, counted from 1. */
  round: number;
  /** Whether other processes or the hypervisor disturbed it. */
  noisy: boolean;
}

/** Reads one figure from a run; `null` where the run has none (bulk: another direction). */
export type Value<R> = (run: R) => number | null;

/**
 * The median and range of some values.
 *
 * @param values The values; may be empty.
 * @returns The spread, or `null` for no values.
 */
export function spread(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1)!, n: sorted.length };
}

/**
 * The runs of one target that a figure is taken from: of those that have the figure, the
 * undisturbed ones, or all of them if every one was disturbed.
 *
 * @param runs Runs of every target.
 * @param target The target.
 * @param value Reads the figure; without it, every run of the target has it.
 * @returns Its runs to use.
 */
export function usedRuns<R extends Run>(runs: R[], target: Target, value?: Value<R>): R[] {
  const all = runs.filter((r) => r.target === target && (!value || value(r) !== null));
  const clean = all.filter((r) => !r.noisy);
  return clean.length > 0 ? clean : all;
}

/**
 * The spread of one figure of one target over its used runs.
 *
 * @param runs Runs of every target.
 * @param target The target.
 * @param value Reads the figure.
 * @returns The spread, or `null` if no run has the figure.
 */
export function spreadOf<R extends Run>(runs: R[], target: Target, value: Value<R>): Spread | null {
  return spread(usedRuns(runs, target, value).map((r) => value(r)!));
}

/**
 * The paired estimate of a ratio: the median of the ratios within each round, where the two
 * targets ran back to back, if more than one round measured both; else the ratio of medians.
 * Pairing cancels the machine's drift between rounds, which the ratio of medians does not: its
 * two medians can come from different rounds.
 *
 * @param r The ratio.
 * @returns The paired ratio.
 */
export function paired(r: Ratio): number {
  return r.perRound && r.perRound.n > 1 ? r.perRound.median : r.ofMedians;
}

/**
 * One target's figure over another's: the ratio of their medians over the used runs, and the
 * range of the ratios within each round where both have an undisturbed run (or any run, if no
 * round has two undisturbed ones).
 *
 * @param runs Runs of every target.
 * @param value Reads the figure.
 * @param target The numerator's target.
 * @param other The denominator's target.
 * @returns The ratio, or `null` if either has no figure or the other's is not above 0.
 */
export function compare<R extends Run>(
  runs: R[],
  value: Value<R>,
  target: Target,
  other: Target,
): Ratio | null {
  const a = spreadOf(runs, target, value)?.median ?? null;
  const b = spreadOf(runs, other, value)?.median ?? null;
  if (a === null || b === null || b <= 0) return null;
  const pairs = (clean: boolean) => {
    const ratios: number[] = [];
    for (const run of runs) {
      const x = run.target === target && !(clean && run.noisy) ? value(run) : null;
      if (x === null) continue;
      // A round can hold several runs of a target (bulk: one per direction); one has the figure.
      const y = runs.filter((r) => r.target === other && r.round === run.round)
        .map((r) => clean && r.noisy ? null : value(r)).find((v) => v !== null) ?? null;
      if (y !== null && y > 0) ratios.push(x / y);
    }
    return ratios;
  };
  const clean = pairs(true);
  return { ofMedians: a / b, perRound: spread(clean.length > 0 ? clean : pairs(false)) };
}
