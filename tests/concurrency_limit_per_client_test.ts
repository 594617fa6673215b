import assert from "node:assert/strict";
import { concurrencyLimit, concurrencyLimitPerClient, type ConnectionReport } from "../mod.ts";
import { fakeConnection, mockService } from "./_mock.ts";
import { echoes, probe } from "./_echo.ts";
import { delay, readToEnd, recordedProxy, startEcho, within } from "./_helpers.ts";

/** Lets every queued promise callback run, so the layer and the mock have seen what they will. */
const settle = () => delay(0);

// Unit tests with a holding mock inner service.

Deno.test("concurrencyLimitPerClient() counts each client address separately", async () => {
  const mock = mockService({ hold: true });
  const limit = concurrencyLimitPerClient({ max: 1 });
  const service = limit(mock.service);
  const held = [service(fakeConnection("10.0.0.1", 1)), service(fakeConnection("10.0.0.2", 2))];
  const again = await within(100, "the report", service(fakeConnection("10.0.0.1", 3)));
  assert.equal(again.reason, "over_limit");
  assert.equal(again.error, "Client 10.0.0.1 already has 1 connection open, the most allowed");
  assert.deepEqual(mock.calls.map((c) => c.id), [1, 2]);
  assert.equal(limit.clients, 2);
  while (mock.release()) await settle();
  await Promise.all(held);
});

Deno.test("concurrencyLimitPerClient() counts a mapped IPv4 client as plain IPv4", async () => {
  const mock = mockService({ hold: true });
  const limit = concurrencyLimitPerClient({ max: 2 });
  const service = limit(mock.service);
  const held = [
    service(fakeConnection("10.0.0.1", 1)),
    service(fakeConnection("::ffff:10.0.0.1", 2)),
  ];
  const third = await within(100, "the report", service(fakeConnection("::FFFF:10.0.0.1", 3)));
  assert.equal(third.reason, "over_limit");
  assert.equal(third.error, "Client 10.0.0.1 already has 2 connections open, the most allowed");
  assert.equal(limit.clients, 1);
  while (mock.release()) await settle();
  await Promise.all(held);
});

Deno.test("concurrencyLimitPerClient() forgets a client once its connections end", async () => {
  const mock = mockService({ hold: true });
  const limit = concurrencyLimitPerClient({ max: 2 });
  const service = limit(mock.service);
  const held: Promise<ConnectionReport>[] = [
    service(fakeConnection("10.0.0.1", 1)),
    service(fakeConnection("10.0.0.1", 2)),
    service(fakeConnection("2001:db8::1", 3)),
  ];
  await settle();
  assert.equal(limit.clients, 2);
  mock.release();
  await held[0];
  assert.equal(limit.clients, 2); // 10.0.0.1 still has one open
  while (mock.release()) await settle();
  await Promise.all(held);
  assert.equal(limit.clients, 0);
  const throwing = limit(() => Promise.reject(new Error("A bug")));
  await assert.rejects(throwing(fakeConnection("10.0.0.9")), { message: "A bug" });
  assert.equal(limit.clients, 0);
});

Deno.test("concurrencyLimitPerClient() before concurrencyLimit() keeps a client over its limit out of the queue", async () => {
  const mock = mockService({ hold: true });
  const perClient = concurrencyLimitPerClient({ max: 1 });
  const global = concurrencyLimit({ max: 1, queue: 1 });
  const service = perClient(global(mock.service));
  const first = service(fakeConnection("10.0.0.1", 1));
  const again = await within(100, "the report", service(fakeConnection("10.0.0.1", 2)));
  assert.equal(again.error, "Client 10.0.0.1 already has 1 connection open, the most allowed");
  assert.equal(global.queued, 0);
  const other = service(fakeConnection("10.0.0.2", 3));
  await settle();
  assert.equal(global.queued, 1); // the queue's one place is still free for another client
  while (mock.release()) await settle();
  await Promise.all([first, other]);
  assert.deepEqual(mock.calls.map((c) => c.id), [1, 3]);
});

Deno.test("concurrencyLimitPerClient() rejects a limit it cannot use", () => {
  assert.throws(() => concurrencyLimitPerClient({ max: 0 }), {
    name: "RangeError",
    message: "Cannot use max 0: expected a whole number of connections per client, at least 1",
  });
  assert.throws(() => concurrencyLimitPerClient({ max: 1.5 }), RangeError);
});

// End to end, with real sockets and an echo upstream.

Deno.test("concurrencyLimitPerClient() max 1 closes a second connection from 127.0.0.1 with over_limit", async () => {
  await using echo = startEcho();
  const limit = concurrencyLimitPerClient({ max: 1 });
  const { proxy, record } = recordedProxy([echo.address], [limit]);
  await using _proxy = proxy;
  {
    using first = await Deno.connect(proxy.address);
    await probe(first);
    using second = await Deno.connect(proxy.address);
    assert.equal((await within(2_000, "the second's close", readToEnd(second))).length, 0);
    const rejected = await record.next();
    assert.equal(rejected.reason, "over_limit");
    assert.equal(
      rejected.error,
      "Client 127.0.0.1 already has 1 connection open, the most allowed",
    );
    await echoes(first, 512 * 1024, 5);
    assert.equal((await record.next()).reason, "client_closed");
  }
  assert.equal(limit.clients, 0);
  using third = await Deno.connect(proxy.address); // the slot is free again
  await echoes(third, 64 * 1024, 9);
  assert.equal((await record.next()).reason, "client_closed");
  assert.equal(echo.accepted, 2);
});
