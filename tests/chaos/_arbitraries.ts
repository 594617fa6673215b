/**
 * What the fuzz tests share: a runner that counts the cases it tries, times every call and checks
 * the heap afterwards; the check every rejection must pass; and the generators. Each parser is fed
 * a mix of three kinds of input: any text (unicode, control characters, huge), near-valid text (a
 * valid input with one mutation), and valid input built from the grammar with the value it must
 * parse to.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { heapAfterGc } from "./_harness.ts";

export { fc };

/** Cases each parser is tried on. */
export const RUNS = 100_000;
/** The longest one call may take: a parser slower than this on small input is backtracking. */
export const SLOW_MS = 50;
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

// Text of every kind.

const CONTROL = [..."\0\x01\x07\b\t\n\v\f\r\x1b\x7f\x85\u00a0\u2028\u2029\ufeff"];

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

// The grammars outside input is written in, each a generator of valid cases.

/** The alphabets near-valid and soup text are drawn from. */
export const ALPHABET = {
  address: "0123456789abcdefxyzABCDEF.:[]-_%/ ",
  duration: "0123456789.mshx -",
  rate: "0123456789./smhx ",
  cidr: "0123456789abcdefABCDEF.:/%all ",
};

/** An IPv4 address's four bytes, as text. */
export const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 })
  .map((bytes) => ({ bytes, text: bytes.join(".") }));

/**
 * An IPv6 address, as its 16 bytes and one of the ways to write them: with or without a `::` for
 * a run of zero groups, an IPv4 tail, leading zeros, upper case.
 */
export const ipv6 = fc.record({
  random: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  kind: fc.constantFrom("random", "mapped", "loopback", "zeros"),
  run: fc.option(fc.tuple(fc.nat(7), fc.integer({ min: 1, max: 8 }))),
  v4Tail: fc.boolean(),
  pad: fc.boolean(),
  upper: fc.boolean(),
}).map(({ random, kind, run, v4Tail, pad, upper }) => {
  const bytes = kind === "random" ? random.slice() : new Uint8Array(16);
  if (kind === "mapped") bytes.set([0xff, 0xff, ...random.subarray(12)], 10);
  if (kind === "loopback") bytes[15] = 1;
  const count = v4Tail ? 6 : 8;
  const start = run && run[0] % count;
  const end = run && Math.min(count, start! + run[1]);
  if (run) bytes.fill(0, 2 * start!, 2 * end!);
  const groups = Array.from({ length: count }, (_, i) => {
    const hex = ((bytes[2 * i] << 8) | bytes[2 * i + 1]).toString(16);
    const padded = pad ? hex.padStart(4, "0") : hex;
    return upper ? padded.toUpperCase() : padded;
  });
  const tail = v4Tail ? [bytes.subarray(12).join(".")] : [];
  const text = run
    ? `${groups.slice(0, start!).join(":")}::${[...groups.slice(end!), ...tail].join(":")}`
    : [...groups, ...tail].join(":");
  return { bytes, text };
});

/** IPv6-ish soup: the pieces addresses are made of, in any order. */
export const ipv6Soup = fc.array(
  fc.constantFrom(
    ...["::", ":", "0", "1", "ffff", "FFFF", "abcd", "12345", "1.2.3.4", "255.255.255.255"],
    ...["256.1.1.1", "01.2.3.4", "1.2.3", "%eth0", "%", "g", "::ffff:"],
  ),
  { maxLength: 10 },
).map((pieces) => pieces.join(""));

/** An address as RFC 5952 writes it, as `clientKey()` should: IPv4-mapped ones as IPv4. */
export function canonicalIp(bytes: Uint8Array): string {
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return bytes.subarray(12).join(".");
  }
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let best = { start: -1, length: 1 };
  for (let i = 0; i < 8; i++) {
    let length = 0;
    while (i + length < 8 && groups[i + length] === 0) length++;
    if (length > best.length) best = { start: i, length };
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(":");
  if (best.start < 0) return hex(groups);
  return `${hex(groups.slice(0, best.start))}::${hex(groups.slice(best.start + best.length))}`;
}

/** Whether `text` is an IPv4 address in strict dotted decimal. */
export function isStrictIpv4(text: string): boolean {
  return /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(?:\.(?!$)|$)){4}$/.test(text);
}

