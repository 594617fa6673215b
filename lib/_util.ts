/**
 * Private helpers shared by the library's files; not exported from mod.ts.
 *
 * @module
 */

import { MAX_DURATION_MS } from "./duration.ts";

/**
 * The message of anything thrown: an `Error`'s message, or the value as text.
 *
 * @param error What was thrown.
 * @returns Text for a log line or a report.
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Checks a duration option: whole milliseconds that a timer can hold.
 *
 * @param ms The option's value.
 * @param what The option, as the message names it: `"idle timeout"`, `"fault latency"`.
 * @returns `ms`.
 * @throws {RangeError} `Cannot use idle timeout -1: expected whole milliseconds from 0 to ...`.
 */
export function checkMs(ms: number, what: string): number {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_DURATION_MS) {
    throw new RangeError(
      `Cannot use ${what} ${ms}: expected whole milliseconds from 0 to ${MAX_DURATION_MS}`,
    );
  }
  return ms;
}

/**
 * Checks a count option: a whole number of at least `min`.
 *
 * @param value The option's value.
 * @param what The option, as the message names it: `"max"`, `"fault slice"`.
 * @param min The smallest value allowed.
 * @param unit What is counted, for the message: `" of connections"`, or `""`.
 * @returns `value`.
 * @throws {RangeError} `Cannot use max 0: expected a whole number of connections, at least 1`.
 */
export function checkWhole(value: number, what: string, min: number, unit = ""): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `Cannot use ${what} ${value}: expected a whole number${unit}, at least ${min}`,
    );
  }
  return value;
}

/**
 * The same error, said where it happened: an error of the same class (so `instanceof
 * Deno.errors.NotFound` still holds) whose message is `what`, then `: `, then the original's, with
 * the original as `cause`. A permission error (`NotCapable`) already names what it needs and is
 * returned as it is, and so is anything that is not an `Error`.
 *
 * @param error What was thrown.
 * @param what Where: `Cannot read TLS certificate "a.crt"`.
 * @param detail The original's message, or something clearer in its place.
 * @returns The error to throw.
 */
export function withContext(error: unknown, what: string, detail?: string): unknown {
  if (!(error instanceof Error) || error instanceof Deno.errors.NotCapable) return error;
  const ErrorClass = error.constructor as new (message: string, options: ErrorOptions) => Error;
  return new ErrorClass(`${what}: ${detail ?? error.message}`, { cause: error });
}

/**
 * Waits `ms` milliseconds, or until `signal` aborts; never rejects.
 *
 * @param ms How long.
 * @param signal Cuts the wait short.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

const ESCAPES: Record<string, string> = {
  "\t": "\\t",
  "\n": "\\n",
  "\r": "\\r",
  '"': '\\"',
  "\\": "\\\\",
};

/**
 * Text a peer sent, for an error message, without the quotes: printable ASCII as it is; tab, CR,
 * LF, `"` and `\` escaped; any other character as `\xHH` (`\u{H}` above 0xff); cut after `max`
 * characters with `…`. So a peer's bytes reach no terminal, and a message stays one short line.
 *
 * @param text The text, such as a request line read as Latin-1.
 * @param max The most characters to show.
 * @returns The quoted text.
 *
 * @example Control bytes and a long line
 * ```ts
 * import { quoteText } from "./_util.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(quoteText("GET /\x1b[2J HTTP/1.1"), "GET /\\x1b[2J HTTP/1.1");
 * assert.equal(quoteText("x".repeat(100), 3), "xxx…");
 * ```
 */
export function quoteText(text: string, max = 60): string {
  let quoted = "";
  for (let i = 0; i < text.length && i < max; i++) {
    const char = text[i];
    const code = text.charCodeAt(i);
    quoted += ESCAPES[char] ??
      (code >= 0x20 && code < 0x7f
        ? char
        : code <= 0xff
        ? `\\x${code.toString(16).padStart(2, "0")}`
        : `\\u{${code.toString(16)}}`);
  }
  return text.length > max ? `${quoted}…` : quoted;
}
