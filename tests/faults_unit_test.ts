import assert from "node:assert/strict";
import { FaultError, type FaultOptions, faults, type Sink } from "../mod.ts";
import { fakeConnection, mockService } from "./_mock.ts";
import { delay, within } from "./_helpers.ts";

/** A sink that records the length of every write it takes. */
function recordingSink(): { sink: Sink; writes: number[] } {
  const writes: number[] = [];
  const sink: Sink = {
    write(bytes) {
      writes.push(bytes.length);
      return Promise.resolve(bytes.length);
    },
  };
  return { sink, writes };
}

Deno.test("faults([]) returns the inner service itself", () => {
  const mock = mockService();
  assert.equal(faults([])(mock.service), mock.service);
});

Deno.test("faults() with probability 0 installs no hook", async () => {
  const mock = mockService();
  const service = faults([
    { direction: "upstream", probability: 0, latency: 100 },
    { direction: "downstream", probability: 0, blackhole: true },
  ])(mock.service);
  const connection = fakeConnection("10.0.0.1");
  await service(connection);
  const { sink } = recordingSink();
  assert.equal(connection.sinkFor("up", sink), sink);
  assert.equal(connection.sinkFor("down", sink), sink);
  assert.equal(mock.calls.length, 1);
});

Deno.test("faults() with probability 0.5 hooks between 60 and 140 of 200 connections", async () => {
  const mock = mockService();
  const service = faults([{ direction: "upstream", probability: 0.5, latency: 100 }])(mock.service);
  const { sink } = recordingSink();
  let hooked = 0;
  for (let id = 1; id <= 200; id++) {
    const connection = fakeConnection("10.0.0.1", id);
    await service(connection);
    if (connection.sinkFor("up", sink) !== sink) hooked++;
  }
  assert.ok(hooked >= 60 && hooked <= 140, `${hooked} of 200 hooked`);
  assert.equal(mock.calls.length, 200);
});

Deno.test("faults() hooks only the direction it names", async () => {
  const service = faults([{ direction: "downstream", latency: 1 }])(mockService().service);
  const connection = fakeConnection("10.0.0.1");
  await service(connection);
  const { sink } = recordingSink();
  assert.equal(connection.sinkFor("up", sink), sink);
  assert.notEqual(connection.sinkFor("down", sink), sink);
});

Deno.test("faults() combines latency and slicing in one fault", async () => {
  const service = faults([{ direction: "upstream", latency: 50, slice: 100, sliceDelay: 10 }])(
    mockService().service,
  );
  const connection = fakeConnection("10.0.0.1");
  await service(connection);
  const { sink, writes } = recordingSink();
  const hooked = connection.sinkFor("up", sink);
  const started = performance.now();
  assert.equal(await hooked.write(new Uint8Array(300)), 300);
  const elapsed = performance.now() - started;
  assert.deepEqual(writes, [100, 100, 100]);
  assert.ok(elapsed >= 68 && elapsed < 500, `took ${elapsed}ms`);
});

Deno.test("faults() paces a fault's writes to its bandwidth", async () => {
  const service = faults([{ direction: "downstream", bandwidth: 10_000 }])(mockService().service);
  const connection = fakeConnection("10.0.0.1");
  await service(connection);
  const { sink, writes } = recordingSink();
  const hooked = connection.sinkFor("down", sink);
  const started = performance.now();
  for (let i = 0; i < 3; i++) assert.equal(await hooked.write(new Uint8Array(1_000)), 1_000);
  const elapsed = performance.now() - started;
  // 3000 bytes at 10 000 B/s: pieces of 500 bytes, the last one starting after 250 ms.
  assert.deepEqual(writes, [500, 500, 500, 500, 500, 500]);
  assert.ok(elapsed >= 245 && elapsed < 600, `took ${elapsed}ms`);
});

Deno.test("faults() hooks stop waiting when the connection is aborted", async () => {
  const service = faults([
    { direction: "upstream", latency: 10_000 },
    { direction: "downstream", blackhole: true },
  ])(mockService({ hold: true }).service);
  const connection = fakeConnection("10.0.0.1");
  const served = service(connection); // held inside until the abort
  const { sink, writes } = recordingSink();
  const up = connection.sinkFor("up", sink).write(new Uint8Array(10));
  const down = connection.sinkFor("down", sink).write(new Uint8Array(10));
  await delay(20);
  const cause = new FaultError("Stopped by the test");
  connection.abort(cause);
  await assert.rejects(within(500, "latency's end", up), (error) => error === cause);
  await assert.rejects(within(500, "black hole's end", down), (error) => error === cause);
  assert.deepEqual(writes, []);
  assert.equal((await served).reason, "fault");
});

Deno.test("faults() rejects options it cannot use, naming the field and value", () => {
  const cases: [FaultOptions, string, string][] = [
    [
      { direction: "up" as "upstream", latency: 1 },
      "TypeError",
      'Cannot use fault direction "up": expected upstream or downstream',
    ],
    [
      { direction: "upstream", probability: 0.5 },
      "TypeError",
      "Cannot use upstream fault with nothing to inject: expected one of latency, jitter, " +
      "bandwidth, slice, resetAfterBytes, resetAfter, blackhole",
    ],
    [
      { direction: "upstream", sliceDelay: 10 },
      "TypeError",
      "Cannot use fault sliceDelay 10 without slice: expected slice as well",
    ],
    [
      { direction: "upstream", latency: 1, probability: 1.5 },
      "RangeError",
      "Cannot use fault probability 1.5: expected a number from 0 to 1",
    ],
    [
      { direction: "upstream", latency: -1 },
      "RangeError",
      "Cannot use fault latency -1: expected whole milliseconds from 0 to 2147483647",
    ],
    [
      { direction: "downstream", jitter: 0.5 },
      "RangeError",
      "Cannot use fault jitter 0.5: expected whole milliseconds from 0 to 2147483647",
    ],
    [
      { direction: "upstream", resetAfter: 2 ** 31 },
      "RangeError",
      "Cannot use fault resetAfter 2147483648: expected whole milliseconds from 0 to 2147483647",
    ],
    [
      { direction: "upstream", bandwidth: 0 },
      "RangeError",
      "Cannot use fault bandwidth 0: expected a whole number, at least 1",
    ],
    [
      { direction: "upstream", slice: 0 },
      "RangeError",
      "Cannot use fault slice 0: expected a whole number, at least 1",
    ],
    [
      { direction: "upstream", resetAfterBytes: -1 },
      "RangeError",
      "Cannot use fault resetAfterBytes -1: expected a whole number, at least 0",
    ],
  ];
  for (const [options, name, message] of cases) {
    assert.throws(() => faults([options]), { name, message });
  }
});

Deno.test("FaultError carries the fault close reason", () => {
  const error = new FaultError("Reset 2s after connecting, as a fault");
  assert.equal(error.reason, "fault");
  assert.equal(error.name, "FaultError");
  assert.equal(error.message, "Reset 2s after connecting, as a fault");
});
