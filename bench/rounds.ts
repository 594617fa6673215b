/**
 * Running one workload over every target and round: the targets take turns within a round, so
 * that drift of the machine over the run falls between rounds rather than between targets; a
 * measurement that fails is recorded and the others go on. Bare minginx and minginx with layers,
 * whose difference is small, run back to back and swap places every other round, so that
 * whatever the one before leaves behind (sockets in TIME_WAIT, a warm cache) favours neither.
 *
 * @module
 */

import type { Workload } from "./options.ts";
import type { Target } from "./proxies.ts";

/** A measurement that failed, and why. */
export interface Failure {
  /** The target it measured. */
  target: Target;
  /** The workload. */
  workload: Workload;
  /** The error message. */
  error: string;
}

/**
 * Pairs of targets compared with each other so closely that running first must not favour
 * either: in even rounds they swap places.
 */
export const SWAPPED_PAIRS: readonly (readonly [Target, Target])[] = [
  ["minginx", "minginx-layers"],
];

/**
 * The order the targets run in within one round: as given in odd rounds, and with each pair of
 * {@linkcode SWAPPED_PAIRS} that is present swapped in even rounds.
 *
 * @param targets The targets, in their usual order.
 * @param round The round, counted from 1.
 * @returns The targets in the order to run them.
 */
export function roundOrder(targets: readonly Target[], round: number): Target[] {
  const order = [...targets];
  if (round % 2 === 1) return order;
  for (const [a, b] of SWAPPED_PAIRS) {
    const i = order.indexOf(a);
    const j = order.indexOf(b);
    if (i >= 0 && j >= 0) [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** How {@linkcode measureRounds} runs and reports. */
export interface RoundsOptions {
  /** The workload in words, the start of its progress lines, e.g. `Keep-alive HTTP`. */
  title: string;
  /** The workload, for failures. */
  workload: Workload;
  /** The targets, in order. */
  targets: Target[];
  /** How many rounds. */
  rounds: number;
  /** Where failures are recorded. */
  failures: Failure[];
  /** Prints a progress line. */
  progress: (line: string) => void;
}

/**
 * Measures every target in every round, in the {@linkcode roundOrder} of that round.
 *
 * @param options The workload, targets, rounds, and where failures and progress go.
 * @param measure Measures one target in one round, with a progress function labelled for it;
 *   it may return one result or several (one per direction, say).
 * @returns Every result, in the order measured.
 */
export async function measureRounds<T>(
  options: RoundsOptions,
  measure: (target: Target, round: number, progress: (line: string) => void) => Promise<T | T[]>,
): Promise<T[]> {
  const results: T[] = [];
  for (let round = 1; round <= options.rounds; round++) {
    const label = options.rounds > 1 ? ` round ${round}/${options.rounds}:` : "";
    const progress = (line: string) => options.progress(`${options.title}:${label} ${line}`);
    for (const target of roundOrder(options.targets, round)) {
      try {
        const result = await measure(target, round, progress);
        results.push(...(Array.isArray(result) ? result : [result]));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        progress(`${target}: FAILED: ${message}`);
        options.failures.push({ target, workload: options.workload, error: message });
      }
    }
  }
  return results;
}