/** Whether `text` is an IPv6 address: hex, colons and dots that the WHATWG URL parser takes. */
export function urlTakesIpv6(text: string): boolean {
  return /^[0-9a-f:.]+$/i.test(text) && URL.canParse(`http://[${text}]/`);
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** A hostname: labels of letters, digits, `_` and `-`, in mixed case, with an optional final dot. */
export const hostname = fc.tuple(
  fc.array(fc.mixedCase(fc.stringMatching(LABEL)), { minLength: 1, maxLength: 4 }),
  fc.boolean(),
).map(([labels, dot]) => labels.join(".") + (dot ? "." : ""))
  .filter((name) => name.length <= 253 && !/^[0-9.]+$/.test(name));

/** A valid `HOST:PORT`, with the address it names. Port 0 only if `portZero`. */
export function address(portZero = false) {
  const host = fc.oneof(
    hostname.map((name) => ({ text: name, hostname: name })),
    ipv4.map(({ text }) => ({ text, hostname: text })),
    ipv6.map(({ text }) => ({ text: `[${text}]`, hostname: text })),
  );
  const port = fc.integer({ min: portZero ? 0 : 1, max: 65535 });
  return fc.tuple(host, port, fc.nat(5)).map(([host, port, zeros]) => ({
    text: `${host.text}:${String(port).padStart(Math.min(5, String(port).length + zeros), "0")}`,
    expected: { hostname: host.hostname, port },
  }));
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
/** The longest duration: 2^31 - 1 ms. */
export const MAX_MS = 2 ** 31 - 1;

/** A duration as operators write it (`1h30m`, `0.5s`, `0`), with its milliseconds. */
export const duration = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ text: "0", expected: 0 }) },
  {
    weight: 12,
    arbitrary: fc.array(
      fc.tuple(digits(1, 4), fc.option(digits(1, 3)), fc.constantFrom("ms", "s", "m", "h")),
      { minLength: 1, maxLength: 4 },
    ).map((parts) => {
      let ms = 0;
      for (const [whole, fraction, unit] of parts) {
        ms += Number(fraction === null ? whole : `${whole}.${fraction}`) * UNIT_MS[unit];
      }
      const text = parts.map(([w, f, u]) => `${w}${f === null ? "" : `.${f}`}${u}`).join("");
      return { text, expected: Math.round(ms) };
    }),
  },
);

/** A duration a timer can hold. */
export const shortDuration = duration.filter((d) => d.expected <= MAX_MS);

/** A rate, `COUNT/s` or `COUNT/m`, with its count per second (0 is a valid form but not a rate). */
export const rate = fc.tuple(digits(1, 6), fc.option(digits(1, 3)), fc.constantFrom("s", "m"))
  .map(([whole, fraction, unit]) => {
    const count = Number(fraction === null ? whole : `${whole}.${fraction}`);
    return {
      text: `${whole}${fraction === null ? "" : `.${fraction}`}/${unit}`,
      expected: count / (unit === "s" ? 1 : 60),
    };
  });

/** A CIDR block, IPv4 or IPv6, with its network bytes (IPv4 mapped) and prefix in IPv6 bits. */
export const cidr = fc.oneof(
  fc.tuple(ipv4, fc.option(fc.integer({ min: 0, max: 32 }))).map(([ip, prefix]) => ({
    text: prefix === null ? ip.text : `${ip.text}/${prefix}`,
    bytes: Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...ip.bytes]),
    bits: 96 + (prefix ?? 32),
  })),
  fc.tuple(ipv6, fc.option(fc.integer({ min: 0, max: 128 }))).map(([ip, prefix]) => ({
    text: prefix === null ? ip.text : `${ip.text}/${prefix}`,
    bytes: ip.bytes,
    bits: prefix ?? 128,
  })),
);

/** Whether `ip` falls in the block of `network` bytes whose first `bits` bits count. */
export function inBlock(ip: Uint8Array, network: Uint8Array, bits: number): boolean {
  for (let bit = 0; bit < bits; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((ip[bit >> 3] & mask) !== (network[bit >> 3] & mask)) return false;
  }
  return true;
}

/** An upstream as the command line writes it: `HOST:PORT[,weight=N][,backup]`, options repeated. */
export const upstream = fc.tuple(
  address(),
  fc.array(
    fc.oneof(
      fc.constant("backup"),
      fc.tuple(fc.integer({ min: 1, max: 1000 }), fc.nat(3))
        .map(([n, zeros]) =>
          `weight=${String(n).padStart(Math.min(4, `${n}`.length + zeros), "0")}`
        ),
    ),
    { maxLength: 4 },
  ),
).map(([{ text, expected }, options]) => {
  const weights = options.filter((o) => o !== "backup").map((o) => Number(o.slice(7)));
  return {
    text: [text, ...options].join(","),
    expected: {
      address: expected,
      weight: weights.at(-1) ?? 1,
      backup: options.includes("backup"),
    },
  };
});

const VISIBLE_NO_COMMA = [...Array(94)].map((_, i) => String.fromCharCode(33 + i))
  .filter((char) => char !== ",").join("");

