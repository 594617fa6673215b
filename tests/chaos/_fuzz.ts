/** The fuzz tests' runner (it counts cases, times calls, checks the heap) and their assertions. */

import assert from "node:assert/strict";
import fc from "fast-check";
import { heapAfterGc } from "./_harness.ts";

/** Cases each parser is tried on. */
export const RUNS = 100_000;
/** The longest one call may take: a parser slower than this on small input is backtracking. */
export const SLOW_MS = 100;
/** How much the heap may grow, after a full GC, across one parser's run. */
export const HEAP_BOUND = 16 * 2 ** 20;

const seedText = Deno.permissions.querySync({ name: "env", variable: "FUZZ_SEED" }).state ===
    "granted"
  ? Deno.env.get("FUZZ_SEED")
  : undefined;
/** `FUZZ_SEED=n` replays a run; fast-check prints the seed of a failing one. */
const SEED = seedText ? Number(seedText) : undefined;

/** What one parser's run showed. */
export interface FuzzFigures {
  cases: number;
  seconds: number;
  slowestMs: number;
  heapGrowth: number;
}

let slowest = 0;

/**
 * Tries `check` on `runs` inputs from `arbitrary`, then asserts that it ran on every one and that
 * the heap, after a full GC, grew by less than {@linkcode HEAP_BOUND}. Prints the figures.
 */
export function fuzz<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  check: (input: T) => void,
  runs = RUNS,
): FuzzFigures {
  slowest = 0;
  let cases = 0;
  const before = heapAfterGc();
  const start = performance.now();
  fc.assert(
    fc.property(arbitrary, (input) => {
      cases++;
      check(input);
    }),
    { numRuns: runs, seed: SEED },
  );
  const seconds = (performance.now() - start) / 1000;
  const heapGrowth = heapAfterGc() - before;
  assert.equal(cases, runs, `${name}: ran ${cases} cases, expected ${runs}`);
  assert.ok(heapGrowth < HEAP_BOUND, `${name}: heap grew by ${mib(heapGrowth)} MiB`);
  console.log(
    `${name}: ${cases} inputs in ${seconds.toFixed(1)} s, slowest call ${slowest.toFixed(1)} ms, ` +
      `heap ${heapGrowth < 0 ? "" : "+"}${mib(heapGrowth)} MiB after GC`,
  );
  return { cases, seconds, slowestMs: slowest, heapGrowth };
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(2);
}

/** A call's result, or what it threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Calls a parser and asserts it took at most {@linkcode SLOW_MS}. A slow call is timed twice more
 * and only the fastest counts, so a GC pause or a busy machine does not fail the test.
 */
export function attempt<T>(call: () => T): Outcome<T> {
  const timed = (): [Outcome<T>, number] => {
    const start = performance.now();
    let outcome: Outcome<T>;
    try {
      outcome = { ok: true, value: call() };
    } catch (error) {
      outcome = { ok: false, error };
    }
    return [outcome, performance.now() - start];
  };
  const [outcome, first] = timed();
  const ms = first <= SLOW_MS ? first : Math.min(first, timed()[1], timed()[1]);
  assert.ok(ms <= SLOW_MS, `a call took ${ms.toFixed(1)} ms, three times: over ${SLOW_MS} ms`);
  slowest = Math.max(slowest, ms);
  return outcome;
}

/** Text for an assertion message: quoted, and cut short if long. */
export function show(value: unknown): string {
  const text = typeof value === "string" ? value : String(value);
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…(${text.length} chars)` : text);
}

/** Asserts that `error` is an instance of `type`, whose name it also has. */
export function assertType<E extends Error>(
  error: unknown,
  type: new (...args: never[]) => E,
  name = type.name,
): asserts error is E {
  const got = error instanceof Error ? `${error.name}: ${show(error.message)}` : show(error);
  assert.ok(error instanceof type && error.name === name, `expected a ${name}, got ${got}`);
}

/**
 * Asserts the house form of a rejection: a `type` whose message is
 * `Cannot parse LABEL "TEXT": DETAIL`, where DETAIL says what was expected and ends without a
 * period. `texts` are what the message may quote: the input, or the part of it that is wrong.
 */
export function assertHouseError(
  error: unknown,
  type: new (...args: never[]) => Error,
  label: string,
  ...texts: string[]
): asserts error is Error {
  assertType(error, type);
  const prefix = texts.map((text) => `Cannot parse ${label} "${text}": `)
    .find((prefix) => error.message.startsWith(prefix));
  assert.ok(prefix, `message ${show(error.message)} does not quote ${show(texts[0])}`);
  const detail = error.message.slice(prefix.length);
  assert.match(detail, /expected/, `message ${show(error.message)} does not say what is expected`);
  assert.doesNotMatch(detail, /[^.]\.$/, `message ${show(error.message)} ends with a period`);
}
