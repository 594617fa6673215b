/**
 * The command line's way to write a health check: `--health-check http:/healthz,status=2xx`.
 *
 * @module
 */

import { type HealthCheck, tcpCheck } from "./check.ts";
import { httpCheck, type HttpStatusMatch } from "./http_check.ts";
import { sendExpectCheck } from "./send_expect.ts";

type Fail = (detail: string) => never;

const FORMS = "expected tcp, http:/PATH[,status=...] or send=...,expect=...";
const PATH = /^\/[\x21-\x7e]*$/;
const HOST = /^[\x21-\x7e]+$/;
const STATUS = /^([1-5][0-9]{2})(?:-([1-5][0-9]{2}))?$|^([1-5])xx$/;
const STATUS_HINT = "expected a code such as 200, a range such as 200-299 or a class such as 2xx";
const MAX_EXPECT = 64 * 1024; // what sendExpectCheck reads at most
const ESCAPES: Record<string, number> = { r: 13, n: 10, t: 9, "\\": 92 };

/**
 * Parses a health check as the command line writes it.
 *
 * ```text
 * tcp                                   pass when a TCP connect succeeds
 * http:PATH[,status=STATUS,...][,host=HOST]
 *                                       GET PATH over HTTP/1.1; pass on STATUS (default 2xx, 3xx)
 * [send=BYTES,]expect=BYTES             write BYTES, pass when the reply contains BYTES
 *
 * PATH    starts with "/", no spaces or commas; write a comma as %2C
 * STATUS  a code (200), a range (200-299) or a class (2xx); further statuses may follow as items
 *         of their own: status=200-299,401
 * HOST    the Host header to send (default: the upstream's HOST:PORT)
 * BYTES   text, sent as UTF-8, with the escapes \r \n \t \\ and \xHH (one byte); a comma ends
 *         the value, so write a comma as \x2c
 * ```
 *
 * Each key may appear once; send and expect may come in either order. The send/expect check
 * reads at most 64 KiB while looking for the expected bytes.
 *
 * @param text The health check, such as `"tcp"`, `"http:/healthz,status=200,204"` or
 * `"send=PING\r\n,expect=+PONG"` (with a backslash, not a line feed, before `r` and `n`).
 * @param label What the text is, for error messages.
 * @returns The check.
 * @throws {TypeError} If the text does not follow the grammar, naming the part that does not.
 *
 * @example Parsing the three kinds of check
 * ```ts
 * import { parseHealthCheck } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseHealthCheck("tcp").name, "tcpCheck");
 * assert.equal(parseHealthCheck("http:/healthz,status=200-299,401").name, "httpCheck");
 * assert.equal(parseHealthCheck(String.raw`send=PING\r\n,expect=+PONG`).name, "sendExpectCheck");
 * assert.throws(() => parseHealthCheck("htp:/x"), {
 *   name: "TypeError",
 *   message: 'Cannot parse --health-check "htp:/x": ' +
 *     "expected tcp, http:/PATH[,status=...] or send=...,expect=...",
 * });
 * ```
 */
export function parseHealthCheck(text: string, label = "--health-check"): HealthCheck {
  const fail: Fail = (detail) => {
    throw new TypeError(`Cannot parse ${label} "${text}": ${detail}`);
  };
  if (text === "tcp") return tcpCheck();
  if (text.startsWith("tcp,")) return fail("tcp takes no options, expected tcp alone");
  const [head, ...items] = text.split(",");
  if (head.startsWith("http:")) return parseHttp(head.slice("http:".length), items, fail);
  if (/^(?:send|expect)=/.test(head)) return parseSendExpect([head, ...items], fail);
  return fail(FORMS);
}

