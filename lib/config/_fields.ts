/**
 * The checks each value in a config file goes through. A {@linkcode Checker} records every
 * mistake as `PATH: what is wrong` and goes on, so one run finds them all.
 *
 * @module
 */

import { MAX_DURATION_MS, parseDuration } from "../duration.ts";
import { CONFIG_KEYS, type Keys, listOf, type Place, unknownKey } from "./_keys.ts";

/** A config file's object, once it is known to be one. */
export type Json = Record<string, unknown>;

/**
 * The path to a key or an item: `servers[0].listen`, `servers[0].upstreams[1]`.
 *
 * @param path The path to the object or array; `""` for the top level.
 * @param key The key, or the item's index.
 * @returns The path.
 */
export function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`;
  return path === "" ? key : `${path}.${key}`;
}

/** A check of one value: the value as the config holds it, or undefined if it is wrong. */
export type Check<T> = (value: unknown, path: string) => T | undefined;

/**
 * Records mistakes, and makes checks. A check records what is wrong with a value it rejects and
 * returns undefined, and the caller goes on with a fallback, so later mistakes are found too.
 */
export class Checker {
  /** Every mistake so far, as `PATH: what is wrong`. */
  readonly issues: string[] = [];

  /** Records a mistake at `path`. */
  add(path: string, message: string): undefined {
    // One line per issue, and nothing a terminal would act on: control characters are escaped.
    const line = message.replace(
      // deno-lint-ignore no-control-regex
      /[\0-\x1f\x7f\u2028\u2029]/g,
      (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
    this.issues.push(`${path === "" ? "(root)" : path}: ${line}`);
    return undefined;
  }

  /** Records that `value` is not `what`. */
  expected(path: string, what: string, value: unknown): undefined {
    return this.add(path, `expected ${what}, got ${describe(value)}`);
  }

  /**
   * Reads an object's fields: `read(key, check, fallback)` checks the key's value if it is there,
   * and returns `fallback` if it is not, or is wrong.
   */
  reader(object: Json, path: string) {
    return <T>(key: string, check: Check<T>, fallback: T): T =>
      Object.hasOwn(object, key) ? check(object[key], join(path, key)) ?? fallback : fallback;
  }

  /**
   * An object at `place`: it must have the keys it must, and no others. One with wrong keys is
   * still returned, so its other values are checked too.
   */
  object(place: Place, what = "an object"): Check<Json> {
    const { keys, required }: Keys = CONFIG_KEYS[place];
    return (value, path) => {
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return this.expected(path, what, value);
      }
      for (const key of Object.keys(value)) {
        if (!keys.includes(key)) this.add(join(path, key), unknownKey(key, keys));
      }
      for (const key of required) {
        if (!Object.hasOwn(value, key)) this.add(path, `missing "${key}"`);
      }
      return value as Json;
    };
  }

  /** An array of `noun`s, with at least one unless `empty` allows none. */
  list(noun: string, empty = false): Check<unknown[]> {
    return (value, path) => {
      if (!Array.isArray(value)) return this.expected(path, `an array of ${noun}s`, value);
      if (value.length === 0 && !empty) return this.expected(path, `at least one ${noun}`, value);
      return value;
    };
  }

  /** A string that is not empty. */
  string(what = "a string"): Check<string> {
    return (value, path) =>
      typeof value === "string" && value !== "" ? value : this.expected(path, what, value);
  }

  /** `true` or `false`. */
  boolean(): Check<boolean> {
    return (value, path) =>
      typeof value === "boolean" ? value : this.expected(path, "true or false", value);
  }

  /** A whole number from `min` to `max`. */
  whole(min: number, max = Number.MAX_SAFE_INTEGER): Check<number> {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    return (value, path) =>
      Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max
        ? value as number
        : this.expected(path, `a whole number ${range}`, value);
  }

  /** One of `allowed`. */
  oneOf<T extends string>(allowed: readonly T[]): Check<T> {
    return (value, path) => {
      if (typeof value !== "string") {
        return this.expected(path, listOf(allowed.map((name) => `"${name}"`)), value);
      }
      if ((allowed as readonly string[]).includes(value)) return value as T;
      return this.add(path, `"${value}" is not valid: expected ${listOf(allowed)}`);
    };
  }

  /**
   * A duration of at least `min`: text such as `"5s"`, as the command line writes it, or whole
   * milliseconds. It comes back in milliseconds.
   */
  duration(min = 0): Check<number> {
    const text = this.parsed(parseDuration, "");
    const what = `a duration such as "5s", or whole milliseconds from ${min} to ${MAX_DURATION_MS}`;
    return (value, path) => {
      if (typeof value === "string") {
        const ms = text(value, path);
        if (ms === undefined || ms >= min) return ms;
        return this.add(path, `"${value}" is not valid: expected a duration above 0, such as 2s`);
      }
      const ms = value as number;
      if (Number.isInteger(ms) && ms >= min && ms <= MAX_DURATION_MS) return ms;
      return this.expected(path, what, value);
    };
  }

  /**
   * Text that one of the command line's parsers reads. They throw `Cannot parse LABEL "TEXT":
   * expected ...`, which becomes `PATH: "TEXT" is not valid: expected ...`.
   */
  parsed<T>(parse: (text: string, label: string) => T, what: string): Check<T> {
    return (value, path) => {
      if (typeof value !== "string") return this.expected(path, what, value);
      try {
        return parse(value, path);
      } catch (error) {
        if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
        return this.add(path, reword(error.message, path, value));
      }
    };
  }
}

/** `Cannot parse LABEL "TEXT": DETAIL` as `"TEXT" is not valid: DETAIL`. */
function reword(message: string, label: string, text: string): string {
  const prefix = `Cannot parse ${label} `;
  if (!message.startsWith(prefix)) return message;
  const rest = message.slice(prefix.length);
  const quoted = `"${text}": `;
  if (rest.startsWith(quoted)) return `"${text}" is not valid: ${rest.slice(quoted.length)}`;
  const match = /^(".*?"): ([\s\S]*)$/.exec(rest);
  return match ? `${match[1]} is not valid: ${match[2]}` : rest;
}

/** A value as a message shows it: `"many"`, `-1`, `null`, `[]`, `an array`, `an object`. */
function describe(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? "[]" : "an array";
  if (typeof value === "object" && value !== null) {
    return Object.keys(value).length === 0 ? "{}" : "an object";
  }
  return JSON.stringify(value) ?? String(value);
}
