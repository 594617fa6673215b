/** Fuzzing parseJsonc() on JSON with comments and trailing commas, mutated and deeply nested. */

import assert from "node:assert/strict";
import fc from "fast-check";
import { parseJsonc } from "../../lib/config/jsonc.ts";
import { assertType, attempt, fuzz, RUNS, show } from "./_fuzz.ts";
import { json, toJsonc } from "./_jsonc.ts";
import { anyText, mutate } from "./_text_arbitraries.ts";

const JSON_ALPHABET = '{}[],:"\\/*\n 0123456789.-+eEtruefalsn';

/** Whether two JSON values are equal, compared without recursion (they may nest 20,000 deep). */
function jsonEqual(a: unknown, b: unknown): boolean {
  const pending: [unknown, unknown][] = [[a, b]];
  for (let pair = pending.pop(); pair; pair = pending.pop()) {
    const [x, y] = pair;
    if (typeof x !== "object" || x === null || typeof y !== "object" || y === null) {
      if (!Object.is(x, y)) return false;
      continue;
    }
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (const key of keys) {
      if (!Object.hasOwn(y, key)) return false;
      pending.push([(x as Record<string, unknown>)[key], (y as Record<string, unknown>)[key]]);
    }
  }
  return true;
}

/** Asserts that a SyntaxError from parseJsonc names a line and column inside `text`. */
function assertPosition(error: unknown, text: string, file: string | undefined): void {
  assertType(error, SyntaxError);
  const prefix = file === undefined ? "" : `${file}:`;
  const match = /^(\d+):(\d+): \S/.exec(error.message.slice(prefix.length));
  assert.ok(error.message.startsWith(prefix) && match, `no position in ${show(error.message)}`);
  const lines = text.split("\n");
  const [line, column] = [Number(match[1]), Number(match[2])];
  assert.ok(line >= 1 && line <= lines.length, `line ${line} of ${lines.length}`);
  assert.ok(
    column >= 1 && column <= lines[line - 1].length + 1,
    `column ${column} of line ${line}`,
  );
}

Deno.test("parseJsonc() reads JSON with comments and trailing commas as JSON.parse() reads the JSON", () => {
  const decorated = fc.tuple(json, fc.integer()).map(([value, seed]) => ({
    text: toJsonc(value, seed),
    expected: JSON.parse(JSON.stringify(value)) as unknown,
  }));
  const deep = fc.tuple(
    fc.constantFrom("[", '{"a":', '[{"":', "[1,"),
    fc.integer({ min: 1_000, max: 12_000 }),
    fc.constantFrom("", "]", "1", "}", "x", "/*"),
  ).map(([open, depth, end]) => open.repeat(depth) + end);
  const balanced = fc.integer({ min: 1_000, max: 12_000 })
    .map((depth) => ({ text: "[".repeat(depth) + "]".repeat(depth), expected: undefined }));
  const unknown = (text: string) => ({ text, expected: undefined as unknown });
  const arbitrary = fc.tuple(
    fc.oneof(
      { weight: 16, arbitrary: decorated },
      { weight: 4, arbitrary: json.map((value) => unknown(JSON.stringify(value, null, 2))) },
      { weight: 12, arbitrary: mutate(decorated.map((c) => c.text), JSON_ALPHABET).map(unknown) },
      { weight: 6, arbitrary: anyText(JSON_ALPHABET).map(unknown) },
      { weight: 1, arbitrary: deep.map(unknown) },
      { weight: 1, arbitrary: balanced },
    ),
    fc.option(fc.constant("minginx.jsonc"), { nil: undefined }),
  );
  const figures = fuzz("parseJsonc", arbitrary, ([{ text, expected }, file]) => {
    let plain: { value: unknown } | undefined;
    try {
      plain = { value: JSON.parse(text) };
    } catch {
      plain = undefined;
    }
    const outcome = attempt(() => parseJsonc(text, file));
    if (!outcome.ok) {
      assert.ok(expected === undefined && plain === undefined, `rejected valid ${show(text)}`);
      return assertPosition(outcome.error, text, file);
    }
    if (expected !== undefined) assert.ok(jsonEqual(outcome.value, expected), show(text));
    if (plain) assert.ok(jsonEqual(outcome.value, plain.value), show(text));
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("parseJsonc() rejects deeply nested unclosed input with SyntaxError (found by fuzzing)", () => {
  for (const text of ["[".repeat(10_000), '{"a":'.repeat(10_000)]) {
    assert.throws(() => parseJsonc(text, "minginx.jsonc"), SyntaxError);
  }
});
