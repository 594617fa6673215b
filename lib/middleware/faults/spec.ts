/**
 * The command line's way to write a fault: `--fault upstream:latency=100ms,jitter=20ms`.
 *
 * @module
 */

import { parseDuration } from "../../duration.ts";
import type { FaultOptions } from "../faults.ts";
import { bytesIn } from "../../size.ts";

type Kind = "duration" | "size" | "count" | "rate" | "flag" | "probability";

/** Each key, the option it sets, and what its value is. */
const KEYS: Record<string, { field: Exclude<keyof FaultOptions, "direction">; kind: Kind }> = {
  "latency": { field: "latency", kind: "duration" },
  "jitter": { field: "jitter", kind: "duration" },
  "bandwidth": { field: "bandwidth", kind: "rate" },
  "slice": { field: "slice", kind: "size" },
  "slice-delay": { field: "sliceDelay", kind: "duration" },
  "reset-after-bytes": { field: "resetAfterBytes", kind: "count" },
  "reset-after": { field: "resetAfter", kind: "duration" },
  "blackhole": { field: "blackhole", kind: "flag" },
  "probability": { field: "probability", kind: "probability" },
};

/** What the grammar calls each kind of value. */
const PLACEHOLDER: Record<Kind, string> = {
  duration: "DURATION",
  size: "SIZE",
  count: "SIZE",
  rate: "RATE",
  flag: "",
  probability: "P",
};
const KEY_LIST =
  "latency, jitter, bandwidth, slice, slice-delay, reset-after-bytes, reset-after, " +
  "blackhole or probability";
const FAULT_LIST = "latency, jitter, bandwidth, slice, reset-after-bytes, reset-after or blackhole";
const PROBABILITY = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

/**
 * Parses a fault as the command line writes it, into the options `faults()` takes.
 *
 * ```text
 * DIRECTION:KEY=VALUE[,KEY=VALUE...]
 *
 * DIRECTION               upstream (client to upstream) or downstream (upstream to client)
 * latency=DURATION        hold each chunk this long before passing it on
 * jitter=DURATION         vary each delay by up to this much either way
 * bandwidth=RATE          cap the rate in bytes per second
 * slice=SIZE              pass chunks on in pieces of this many bytes
 * slice-delay=DURATION    wait this long between pieces (needs slice)
 * reset-after-bytes=SIZE  reset the connection once this many bytes have passed
 * reset-after=DURATION    reset the connection this long after the upstream connects
 * blackhole               pass nothing on (no value): the sender stalls once buffers fill
 * probability=P           give the fault to this share of connections, 0 to 1 (default 1)
 *
 * DURATION: 500ms, 5s, 10m, 1h, 1m30s. SIZE: bytes, optionally with a unit: B, KB, MB, GB
 * (powers of 1000) or KiB, MiB, GiB (powers of 1024), such as 100, 64KB or 1MiB. RATE: a SIZE,
 * optionally followed by /s, such as 1048576, 512KB/s, 1MB/s or 1MiB/s.
 * ```
 *
 * Each key may appear once; a fault needs at least one key besides probability.
 *
 * @param text The fault, such as `"upstream:latency=100ms,jitter=20ms"`.
 * @param label What the text is, for error messages.
 * @returns The fault's options.
 * @throws {TypeError} If the text does not follow the grammar, naming the part that does not.
 *
 * @example Parsing faults
 * ```ts
 * import { parseFault } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseFault("upstream:latency=100ms,jitter=20ms"), {
 *   direction: "upstream",
 *   latency: 100,
 *   jitter: 20,
 * });
 * assert.deepEqual(parseFault("downstream:bandwidth=1MB/s,probability=0.25"), {
 *   direction: "downstream",
 *   bandwidth: 1_000_000,
 *   probability: 0.25,
 * });
 * assert.throws(() => parseFault("upstream:latncy=100ms"), {
 *   name: "TypeError",
 *   message: 'Cannot parse --fault "upstream:latncy=100ms": unknown key "latncy", expected ' +
 *     "latency, jitter, bandwidth, slice, slice-delay, reset-after-bytes, reset-after, " +
 *     "blackhole or probability",
 * });
 * ```
 */
export function parseFault(text: string, label = "--fault"): FaultOptions {
  const fail = (detail: string) => new TypeError(`Cannot parse ${label} "${text}": ${detail}`);
  const colon = text.indexOf(":");
  const direction = text.slice(0, colon);
  if (colon < 0 || (direction !== "upstream" && direction !== "downstream")) {
    throw fail("expected DIRECTION:KEY=VALUE,... where DIRECTION is upstream or downstream");
  }
  const options: FaultOptions = { direction };
  const rest = text.slice(colon + 1);
  for (const item of rest === "" ? [] : rest.split(",")) {
    if (item === "") throw fail("empty item between commas, expected KEY=VALUE");
    const equals = item.indexOf("=");
    const key = equals < 0 ? item : item.slice(0, equals);
    const value = equals < 0 ? undefined : item.slice(equals + 1);
    const spec = Object.hasOwn(KEYS, key) ? KEYS[key] : undefined;
    if (spec === undefined) throw fail(`unknown key "${key}", expected ${KEY_LIST}`);
    if (options[spec.field] !== undefined) {
      throw fail(`key "${key}" is given twice, expected each key at most once`);
    }
    if (spec.kind === "flag") {
      if (value !== undefined) throw fail(`key "${key}" takes no value, expected ${key} alone`);
      options.blackhole = true;
      continue;
    }
    if (value === undefined) {
      throw fail(`key "${key}" needs a value, expected ${key}=${PLACEHOLDER[spec.kind]}`);
    }
    (options as unknown as Record<string, number>)[spec.field] = valueOf(
      spec.kind,
      key,
      value,
      `${label} "${text}"`,
    );
  }
  if (Object.keys(options).every((field) => field === "direction" || field === "probability")) {
    throw fail(`no fault given, expected at least one of ${FAULT_LIST}`);
  }
  if (options.sliceDelay !== undefined && options.slice === undefined) {
    throw fail("slice-delay without slice, expected slice=SIZE as well");
  }
  return options;
}

function valueOf(kind: Kind, key: string, value: string, where: string): number {
  const fail = (expected: string) =>
    new TypeError(`Cannot parse ${where}: ${key} "${value}": expected ${expected}`);
  switch (kind) {
    case "duration":
      return parseDuration(value, `${where}: ${key}`);
    case "probability": {
      const probability = Number(value);
      if (!PROBABILITY.test(value) || probability > 1) {
        throw fail("a number from 0 to 1, such as 0.25");
      }
      return probability;
    }
    case "rate": {
      const rate = bytesIn(value.replace(/\/s$/i, "")); // a RATE is a SIZE a second
      if (rate === undefined) {
        throw fail("bytes per second such as 1048576, 512KB/s, 1MB/s or 1MiB/s");
      }
      if (rate < 1) throw fail("at least 1 byte per second, such as 1MB/s");
      return rate;
    }
    default: {
      const size = bytesIn(value);
      if (size === undefined) throw fail("a size in bytes such as 100, 64KB or 1MiB");
      if (kind === "size" && size < 1) throw fail("a size of at least 1 byte, such as 100");
      return size;
    }
  }
}
