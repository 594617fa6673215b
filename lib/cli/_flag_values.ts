/**
 * Reading the values of flags that several groups of flags have: durations, whole numbers and
 * names from a list, each with the same message when it is wrong. Private to the CLI.
 *
 * @module
 */

import { parseDuration } from "../duration.ts";

/** What parseArgs returned as `values`. */
export type Values = Record<string, string | string[] | boolean | undefined>;

/**
 * A duration flag, in milliseconds.
 *
 * @param values The flags' values.
 * @param name The flag's long name, without `--`.
 * @param fallback Its value when not given.
 * @param zero Whether 0 is allowed (it often means "no limit").
 * @returns The milliseconds.
 * @throws {TypeError} `Cannot parse --NAME "TEXT": expected a duration above 0, such as 2s`.
 */
export function durationFlag(values: Values, name: string, fallback: number, zero = false): number {
  const text = values[name];
  if (typeof text !== "string") return fallback;
  const ms = parseDuration(text, `--${name}`);
  if (ms > 0 || zero) return ms;
  throw new TypeError(`Cannot parse --${name} "${text}": expected a duration above 0, such as 2s`);
}

/**
 * A flag that counts something, from `lowest` to `highest`.
 *
 * @param values The flags' values.
 * @param name The flag's long name, without `--`.
 * @param fallback Its value when not given.
 * @param lowest The smallest value allowed.
 * @param highest The largest.
 * @returns The number.
 * @throws {TypeError} `Cannot parse --NAME "TEXT": expected a whole number, at least 1`.
 */
export function wholeFlag(
  values: Values,
  name: string,
  fallback: number,
  lowest: number,
  highest = 999_999_999,
): number {
  const text = values[name];
  if (typeof text !== "string") return fallback;
  const n = Number(text);
  if (/^\d{1,9}$/.test(text) && n >= lowest && n <= highest) return n;
  const range = highest === 999_999_999 ? `at least ${lowest}` : `from ${lowest} to ${highest}`;
  throw new TypeError(`Cannot parse --${name} "${text}": expected a whole number, ${range}`);
}

/**
 * A flag that names one of `allowed`.
 *
 * @param values The flags' values.
 * @param name The flag's long name, without `--`.
 * @param allowed The names it may take.
 * @param fallback Its value when not given.
 * @returns The name.
 * @throws {TypeError} `Cannot parse --NAME "TEXT": expected a, b or c`.
 */
export function oneOfFlag<T extends string>(
  values: Values,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const text = values[name];
  if (typeof text !== "string") return fallback;
  if ((allowed as readonly string[]).includes(text)) return text as T;
  const list = `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}`;
  throw new TypeError(`Cannot parse --${name} "${text}": expected ${list}`);
}
