/** JSON values, and JSONC text: JSON with comments and trailing commas wherever they may go. */

import fc from "fast-check";

/** A small, seeded random number generator, so one integer decides how a text is decorated. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const GAPS = [
  ...["", "", "", " ", "\n", "\r\n", "\t", "\n  ", "/**/", "//\n", "/* , ] } */"],
  ...[" // a note\n", "/* multi\nline */", '// "quoted" /* not a block\n', "/* // not a line */"],
];
const COMMENT_CHARS = [...'ab /*\\",:[]{}\t\ré😀\u2028\ufeff\0'];

/** `value` as JSONC: comments and space between tokens, and trailing commas, as `seed` decides. */
export function toJsonc(value: unknown, seed: number): string {
  const random = mulberry32(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const noise = (length: number) => Array.from({ length }, () => pick(COMMENT_CHARS)).join("");
  const gap = (): string => {
    const roll = random();
    if (roll < 0.05) return `//${noise(6)}\n`;
    if (roll < 0.1) return `/*${noise(6).replaceAll("*/", "* /")}*/`;
    return pick(GAPS);
  };
  const trailing = (count: number) => count > 0 && random() < 0.3 ? `,${gap()}` : "";
  const write = (value: unknown): string => {
    if (Array.isArray(value)) {
      const items = value.map((item) => gap() + write(item) + gap());
      return `[${items.join(",")}${trailing(items.length)}${gap()}]`;
    }
    if (typeof value === "object" && value !== null) {
      const entries = Object.entries(value)
        .map(([key, item]) =>
          `${gap()}${JSON.stringify(key)}${gap()}:${gap()}${write(item)}${gap()}`
        );
      return `{${entries.join(",")}${trailing(entries.length)}${gap()}}`;
    }
    return JSON.stringify(value);
  };
  return (random() < 0.1 ? "\ufeff" : "") + gap() + write(value) + gap();
}

const stringUnit = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'ab/*"\\,:[]{} \n\té😀\u2028'.split("")) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);
/** A JSON value, three levels deep at most, whose strings hold what JSONC text trips on. */
export const json = fc.jsonValue({ maxDepth: 3, stringUnit });
