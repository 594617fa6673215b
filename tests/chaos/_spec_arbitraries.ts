/** Generators of the command line's specs: upstreams, health checks and faults, each valid. */

import fc from "fast-check";
import { address, shortDuration } from "./_arbitraries.ts";
import { CONTROL, over } from "./_text_arbitraries.ts";

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
