import assert from "node:assert/strict";
import {
  concurrencyLimit,
  type Connection,
  ConnectionError,
  type ConnectionReport,
  OverLimitError,
} from "../mod.ts";
import { fakeConnection, mockService } from "./_mock.ts";
import { delay, within } from "./_helpers.ts";

const settle = () => delay(0);

/** Calls `service` with `count` fake connections from one address, numbered from `firstId`. */
function arrive(
  service: (connection: Connection) => Promise<ConnectionReport>,
  count: number,
  hostname = "10.0.0.1",
  firstId = 1,
): { connections: Connection[]; reports: Promise<ConnectionReport>[] } {
  const connections = Array.from(
    { length: count },
    (_, i) => fakeConnection(hostname, firstId + i),
  );
  return { connections, reports: connections.map((connection) => service(connection)) };
}

// Unit tests of concurrencyLimit() with a holding mock inner service.

Deno.test("concurrencyLimit() queues the connection over max without calling the inner service", async () => {
  const mock = mockService({ hold: true });
  const limit = concurrencyLimit({ max: 2, queue: 5 });
  const { reports } = arrive(limit(mock.service), 3);
  await settle();
  assert.equal(mock.calls.length, 2);
  assert.equal(mock.held, 2);
  assert.equal(limit.open, 2);
  assert.equal(limit.queued, 1);
  while (mock.release()) await settle();
  assert.deepEqual(
    (await Promise.all(reports)).map((r) => r.reason),
    Array(3).fill("client_closed"),
  );
  assert.equal(mock.calls.length, 3);
  assert.equal(limit.open, 0);
  assert.equal(limit.queued, 0);
});

Deno.test("concurrencyLimit() hands freed slots to waiters oldest first, with newcomers at the back", async () => {
  const mock = mockService({ hold: true });
  const limit = concurrencyLimit({ max: 2, queue: 3 });
  const service = limit(mock.service);
  const { reports } = arrive(service, 4);
  await settle();
  assert.deepEqual(mock.calls.map((c) => c.id), [1, 2]);
  mock.release();
  const late = service(fakeConnection("10.0.0.1", 5)); // arrives as the slot is handed over
  await settle();
  assert.deepEqual(mock.calls.map((c) => c.id), [1, 2, 3]);
  assert.equal(limit.queued, 2);
  mock.release();
  await settle();
  assert.deepEqual(mock.calls.map((c) => c.id), [1, 2, 3, 4]);
  while (mock.release()) await settle();
  assert.deepEqual(mock.calls.map((c) => c.id), [1, 2, 3, 4, 5]);
  await Promise.all([...reports, late]);
  assert.equal(limit.open, 0);
});

Deno.test("concurrencyLimit() closes a connection that finds the queue full with over_limit at once", async () => {
  const mock = mockService({ hold: true });
  const limit = concurrencyLimit({ max: 2, queue: 1 });
  const { reports } = arrive(limit(mock.service), 4);
  const extra = await within(100, "the extra connection's report", reports[3]);
  assert.equal(extra.reason, "over_limit");
  assert.equal(extra.error, "2 connections are open and the queue of 1 is full");
  assert.equal(mock.calls.length, 2);
  assert.equal(limit.queued, 1);
  while (mock.release()) await settle();
  await Promise.all(reports);
  assert.equal(mock.calls.length, 3);
});

Deno.test("concurrencyLimit() with no queue closes every connection over max at once", async () => {
  const mock = mockService({ hold: true });
  const limit = concurrencyLimit({ max: 1 });
  const { reports } = arrive(limit(mock.service), 2);
  const extra = await within(100, "the extra connection's report", reports[1]);
  assert.equal(extra.reason, "over_limit");
  assert.equal(extra.error, "1 connection is open, the most allowed");
  mock.release();
  await reports[0];
  assert.equal(limit.open, 0);
});

