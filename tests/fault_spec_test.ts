import assert from "node:assert/strict";
import { type FaultOptions, faults } from "../mod.ts";
// Switch to "../mod.ts" once mod.ts exports lib/middleware/faults/spec.ts.
import { parseFault } from "../mod.ts";

Deno.test("parseFault() reads each key into its option", () => {
  const cases: [string, FaultOptions][] = [
    ["upstream:latency=100ms", { direction: "upstream", latency: 100 }],
    ["downstream:jitter=1.5s", { direction: "downstream", jitter: 1_500 }],
    ["upstream:bandwidth=1048576", { direction: "upstream", bandwidth: 1_048_576 }],
    ["upstream:bandwidth=512KB/s", { direction: "upstream", bandwidth: 512_000 }],
    ["upstream:bandwidth=1MB/s", { direction: "upstream", bandwidth: 1_000_000 }],
    ["upstream:bandwidth=1MiB/s", { direction: "upstream", bandwidth: 1_048_576 }],
    ["upstream:bandwidth=64kib", { direction: "upstream", bandwidth: 65_536 }],
    ["upstream:bandwidth=1.5GB/s", { direction: "upstream", bandwidth: 1_500_000_000 }],
    ["upstream:bandwidth=100B/s", { direction: "upstream", bandwidth: 100 }],
    ["upstream:slice=100", { direction: "upstream", slice: 100 }],
    ["upstream:slice=2KiB", { direction: "upstream", slice: 2_048 }],
    [
      "upstream:slice=100,slice-delay=10ms",
      { direction: "upstream", slice: 100, sliceDelay: 10 },
    ],
    ["downstream:reset-after-bytes=1000", { direction: "downstream", resetAfterBytes: 1_000 }],
    ["downstream:reset-after-bytes=0", { direction: "downstream", resetAfterBytes: 0 }],
    ["upstream:reset-after-bytes=1MB", { direction: "upstream", resetAfterBytes: 1_000_000 }],
    ["upstream:reset-after=2s", { direction: "upstream", resetAfter: 2_000 }],
    ["upstream:blackhole", { direction: "upstream", blackhole: true }],
    [
      "upstream:blackhole,probability=0.25",
      { direction: "upstream", blackhole: true, probability: 0.25 },
    ],
    ["upstream:latency=1m30s,probability=1", {
      direction: "upstream",
      latency: 90_000,
      probability: 1,
    }],
    ["upstream:probability=0,latency=0", { direction: "upstream", probability: 0, latency: 0 }],
    ["upstream:probability=.5,latency=1ms", {
      direction: "upstream",
      probability: 0.5,
      latency: 1,
    }],
  ];
  for (const [text, expected] of cases) assert.deepEqual(parseFault(text), expected, text);
});

Deno.test("parseFault() combines several keys into one fault that faults() accepts", () => {
  const options = parseFault(
    "downstream:latency=100ms,jitter=20ms,bandwidth=1MB/s,slice=512,slice-delay=5ms," +
      "reset-after-bytes=10KB,reset-after=30s,probability=0.75",
  );
  assert.deepEqual(options, {
    direction: "downstream",
    latency: 100,
    jitter: 20,
    bandwidth: 1_000_000,
    slice: 512,
    sliceDelay: 5,
    resetAfterBytes: 10_000,
    resetAfter: 30_000,
    probability: 0.75,
  });
  assert.equal(typeof faults([options]), "function");
});

