/** Text of every kind for the fuzz tests: any text, near-valid text (one mutation), and the mix. */

import fc from "fast-check";

/** Control characters and the invisible ones that parsers trip on. */
export const CONTROL = [..."\0\x01\x07\b\t\n\v\f\r\x1b\x7f\x85\u00a0\u2028\u2029\ufeff"];

/** One UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));

/** Strings over `alphabet`. */
export function over(alphabet: string, minLength = 0, maxLength = 30): fc.Arbitrary<string> {
  return fc.string({ unit: fc.constantFrom(...alphabet), minLength, maxLength });
}

/** `prefix`, then a piece of `alphabet` repeated thousands of times, to catch work that grows faster than input. */
export function huge(alphabet: string, prefix = ""): fc.Arbitrary<string> {
  return fc.tuple(over(alphabet, 1, 4), fc.integer({ min: 256, max: 10_000 }), over(alphabet))
    .map(([piece, times, tail]) => prefix + piece.repeat(times) + tail);
}

/** Any text: ASCII, any code points, lone surrogates, control characters, `alphabet` soup, huge. */
export function anyText(alphabet: string): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 20 }) },
    { weight: 2, arbitrary: fc.string({ unit: codeUnit, maxLength: 20 }) },
    { weight: 2, arbitrary: over(alphabet + CONTROL.join("")) },
    { weight: 6, arbitrary: over(alphabet) },
    { weight: 1, arbitrary: huge(alphabet) },
  );
}

const MUTATIONS = ["delete", "insert", "replace", "duplicate", "truncate", "swap", "case"] as const;

/** A valid text with one mutation: a character deleted, inserted or replaced, and so on. */
export function mutate(valid: fc.Arbitrary<string>, alphabet: string): fc.Arbitrary<string> {
  const char = fc.oneof(fc.constantFrom(...alphabet), fc.constantFrom(...CONTROL), codeUnit);
  return fc.tuple(valid, fc.constantFrom(...MUTATIONS), fc.nat(), fc.nat(), char)
    .map(([text, mutation, a, b, c]) => {
      const i = a % (text.length + 1);
      const j = b % (text.length + 1);
      switch (mutation) {
        case "delete":
          return text.slice(0, i) + text.slice(i + 1);
        case "insert":
          return text.slice(0, i) + c + text.slice(i);
        case "replace":
          return text.slice(0, i) + c + text.slice(i + 1);
        case "duplicate":
          return text.slice(0, Math.max(i, j)) + text.slice(Math.min(i, j));
        case "truncate":
          return text.slice(0, i);
        case "swap":
          return text.slice(i) + text.slice(0, i);
        case "case":
          return text.slice(0, i) + text.slice(i, j).toUpperCase() + text.slice(j);
      }
    });
}

/** A generated input, and the value it must parse to if it was built valid. */
export interface Case<T> {
  text: string;
  expected?: T;
}

/**
 * Valid cases, the same with one mutation, and any text, in the proportions 10 : 10 : 8, and
 * `more` (such as huge or grammar soup) at 2 each.
 */
export function cases<T>(
  valid: fc.Arbitrary<Case<T>>,
  alphabet: string,
  ...more: fc.Arbitrary<string>[]
): fc.Arbitrary<Case<T>> {
  const unknown = (text: string): Case<T> => ({ text });
  return fc.oneof(
    { weight: 10, arbitrary: valid },
    { weight: 10, arbitrary: mutate(valid.map((c) => c.text), alphabet).map(unknown) },
    { weight: 8, arbitrary: anyText(alphabet).map(unknown) },
    ...more.map((arbitrary) => ({ weight: 2, arbitrary: arbitrary.map(unknown) })),
  );
}

/** Decimal digits, `min` to `max` of them. */
export function digits(min: number, max: number): fc.Arbitrary<string> {
  return over("0123456789", min, max);
}
