/**
 * Running one workload over every target and round: the targets take turns within a round, so
 * that drift of the machine over the run falls between rounds rather than between targets; a
 * measurement that fails is recorded and the others go on. Bare minginx and each of its variants
 * (with layers, with metrics), whose difference is small, run back to back and swap places every
 * other round, so that whatever the one before leaves behind (sockets in TIME_WAIT, a warm
 * cache) favours neither.
 *
 * @module
 */

import { VARIANTS } from "./minginx_proxy.ts";
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
 * The order the targets run in within one round: bare minginx and its variants, whose
 * differences are small, run back to back, bare minginx between them, where the first of them
 * is in the usual order; the other targets keep their order. In odd rounds `minginx-metrics`
 * runs just before bare minginx and `minginx-layers` just after it; in even rounds the other
 * way round. So each variant runs next to bare minginx in every round, and swaps places with it
 * every other round.
 *
 * @param targets The targets, in their usual order.
 * @param round The round, counted from 1.
 * @returns The targets in the order to run them.
 */
export function roundOrder(targets: readonly Target[], round: number): Target[] {
  // Odd rounds; with one variant only, bare minginx goes first if it is minginx-layers.
  const odd: Target[] = [VARIANTS[1], "minginx", VARIANTS[0]];
  const group = odd.filter((t) => targets.includes(t));
  if (round % 2 === 0) group.reverse();
  const first = targets.findIndex((t) => group.includes(t));
  if (first < 0) return [...targets];
  const rest = targets.filter((t) => !group.includes(t));
  rest.splice(first, 0, ...group);
  return rest;
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
