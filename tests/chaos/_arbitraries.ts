/**
 * The grammars outside input is written in, each a generator of valid cases with the value it
 * must parse to: addresses, durations, IP addresses, CIDR blocks and rates. Each parser is fed a
 * mix of three kinds of input: any text (unicode, control characters, huge), near-valid text (a
 * valid input with one mutation), and valid input built from the grammar with the value it must
 * parse to. The runner is in `_fuzz.ts`, the first two kinds in `_text_arbitraries.ts`, and the
 * command line's specs in `_spec_arbitraries.ts`.
 */

import fc from "fast-check";
import { digits } from "./_text_arbitraries.ts";

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
