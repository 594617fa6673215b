/**
 * Rates as operators write them, `COUNT/s` or `COUNT/m` (nginx's `r/s` and `r/m`): read for
 * `--rate-limit` and a config's `rate`, and written back in the messages of the rate limiters.
 *
 * @module
 */

const RATE = /^([0-9]+(?:\.[0-9]+)?)\/([sm])$/;
const SECONDS: Record<string, number> = { s: 1, m: 60 };

/**
 * Parses a rate as operators write it, `COUNT/s` or `COUNT/m` (nginx's `r/s` and `r/m`), such as
 * `20/s`, `2.5/s` or `600/m`.
 *
 * @param text The rate.
 * @param label What the text is, for the error message.
 * @returns The rate in tokens (here, new connections) per second.
 * @throws {TypeError} If the text is not a rate, or its count is 0.
 *
 * @example Rates per second and per minute
 * ```ts
 * import { parseRate } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseRate("20/s"), 20);
 * assert.equal(parseRate("600/m"), 10);
 * assert.throws(() => parseRate("20/x"), {
 *   name: "TypeError",
 *   message: 'Cannot parse --rate-limit "20/x": expected COUNT/s or COUNT/m, such as 20/s',
 * });
 * ```
 */
export function parseRate(text: string, label = "--rate-limit"): number {
  const match = RATE.exec(text);
  const count = match ? Number(match[1]) : NaN;
  if (!match || !Number.isFinite(count)) {
    throw new TypeError(
      `Cannot parse ${label} "${text}": expected COUNT/s or COUNT/m, such as 20/s`,
    );
  }
  if (count === 0) {
    throw new TypeError(`Cannot parse ${label} "${text}": expected a COUNT above 0, such as 20/s`);
  }
  return count / SECONDS[match[2]];
}

/**
 * A rate as `COUNT/s`, or as `COUNT/m` below one a second: how {@linkcode parseRate} reads it.
 *
 * @param perSecond Tokens per second.
 * @returns The text, such as `20/s` or `30/m`.
 *
 * @example A fast rate and a slow one
 * ```ts
 * import { formatRate } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatRate(20), "20/s");
 * assert.equal(formatRate(0.5), "30/m");
 * ```
 */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1) return `${Number(perSecond.toPrecision(6))}/s`;
  return `${Number((perSecond * 60).toPrecision(6))}/m`;
}
