/**
 * Private helpers shared by the library's files; not exported from mod.ts.
 *
 * @module
 */

import { MAX_DURATION_MS } from "./duration.ts";

/**
 * The message of anything thrown: an `Error`'s message, or the value as text.
 *
 * @param error What was thrown.
 * @returns Text for a log line or a report.
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Checks a duration option: whole milliseconds that a timer can hold.
 *
 * @param ms The option's value.
 * @param what The option, as the message names it: `"idle timeout"`, `"fault latency"`.
 * @returns `ms`.
 * @throws {RangeError} `Cannot use idle timeout -1: expected whole milliseconds from 0 to ...`.
 */
export function checkMs(ms: number, what: string): number {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_DURATION_MS) {
    throw new RangeError(
      `Cannot use ${what} ${ms}: expected whole milliseconds from 0 to ${MAX_DURATION_MS}`,
    );
  }
  return ms;
}

/**
 * Checks a count option: a whole number of at least `min`.
 *
 * @param value The option's value.
 * @param what The option, as the message names it: `"max"`, `"fault slice"`.
 * @param min The smallest value allowed.
 * @param unit What is counted, for the message: `" of connections"`, or `""`.
 * @returns `value`.
 * @throws {RangeError} `Cannot use max 0: expected a whole number of connections, at least 1`.
 */
export function checkWhole(value: number, what: string, min: number, unit = ""): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Cannot use ${what} ${value}: expected a whole number${unit}, at least ${min}`,
    );
  }
  return value;
}
