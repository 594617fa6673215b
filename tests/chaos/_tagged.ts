/** Generators of config values, each tagged with what schema.json can say about it. */

import fc from "fast-check";
import { json } from "./_jsonc.ts";
import { mutate, over } from "./_text_arbitraries.ts";

export const OK = 0;
export const SEMANTIC = 1;
export const SHAPE = 2;
export type Tag = typeof OK | typeof SEMANTIC | typeof SHAPE;
export interface Tagged {
  value: unknown;
  tag: Tag;
}
const as = (tag: Tag) => (arbitrary: fc.Arbitrary<unknown>) =>
  arbitrary.map((value): Tagged => ({ value, tag }));
export const ok = as(OK);
export const shape = as(SHAPE);

/** A value of a JSON type the field does not take. */
const WRONG: unknown[] = [true, false, null, 0, 7, -1, "", "x", "5s", [], [1], {}, { a: 1 }];
export function wrong(takes: (value: unknown) => boolean): fc.Arbitrary<Tagged> {
  return shape(fc.constantFrom(...WRONG.filter((value) => !takes(value))));
}
export const isString = (v: unknown) => typeof v === "string";
export const isNumber = (v: unknown) => typeof v === "number";
const isArray = (v: unknown) => Array.isArray(v);
export const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);

/** What `parse` returns, or undefined if it throws. */
export function tryParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

/** Tags text by the schema's pattern, and by the parser for text the pattern admits. */
function judged(text: string, pattern: RegExp, parse: (text: string) => unknown): Tag {
  if (!pattern.test(text)) return SHAPE;
  return tryParse(() => parse(text)) === undefined ? SEMANTIC : OK;
}

/**
 * A field that is `valid` about 30 times in 31, else one of the `mistakes`: with a dozen fields
 * in a config, a fair share of configs is valid, and most others have one or two mistakes.
 */
export function mostly<T>(valid: fc.Arbitrary<T>, ...mistakes: fc.Arbitrary<T>[]): fc.Arbitrary<T> {
  return fc.oneof(
    { weight: 30 * mistakes.length, arbitrary: valid },
    ...mistakes.map((arbitrary) => ({ weight: 1, arbitrary })),
  );
}

/** A string field read by a parser: valid text, random and mutated text (judged), wrong types. */
export function parsed(
  valid: fc.Arbitrary<string>,
  alphabet: string,
  pattern: RegExp,
  parse: (text: string) => unknown,
): fc.Arbitrary<Tagged> {
  const random = fc.oneof(
    mutate(valid, alphabet),
    over(alphabet, 0, 20),
    fc.string({ maxLength: 12 }),
  );
  const judge = (text: string): Tagged => ({ value: text, tag: judged(text, pattern, parse) });
  return mostly(ok(valid), random.map(judge), random.map(judge), wrong(isString));
}

/** A whole number from `min` to `max`. */
export function whole(min: number, max = Number.MAX_SAFE_INTEGER): fc.Arbitrary<Tagged> {
  return mostly(
    ok(fc.integer({ min, max })),
    shape(fc.integer({ min: min - 1e6, max: min - 1 })),
    shape(fc.constantFrom(1.5, min + 0.5, 1e-7)),
    // Integers a double cannot hold exactly: the validator takes safe integers only.
    shape(fc.constantFrom(2 ** 53, 2 ** 53 + 2, 1e21, 1e300)),
    shape(fc.constantFrom(String(min), "1")),
    wrong(isNumber),
  );
}

export function oneOf(values: readonly string[]): fc.Arbitrary<Tagged> {
  const other = fc.oneof(fc.mixedCase(fc.constantFrom(...values)), fc.string({ maxLength: 8 }))
    .filter((text) => !values.includes(text));
  return mostly(ok(fc.constantFrom(...values)), shape(other), wrong(isString));
}

export const boolean = mostly(ok(fc.boolean()), shape(fc.constantFrom("true", 0, 1, null)));
export const worst = (tags: Tag[]) => Math.max(OK, ...tags) as Tag;

/** An array of `item`s, `min` to `max` of them; fewer than `min` breaks the schema. */
export function arrayOf(
  item: fc.Arbitrary<Tagged>,
  min: number,
  max: number,
): fc.Arbitrary<Tagged> {
  const items = (minLength: number) =>
    fc.array(item, { minLength, maxLength: max }).map((items): Tagged => ({
      value: items.map((item) => item.value),
      tag: worst([...items.map((item) => item.tag), items.length < min ? SHAPE : OK]),
    }));
  return mostly(items(min), items(0), wrong(isArray));
}

/** A key an object does not have: a near miss, a prototype name, or anything. */
function unknownKey(keys: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    mutate(fc.constantFrom(...keys), "abcdeilmnorstu"),
    fc.constantFrom("__proto__", "constructor", "toString", "", "a b", "$ref"),
    fc.string({ maxLength: 8 }),
  ).filter((key) => !keys.includes(key));
}

/**
 * An object with some of `fields` (each there about one time in three, the `required` ones
 * nearly always), sometimes with an unknown key; one missing a required field, with an unknown
 * key or of the wrong type breaks the schema. `refine` tags what the fields alone do not say.
 */
export function objectOf(
  fields: Record<string, fc.Arbitrary<Tagged>>,
  required: string[],
  refine: (object: Record<string, unknown>, tag: Tag) => Tag = (_, tag) => tag,
): fc.Arbitrary<Tagged> {
  const absent = fc.constant(undefined);
  const present = Object.entries(fields).map(([key, field]) => {
    const entry = field.map((f): [string, Tagged] | undefined => [key, f]);
    return required.includes(key)
      ? fc.oneof({ weight: 60, arbitrary: entry }, { weight: 1, arbitrary: absent })
      : fc.oneof({ weight: 2, arbitrary: absent }, { weight: 1, arbitrary: entry });
  });
  const unknown = fc.tuple(unknownKey(Object.keys(fields)), json);
  const extra = mostly<[string, unknown] | undefined>(absent, unknown);
  const object = fc.tuple(fc.tuple(...present), extra).map(([present, extra]): Tagged => {
    const entries = present.filter((entry) => entry !== undefined) as [string, Tagged][];
    const value = Object.fromEntries([
      ...entries.map(([key, field]) => [key, field.value]),
      ...extra ? [extra] : [],
    ]);
    const complete = required.every((key) => entries.some(([name]) => name === key));
    const tag = worst([...entries.map(([, field]) => field.tag), complete && !extra ? OK : SHAPE]);
    return { value, tag: worst([tag, refine(value, tag)]) };
  });
  return mostly(object, wrong(isObject));
}
