/**
 * Reading an HTTP/1.x head: a request line or a status line, then header fields, validated as
 * RFC 9112 asks, so that what reaches a service or an upstream cannot be read two ways.
 *
 * @module
 */

import { CR, FIELD_VALUE, HTAB, latin1, LF, SP, TARGET, TOKEN } from "./_bytes.ts";
import { quoteText } from "../../_util.ts";

/**
 * A request or response that cannot be read: the status the peer should get (400 for a malformed
 * request, 431 for one whose head is too large, 501 for what is not implemented, 505 for a
 * version other than HTTP/1.x; 502 stands for a malformed response) and why.
 *
 * @example A malformed header
 * ```ts
 * import { HttpParseError } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * const error = new HttpParseError(400, 'Cannot parse header field "a b: c": expected NAME: VALUE');
 * assert.equal(error.status, 400);
 * ```
 */
export class HttpParseError extends Error {
  /** The status to answer with. */
  readonly status: number;

  /**
   * @param status The status to answer with.
   * @param message What was wrong, naming the offending text.
   */
  constructor(status: number, message: string) {
    super(message);
    this.name = "HttpParseError";
    this.status = status;
  }
}

/** The parts of a head common to requests and responses. */
export interface Head {
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** Field names, lowercase, in the order received. */
  names: string[];
  /** Field values, trimmed, in the same order as `names`. */
  values: string[];
}

/** A request head: `GET /path HTTP/1.1` and its fields. */
export interface RequestHead extends Head {
  /** The method, case kept, such as `GET`. */
  method: string;
  /** The request target as sent: `/path?query`, `http://host/path`, `host:port` or `*`. */
  target: string;
}

/** A response head: `HTTP/1.1 200 OK` and its fields. */
export interface ResponseHead extends Head {
  /** The status code, 100 to 999. */
  status: number;
  /** The reason phrase, possibly empty. */
  reason: string;
}

/**
 * Parses a request head: `bytes` from its first byte to the end of its blank line. Empty lines
 * before the request line are skipped, as RFC 9112 allows.
 *
 * @throws {HttpParseError} 400, 501 or 505, naming what was wrong.
 */
export function parseRequestHead(bytes: Uint8Array): RequestHead {
  let start = 0;
  while (bytes[start] === CR || bytes[start] === LF) start++;
  const text = latin1(bytes, isAscii(bytes));
  const lineEnd = text.indexOf("\n", start);
  const line = text.slice(start, text[lineEnd - 1] === "\r" ? lineEnd - 1 : lineEnd);
  const first = line.indexOf(" "), last = line.lastIndexOf(" ");
  const method = line.slice(0, first), target = line.slice(first + 1, last);
  if (first <= 0 || last === first || !every(bytes, start, start + first, TOKEN)) {
    throw new HttpParseError(
      400,
      `Cannot parse request line "${quoteText(line)}": expected METHOD TARGET HTTP/1.1`,
    );
  }
  if (target.length === 0 || !every(bytes, start + first + 1, start + last, TARGET)) {
    throw new HttpParseError(
      400,
      `Cannot parse request target "${quoteText(target)}": expected visible ASCII`,
    );
  }
  const minor = version(line.slice(last + 1), 400, `request line "${quoteText(line)}"`);
  return { method, target, minor, ...fields(bytes, text, lineEnd + 1, 400) };
}

/**
 * Parses a response head from an upstream.
 *
 * @throws {HttpParseError} 502, naming what was wrong.
 */
export function parseResponseHead(bytes: Uint8Array): ResponseHead {
  const text = latin1(bytes, isAscii(bytes));
  const lineEnd = text.indexOf("\n");
  const line = text.slice(0, text[lineEnd - 1] === "\r" ? lineEnd - 1 : lineEnd);
  const code = line.slice(9, 12);
  if (
    line[8] !== " " || !/^[1-9][0-9][0-9]$/.test(code) || (line.length > 12 && line[12] !== " ")
  ) {
    throw new HttpParseError(
      502,
      `Cannot parse status line "${quoteText(line)}": expected HTTP/1.1 STATUS REASON`,
    );
  }
  const minor = version(line.slice(0, 8), 502, `status line "${quoteText(line)}"`);
  const reason = line.slice(13);
  return { status: Number(code), reason, minor, ...fields(bytes, text, lineEnd + 1, 502) };
}

function version(text: string, status: number, what: string): number {
  if (text === "HTTP/1.1") return 1;
  if (text === "HTTP/1.0") return 0;
  if (/^HTTP\/[0-9]\.[0-9]$/.test(text)) {
    throw new HttpParseError(
      status === 400 ? 505 : 502,
      `Cannot use version "${quoteText(text)}" in ${what}: expected HTTP/1.1 or HTTP/1.0`,
    );
  }
  throw new HttpParseError(status, `Cannot parse ${what}: expected HTTP/1.1 or HTTP/1.0`);
}

/** The header fields from `from` to the blank line, validated byte by byte. */
function fields(
  bytes: Uint8Array,
  text: string,
  from: number,
  status: number,
): Pick<Head, "names" | "values"> {
  const names: string[] = [], values: string[] = [];
  let at = from;
  for (;;) {
    let end = text.indexOf("\n", at);
    if (end === -1) end = text.length;
    const lineEnd = text[end - 1] === "\r" ? end - 1 : end;
    if (lineEnd === at) break; // the blank line
    const colon = text.indexOf(":", at);
    const bad = colon === -1 || colon > lineEnd || colon === at ||
      !every(bytes, at, colon, TOKEN) || !every(bytes, colon + 1, lineEnd, FIELD_VALUE);
    if (bad) {
      const line = text.slice(at, lineEnd);
      const why = bytes[at] === SP || bytes[at] === HTAB
        ? "line folding is not allowed"
        : "expected NAME: VALUE";
      throw new HttpParseError(status, `Cannot parse header field "${quoteText(line)}": ${why}`);
    }
    names.push(text.slice(at, colon).toLowerCase());
    values.push(trim(text, colon + 1, lineEnd));
    at = end + 1;
  }
  return { names, values };
}

function trim(text: string, from: number, to: number): string {
  while (from < to && (text.charCodeAt(from) === SP || text.charCodeAt(from) === HTAB)) from++;
  while (to > from && (text.charCodeAt(to - 1) === SP || text.charCodeAt(to - 1) === HTAB)) to--;
  return text.slice(from, to);
}

function every(bytes: Uint8Array, from: number, to: number, table: Uint8Array): boolean {
  for (let i = from; i < to; i++) if (table[bytes[i]] === 0) return false;
  return true;
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] > 0x7f) return false;
  return true;
}