Deno.test("parseFault() names the text, the part and what is accepted in each error", () => {
  const keys = "latency, jitter, bandwidth, slice, slice-delay, reset-after-bytes, reset-after, " +
    "blackhole or probability";
  const form = "expected DIRECTION:KEY=VALUE,... where DIRECTION is upstream or downstream";
  const cases: [string, string][] = [
    ["upstream:latncy=100ms", `unknown key "latncy", expected ${keys}`],
    ["upstream:=5", `unknown key "", expected ${keys}`],
    ["latency=100ms", form],
    ["sideways:latency=100ms", form],
    [":latency=100ms", form],
    ["Upstream:latency=100ms", form],
    ["", form],
    [
      "upstream:",
      "no fault given, expected at least one of latency, jitter, bandwidth, slice, " +
      "reset-after-bytes, reset-after or blackhole",
    ],
    [
      "upstream:probability=0.5",
      "no fault given, expected at least one of latency, jitter, bandwidth, slice, " +
      "reset-after-bytes, reset-after or blackhole",
    ],
    ["upstream:latency=1s,,jitter=1ms", "empty item between commas, expected KEY=VALUE"],
    ["upstream:latency=1s,", "empty item between commas, expected KEY=VALUE"],
    ["upstream:latency", 'key "latency" needs a value, expected latency=DURATION'],
    ["upstream:bandwidth", 'key "bandwidth" needs a value, expected bandwidth=RATE'],
    ["upstream:slice", 'key "slice" needs a value, expected slice=SIZE'],
    ["upstream:probability,latency=1s", 'key "probability" needs a value, expected probability=P'],
    [
      "upstream:latency=1s,latency=2s",
      'key "latency" is given twice, expected each key at most once',
    ],
    ["upstream:blackhole=yes", 'key "blackhole" takes no value, expected blackhole alone'],
    [
      "upstream:blackhole,blackhole",
      'key "blackhole" is given twice, expected each key at most once',
    ],
    [
      "upstream:latency=100",
      'latency "100": expected a duration such as 500ms, 5s, 10m or 1h',
    ],
    ["upstream:reset-after=600h", 'reset-after "600h": expected a duration of at most 596h'],
    [
      "upstream:bandwidth=fast",
      'bandwidth "fast": expected bytes per second such as 1048576, 512KB/s, 1MB/s or 1MiB/s',
    ],
    [
      "upstream:bandwidth=1MB/m",
      'bandwidth "1MB/m": expected bytes per second such as 1048576, 512KB/s, 1MB/s or 1MiB/s',
    ],
    ["upstream:bandwidth=0", 'bandwidth "0": expected at least 1 byte per second, such as 1MB/s'],
    ["upstream:slice=-1", 'slice "-1": expected a size in bytes such as 100, 64KB or 1MiB'],
    ["upstream:slice=100/s", 'slice "100/s": expected a size in bytes such as 100, 64KB or 1MiB'],
    ["upstream:slice=0", 'slice "0": expected a size of at least 1 byte, such as 100'],
    [
      "upstream:reset-after-bytes=lots",
      'reset-after-bytes "lots": expected a size in bytes such as 100, 64KB or 1MiB',
    ],
    [
      "upstream:reset-after-bytes=99999999GiB",
      'reset-after-bytes "99999999GiB": expected a size in bytes such as 100, 64KB or 1MiB',
    ],
    [
      "upstream:probability=2,latency=1s",
      'probability "2": expected a number from 0 to 1, such as 0.25',
    ],
    [
      "upstream:probability=-0.1,latency=1s",
      'probability "-0.1": expected a number from 0 to 1, such as 0.25',
    ],
    [
      "upstream:probability=half,latency=1s",
      'probability "half": expected a number from 0 to 1, such as 0.25',
    ],
    ["upstream:slice-delay=10ms", "slice-delay without slice, expected slice=SIZE as well"],
    ["upstream: latency=1s", `unknown key " latency", expected ${keys}`],
  ];
  for (const [text, detail] of cases) {
    assert.throws(() => parseFault(text), {
      name: "TypeError",
      message: `Cannot parse --fault "${text}": ${detail}`,
    }, text);
  }
});

Deno.test("parseFault() names the label it is given", () => {
  assert.throws(() => parseFault("up:latency=1s", "MINGINX_FAULT"), {
    message: 'Cannot parse MINGINX_FAULT "up:latency=1s": expected DIRECTION:KEY=VALUE,... ' +
      "where DIRECTION is upstream or downstream",
  });
});