Deno.test("concurrencyLimit() closes a connection that waited out the queue timeout with over_limit", async () => {
  const mock = mockService({ hold: true });
  const limit = concurrencyLimit({ max: 1, queue: 1, queueTimeout: 100 });
  const started = performance.now();
  const { reports } = arrive(limit(mock.service), 2);
  const waited = await within(2_000, "the queue timeout", reports[1]);
  const elapsed = performance.now() - started;
  assert.equal(waited.reason, "over_limit");
  assert.equal(waited.error, "No connection slot freed within 100ms (1 open)");
  assert.ok(elapsed >= 90 && elapsed < 600, `closed after ${elapsed}ms`);
  assert.equal(limit.queued, 0);
  mock.release();
  await reports[0];
  assert.equal(mock.calls.length, 1);
  assert.equal(limit.open, 0);
});

Deno.test("concurrencyLimit() with queue timeout 0 lets a connection wait until a slot frees", async () => {
  const mock = mockService({ hold: true });
  const limit = concurrencyLimit({ max: 1, queue: 1, queueTimeout: 0 });
  const { reports } = arrive(limit(mock.service), 2);
  await delay(150);
  assert.equal(limit.queued, 1);
  mock.release();
  await settle();
  assert.equal(mock.calls.length, 2);
  mock.release();
  assert.equal((await reports[1]).reason, "client_closed");
});

Deno.test("concurrencyLimit() lets an aborted waiter leave the queue with its own cause", async () => {
  const mock = mockService({ hold: true });
  const limit = concurrencyLimit({ max: 1, queue: 2 });
  const { connections, reports } = arrive(limit(mock.service), 3);
  await settle();
  assert.equal(limit.queued, 2);
  connections[1].abort(new ConnectionError("shutdown", "Stopping"));
  const aborted = await within(100, "the aborted waiter's report", reports[1]);
  assert.equal(aborted.reason, "shutdown");
  assert.equal(aborted.error, "Stopping");
  assert.equal(limit.queued, 1);
  mock.release();
  await settle();
  assert.deepEqual(mock.calls.map((c) => c.id), [1, 3]); // the aborted one never got a slot
  mock.release();
  await Promise.all(reports);
  assert.equal(limit.open, 0);
  assert.equal(limit.queued, 0);
});

Deno.test("concurrencyLimit() frees the slot of an inner service that throws", async () => {
  const gate = Promise.withResolvers<void>();
  let calls = 0;
  const inner = async (_connection: Connection): Promise<ConnectionReport> => {
    calls++;
    await gate.promise;
    throw new Error("A bug in an inner layer");
  };
  const limit = concurrencyLimit({ max: 1, queue: 1 });
  const { reports } = arrive(limit(inner), 2);
  await settle();
  assert.equal(calls, 1);
  gate.resolve();
  await assert.rejects(within(1_000, "the first", reports[0]), {
    message: "A bug in an inner layer",
  });
  // The waiter got the freed slot, rather than waiting out its queue timeout.
  await assert.rejects(within(1_000, "the waiter", reports[1]), {
    message: "A bug in an inner layer",
  });
  assert.equal(calls, 2);
  assert.equal(limit.open, 0);
});

Deno.test("concurrencyLimit() rejects a limit, queue or timeout it cannot use", () => {
  assert.throws(() => concurrencyLimit({ max: 0 }), {
    name: "RangeError",
    message: "Cannot use max 0: expected a whole number of connections, at least 1",
  });
  assert.throws(() => concurrencyLimit({ max: 2.5 }), RangeError);
  assert.throws(() => concurrencyLimit({ max: Infinity }), RangeError);
  assert.throws(() => concurrencyLimit({ max: 1, queue: -1 }), {
    message: "Cannot use queue -1: expected a whole number of connections, at least 0",
  });
  assert.throws(() => concurrencyLimit({ max: 1, queueTimeout: 2 ** 31 }), {
    message:
      "Cannot use queue timeout 2147483648: expected whole milliseconds from 0 to 2147483647",
  });
});

Deno.test("OverLimitError carries over_limit", () => {
  const error = new OverLimitError("1 connection is open, the most allowed");
  assert.equal(error.reason, "over_limit");
  assert.ok(error instanceof ConnectionError);
});
