/**
 * Sizes as operators write them: `100`, `64KB`, `32KiB`, `1MiB`, `1.5GB`.
 *
 * @module
 */

const UNIT_BYTES: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
};
const SIZE = /^([0-9]+(?:\.[0-9]+)?)(b|kb|mb|gb|kib|mib|gib)?$/i;

/**
 * The whole bytes a size stands for: a number, optionally with a unit of B, KB, MB, GB (powers of
 * 1000) or KiB, MiB, GiB (powers of 1024), in any case; fractions are rounded.
 *
 * @param text The size, such as `"64KB"` or `"1MiB"`.
 * @returns The bytes, or undefined if the text is no size.
 *
 * @example Reading sizes
 * ```ts
 * import { bytesIn } from "./size.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(bytesIn("32KiB"), 32_768);
 * assert.equal(bytesIn("1.5kb"), 1_500);
 * assert.equal(bytesIn("lots"), undefined);
 * ```
 */
export function bytesIn(text: string): number | undefined {
  const match = SIZE.exec(text);
  if (match === null) return undefined;
  const bytes = Math.round(Number(match[1]) * UNIT_BYTES[(match[2] ?? "").toLowerCase()]);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/**
 * Parses a size, as {@linkcode bytesIn} reads it, of at least `min` bytes.
 *
 * @param text The size.
 * @param label What the text is, for error messages, such as `"--max-body-size"`.
 * @param min The fewest bytes accepted.
 * @returns The bytes.
 * @throws {TypeError} If the text is no size, or a size below `min`.
 *
 * @example A size with its flag in the message
 * ```ts
 * import { parseSize } from "./size.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseSize("1MiB", "--max-body-size"), 1_048_576);
 * assert.throws(() => parseSize("1 MiB", "--max-body-size"), {
 *   message: 'Cannot parse --max-body-size "1 MiB": expected a size such as 100, 64KB or 1MiB',
 * });
 * ```
 */
export function parseSize(text: string, label = "size", min = 0): number {
  const bytes = bytesIn(text);
  if (bytes === undefined) {
    throw new TypeError(
      `Cannot parse ${label} "${text}": expected a size such as 100, 64KB or 1MiB`,
    );
  }
  if (bytes < min) {
    throw new TypeError(
      `Cannot parse ${label} "${text}": expected a size of at least ${min} bytes`,
    );
  }
  return bytes;
}
