/**
 * JSONC, the config file's syntax: JSON with `//` and `/* *\/` comments and trailing commas, as
 * VS Code and `deno.jsonc` write it.
 *
 * @module
 */

/**
 * Parses JSONC: JSON that may also have `//` line comments, `/* *\/` block comments, and a comma
 * after the last item of an array or object. Comment markers inside strings are text, as in
 * `"http://x//y"`. Everything else follows `JSON.parse`.
 *
 * @param text The text of the file.
 * @param file The file's name, which starts every error message.
 * @returns The parsed value.
 * @throws {SyntaxError} If the text is not JSONC, naming the file, line and column (from 1):
 * `minginx.jsonc:12:5: Unexpected token '}'`.
 *
 * @example Comments and trailing commas
 * ```ts
 * import { parseJsonc } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const text = `{
 *   // where to listen
 *   "listen": "127.0.0.1:8081", /* loopback only *\/
 *   "check": "http://x//y",
 * }`;
 * assert.deepEqual(parseJsonc(text), { listen: "127.0.0.1:8081", check: "http://x//y" });
 * assert.throws(() => parseJsonc('{\n  "a": }', "minginx.jsonc"), {
 *   name: "SyntaxError",
 *   message: "minginx.jsonc:2:8: Unexpected token '}'",
 * });
 * ```
 */
export function parseJsonc(text: string, file?: string): unknown {
  const json = toJson(text, file);
  try {
    return JSON.parse(json);
  } catch (error) {
    if (!(error instanceof SyntaxError)) throw error;
    const at = / at position (\d+)(?: \(line \d+ column \d+\))?$/.exec(error.message);
    const offset = at ? Number(at[1]) : locate(json);
    const message = error.message
      .slice(0, at?.index)
      .replace(/ in JSON$/, "")
      .replace(/^(Unexpected token '.*?'), [\s\S]* is not valid JSON$/, "$1");
    throw syntaxError(text, offset, message, file, error);
  }
}

/**
 * The text with its comments, and the commas that trail the last item of an array or object,
 * turned into spaces. Line breaks stay, so every offset still points at the same line and column.
 */
function toJson(text: string, file: string | undefined): string {
  const chars = text.split("");
  const blank = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (chars[i] !== "\n" && chars[i] !== "\r") chars[i] = " ";
  };
  if (text.startsWith("\ufeff")) chars[0] = " ";
  let comma = -1; // a comma with nothing but space and comments after it so far
  let previous = ""; // the last character that is not space or a comment
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === "/" && text[i + 1] === "/") {
      const end = text.indexOf("\n", i);
      blank(i, end < 0 ? text.length : end);
      i = end < 0 ? text.length : end - 1;
      continue;
    }
    if (char === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end < 0) throw syntaxError(text, i, "Unterminated comment", file);
      blank(i, end + 2);
      i = end + 1;
      continue;
    }
    if (char === " " || char === "\t" || char === "\n" || char === "\r") continue;
    if ((char === "]" || char === "}") && comma >= 0) chars[comma] = " ";
    comma = char === "," && !"[{,:".includes(previous) ? i : -1;
    previous = char;
    if (char === '"') i = endOfString(text, i);
  }
  return chars.join("");
}

/** The offset of the quote that closes the string opening at `start`, or of the line's end. */
function endOfString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"' && text[i] !== "\n") i += text[i] === "\\" ? 2 : 1;
  return Math.min(i, text.length);
}

/** Where JSON text first goes wrong, for the messages of `JSON.parse` that do not say. */
function locate(json: string): number {
  let i = 0;
  const space = () => {
    while (json[i] === " " || json[i] === "\t" || json[i] === "\n" || json[i] === "\r") i++;
  };
  const take = (expected: string): boolean => {
    if (json[i] !== expected) return false;
    i++;
    return true;
  };
  const word = (expected: string): boolean => [...expected].every(take);
  const string = (): boolean => {
    for (i++; i < json.length; i++) {
      const char = json[i];
      if (char === '"') return take('"');
      if (char < " ") return false;
      if (char !== "\\") continue;
      const escape = json[++i] ?? "";
      if (escape === "u" && /^[0-9a-f]{4}$/i.test(json.slice(i + 1, i + 5))) i += 4;
      else if (escape === "" || !'"\\/bfnrt'.includes(escape)) return false;
    }
    return false;
  };
  const number = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
  const scalar = (): boolean => {
    const char = json[i];
    if (char === '"') return string();
    if (char === "t") return word("true");
    if (char === "f") return word("false");
    if (char === "n") return word("null");
    number.lastIndex = i;
    const digits = number.exec(json)?.[0] ?? "";
    i += digits.length;
    return digits !== "";
  };
  const key = (): boolean => {
    if (json[i] !== '"' || !string()) return false;
    space();
    return take(":");
  };
  const closers: string[] = []; // the containers open at i, innermost last: a loop, not recursion
  for (;;) {
    space();
    const open = json[i];
    if (open === "{" || open === "[") {
      const close = open === "{" ? "}" : "]";
      i++;
      space();
      if (!take(close)) {
        closers.push(close);
        if (close === "}" && !key()) return Math.min(i, json.length);
        continue;
      }
    } else if (!scalar()) return Math.min(i, json.length);
    for (;;) { // after a value: close what it ends, or go on to the next item
      space();
      const close = closers.at(-1);
      if (close === undefined) return Math.min(i, json.length);
      if (take(close)) {
        closers.pop();
        continue;
      }
      if (!take(",")) return Math.min(i, json.length);
      space();
      if (close === "}" && !key()) return Math.min(i, json.length);
      break;
    }
  }
}

function syntaxError(
  text: string,
  offset: number,
  message: string,
  file: string | undefined,
  cause?: unknown,
): SyntaxError {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  const where = file === undefined ? `${line}:${column}` : `${file}:${line}:${column}`;
  return new SyntaxError(`${where}: ${message}`, { cause });
}