/** An HTTP status as the health check writes it: `200`, `200-299` or `2xx`. */
const status = fc.oneof(
  fc.integer({ min: 100, max: 599 }).map(String),
  fc.tuple(fc.integer({ min: 100, max: 599 }), fc.integer({ min: 100, max: 599 }))
    .map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
  fc.integer({ min: 1, max: 5 }).map((c) => `${c}xx`),
);

/** BYTES for send/expect: any text but commas and backslashes, and the escapes. */
const bytesText = fc.array(
  fc.oneof(
    fc.string({ unit: "binary", minLength: 1, maxLength: 1 }).filter((c) => !/[,\\]/.test(c)),
    fc.constantFrom(...CONTROL),
    fc.constantFrom("\\r", "\\n", "\\t", "\\\\"),
    fc.mixedCase(fc.stringMatching(/^[0-9a-f]{2}$/)).map((hex) => `\\x${hex}`),
  ),
  { minLength: 1, maxLength: 20 },
).map((pieces) => pieces.join(""));

/** A health check as the command line writes it, with the name of the check it makes. */
export const healthCheck = fc.oneof(
  fc.constant({ text: "tcp", expected: "tcpCheck" }),
  fc.tuple(
    over(VISIBLE_NO_COMMA, 0, 20),
    fc.option(fc.array(status, { minLength: 1, maxLength: 3 })),
    fc.option(over(VISIBLE_NO_COMMA, 1, 20)),
    fc.boolean(),
  ).map(([path, statuses, host, hostFirst]) => {
    const statusItems = statuses ? [`status=${statuses[0]}`, ...statuses.slice(1)] : [];
    const hostItems = host === null ? [] : [`host=${host}`];
    const items = hostFirst ? [...hostItems, ...statusItems] : [...statusItems, ...hostItems];
    return { text: [`http:/${path}`, ...items].join(","), expected: "httpCheck" };
  }),
  fc.tuple(fc.option(bytesText), bytesText, fc.boolean()).map(([send, expect, sendFirst]) => {
    const items = send === null ? [] : [`send=${send}`];
    items.splice(sendFirst ? 1 : 0, 0, `expect=${expect}`);
    return { text: items.join(","), expected: "sendExpectCheck" };
  }),
);

const UNIT_BYTES: Record<string, number> = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
};

/** A SIZE: at least 1 byte, with an optional unit in any case, and the bytes it stands for. */
const size = fc.tuple(
  fc.stringMatching(/^[1-9][0-9]{0,3}(?:\.[0-9]{1,2})?$/),
  fc.mixedCase(fc.constantFrom(...Object.keys(UNIT_BYTES))),
).map(([n, unit]) => ({
  text: n + unit,
  value: Math.round(Number(n) * UNIT_BYTES[unit.toLowerCase()]),
}));

type FaultValue = { text: string | undefined; value: number | boolean };
const FAULT_KEYS: Record<string, [string, fc.Arbitrary<FaultValue>]> = {
  latency: ["latency", shortDuration.map((d) => ({ text: d.text, value: d.expected }))],
  jitter: ["jitter", shortDuration.map((d) => ({ text: d.text, value: d.expected }))],
  bandwidth: [
    "bandwidth",
    fc.tuple(size, fc.constantFrom("", "/s", "/S")).map(([s, per]) => ({
      ...s,
      text: s.text + per,
    })),
  ],
  slice: ["slice", size],
  "slice-delay": ["sliceDelay", shortDuration.map((d) => ({ text: d.text, value: d.expected }))],
  "reset-after-bytes": ["resetAfterBytes", size],
  "reset-after": ["resetAfter", shortDuration.map((d) => ({ text: d.text, value: d.expected }))],
  blackhole: ["blackhole", fc.constant({ text: undefined, value: true })],
  probability: [
    "probability",
    fc.stringMatching(/^(?:0(?:\.[0-9]{0,3})?|\.[0-9]{1,3}|1(?:\.0{0,2})?)$/)
      .map((p) => ({ text: p, value: Number(p) })),
  ],
};

/** A fault as the command line writes it, with the options it stands for. */
export const fault = fc.tuple(
  fc.constantFrom("upstream", "downstream"),
  fc.shuffledSubarray(Object.keys(FAULT_KEYS), { minLength: 1 })
    .filter((keys) => keys.some((key) => key !== "probability"))
    .map((keys) =>
      keys.includes("slice-delay") && !keys.includes("slice") ? [...keys, "slice"] : keys
    )
    .chain((keys) =>
      fc.tuple(...keys.map((key) => FAULT_KEYS[key][1].map((v) => [key, v] as const)))
    ),
).map(([direction, items]) => {
  const expected: Record<string, unknown> = { direction };
  for (const [key, { value }] of items) expected[FAULT_KEYS[key][0]] = value;
  const text = items.map(([key, { text }]) => text === undefined ? key : `${key}=${text}`);
  return { text: `${direction}:${text.join(",")}`, expected };
});