function parseHttp(path: string, items: string[], fail: Fail): HealthCheck {
  if (!PATH.test(path)) {
    fail(`path "${path}": expected a path starting with "/", without spaces, as in http:/healthz`);
  }
  const statuses: HttpStatusMatch[] = [];
  let host: string | undefined;
  let last = "";
  for (const item of items) {
    const [key, value] = splitItem(item, fail);
    if (value === undefined ? last !== "status" : key !== "status" && key !== "host") {
      fail(`unknown key "${key}", expected status=STATUS or host=HOST`);
    }
    if (value === undefined) {
      statuses.push(statusOf(key, fail));
    } else if (key === "status") {
      if (statuses.length > 0) once(key, fail);
      statuses.push(statusOf(value, fail));
    } else {
      if (host !== undefined) once(key, fail);
      if (!HOST.test(value)) fail(`host "${value}": expected a host without spaces`);
      host = value;
    }
    if (value !== undefined) last = key;
  }
  return httpCheck({ path, statuses: statuses.length > 0 ? statuses : undefined, host });
}

function statusOf(text: string, fail: Fail): HttpStatusMatch {
  const match = STATUS.exec(text);
  if (!match) return fail(`status "${text}": ${STATUS_HINT}, from 100 to 599`);
  if (match[3]) return [Number(match[3]) * 100, Number(match[3]) * 100 + 99];
  const low = Number(match[1]);
  const high = match[2] === undefined ? low : Number(match[2]);
  if (low > high) fail(`status "${text}": expected a range from low to high, such as 200-299`);
  return low === high ? low : [low, high];
}

function parseSendExpect(items: string[], fail: Fail): HealthCheck {
  const values: { send?: Uint8Array; expect?: Uint8Array } = {};
  for (const item of items) {
    const [key, value] = splitItem(item, fail);
    if (value === undefined || (key !== "send" && key !== "expect")) {
      return fail(
        `unknown key "${key}", expected send=BYTES or expect=BYTES (write a comma as \\x2c)`,
      );
    }
    if (values[key] !== undefined) once(key, fail);
    if (value === "") fail(`key "${key}" needs a value, expected ${key}=BYTES`);
    values[key] = unescape(key, value, fail);
  }
  if (values.expect === undefined) return fail("no expect given, expected expect=BYTES as well");
  if (values.expect.length > MAX_EXPECT) {
    fail(`expect of ${values.expect.length} bytes, expected at most ${MAX_EXPECT}`);
  }
  return sendExpectCheck({ send: values.send, expect: values.expect });
}

/** Splits `KEY=VALUE`; a value of undefined means there was no `=`. */
function splitItem(item: string, fail: Fail): [string, string | undefined] {
  if (item === "") fail("empty item between commas, expected KEY=VALUE");
  const equals = item.indexOf("=");
  return equals < 0 ? [item, undefined] : [item.slice(0, equals), item.slice(equals + 1)];
}

function once(key: string, fail: Fail): never {
  return fail(`key "${key}" is given twice, expected each key at most once`);
}

/** Turns text with `\r`, `\n`, `\t`, `\\` and `\xHH` escapes into UTF-8 bytes. */
function unescape(key: string, value: string, fail: Fail): Uint8Array {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  let start = 0; // where the text since the last escape starts: encoded in one go
  const flush = (end: number) => {
    if (end > start) {
      for (const byte of encoder.encode(value.slice(start, end))) {
        bytes.push(byte);
      }
    }
  };
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== "\\") continue;
    flush(i);
    const next = value[i + 1] ?? "";
    if (next in ESCAPES) {
      bytes.push(ESCAPES[next]);
      i++;
    } else if (next === "x" && /^[0-9a-f]{2}$/i.test(value.slice(i + 2, i + 4))) {
      bytes.push(parseInt(value.slice(i + 2, i + 4), 16));
      i += 3;
    } else {
      const escape = next === "x" ? value.slice(i, i + 4) : value.slice(i, i + 2);
      fail(`escape "${escape}" in ${key}: expected \\r, \\n, \\t, \\\\ or \\xHH`);
    }
    start = i + 1;
  }
  flush(value.length);
  return new Uint8Array(bytes);
}
