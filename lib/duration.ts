/**
 * Durations as operators write them: `500ms`, `5s`, `10m`, `1h`, `1m30s`.
 *
 * @module
 */

/**
 * The longest duration a timer can hold: 2^31 - 1 milliseconds, about 24.8 days.
 *
 * @example The longest duration parseDuration accepts
 * ```ts
 * import { MAX_DURATION_MS, parseDuration } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.ok(parseDuration("596h") <= MAX_DURATION_MS);
 * assert.throws(() => parseDuration("597h"));
 * ```
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const WHOLE = /^(?:[0-9]+(?:\.[0-9]+)?(?:ms|s|m|h))+$/;
const PART = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g;

/**
 * Parses a duration: `0`, or one or more numbers each followed by a unit of `ms`, `s`, `m` or `h`.
 *
 * @param text The text to parse, such as `"5s"`, `"1.5m"` or `"1h30m"`.
 * @param label What the text is, for error messages, such as `"--idle-timeout"`.
 * @returns The duration in whole milliseconds (fractions are rounded).
 * @throws {TypeError} If the text is not a duration, or is longer than a timer can hold.
 *
 * @example Parsing durations
 * ```ts
 * import { parseDuration } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseDuration("500ms"), 500);
 * assert.equal(parseDuration("1m30s"), 90_000);
 * assert.equal(parseDuration("0"), 0);
 * assert.throws(() => parseDuration("10", "--idle-timeout"), TypeError);
 * ```
 */
export function parseDuration(text: string, label = "duration"): number {
  if (text === "0") return 0;
  if (!WHOLE.test(text)) {
    throw new TypeError(
      `Cannot parse ${label} "${text}": expected a duration such as 500ms, 5s, 10m or 1h`,
    );
  }
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit];
  ms = Math.round(ms);
  if (ms > MAX_DURATION_MS) {
    throw new TypeError(`Cannot parse ${label} "${text}": expected a duration of at most 596h`);
  }
  return ms;
}

/**
 * Formats milliseconds in the largest unit that divides them exactly, as in `--help`.
 *
 * @param ms A duration in milliseconds.
 * @returns The text, such as `"5s"` for 5000 or `"10m"` for 600000.
 *
 * @example Formatting durations
 * ```ts
 * import { formatDuration } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatDuration(5_000), "5s");
 * assert.equal(formatDuration(600_000), "10m");
 * assert.equal(formatDuration(1_500), "1500ms");
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0";
  for (const unit of ["h", "m", "s"]) {
    if (ms % UNIT_MS[unit] === 0) return `${ms / UNIT_MS[unit]}${unit}`;
  }
  return `${ms}ms`;
}
