import assert from "node:assert/strict";
import { randomBytes, startEcho, startServer, within, writeAll } from "./_helpers.ts";
import { countUntilEnd, finish, proxyWith, roundTrip } from "./_faults.ts";

Deno.test("faults() lets exactly 1000 bytes upstream through, then closes with fault", async () => {
  const received = Promise.withResolvers<number>();
  await using upstream = startServer(async (conn) => received.resolve(await countUntilEnd(conn)));
  const { proxy, record } = proxyWith(
    [{ direction: "upstream", resetAfterBytes: 1_000 }],
    upstream.address,
  );
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  await writeAll(client, randomBytes(10_000, 3));
  assert.equal(await within(5_000, "upstream's end", received.promise), 1_000);
  await within(5_000, "client's end", countUntilEnd(client));
  const report = await record.next();
  assert.equal(report.reason, "fault");
  assert.equal(report.error, "Reset after 1000 bytes upstream, as a fault");
  assert.equal(report.bytesUp, 1_000);
  assert.equal(upstream.accepted, 1);
});

Deno.test("faults() lets exactly 1000 bytes downstream through, then closes with fault", async () => {
  await using upstream = startServer(async (conn) => {
    await writeAll(conn, randomBytes(10_000, 4)).catch(() => {});
    await countUntilEnd(conn);
  });
  const { proxy, record } = proxyWith(
    [{ direction: "downstream", resetAfterBytes: 1_000 }],
    upstream.address,
  );
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  assert.equal(await within(5_000, "client's end", countUntilEnd(client)), 1_000);
  const report = await record.next();
  assert.equal(report.reason, "fault");
  assert.equal(report.error, "Reset after 1000 bytes downstream, as a fault");
  assert.equal(report.bytesDown, 1_000);
});

Deno.test("faults() closes a connection with fault 200 ms after the upstream connects", async () => {
  await using echo = startEcho();
  const { proxy, record } = proxyWith([{ direction: "upstream", resetAfter: 200 }], echo.address);
  await using _proxy = proxy;
  const started = performance.now();
  using client = await Deno.connect(proxy.address);
  await roundTrip(client);
  await roundTrip(client); // bytes keep flowing until the reset
  await within(2_000, "the reset", countUntilEnd(client));
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 195 && elapsed < 1_000, `closed after ${elapsed}ms`);
  const report = await record.next();
  assert.equal(report.reason, "fault");
  assert.equal(report.error, "Reset 200ms after connecting, as a fault");
  assert.equal(report.bytesUp, 2);
});

Deno.test("faults() ends a pending latency wait at once when the connection is reset", async () => {
  const received = Promise.withResolvers<number>();
  await using upstream = startServer(async (conn) => received.resolve(await countUntilEnd(conn)));
  const { proxy, record } = proxyWith(
    [{ direction: "upstream", latency: 10_000, resetAfter: 200 }],
    upstream.address,
  );
  await using _proxy = proxy;
  const started = performance.now();
  using client = await Deno.connect(proxy.address);
  await writeAll(client, new Uint8Array(10));
  const report = await record.next(2_000);
  const elapsed = performance.now() - started;
  assert.equal(report.reason, "fault");
  assert.ok(elapsed < 1_000, `reported after ${elapsed}ms`);
  assert.equal(await within(2_000, "upstream's end", received.promise), 0);
});

Deno.test("faults() clears the reset-after timer when the connection ends first", async () => {
  await using echo = startEcho();
  const { proxy, record } = proxyWith(
    [{ direction: "upstream", resetAfter: 10_000 }],
    echo.address,
  );
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  await roundTrip(client);
  await finish(client);
  const report = await record.next(2_000);
  assert.equal(report.reason, "client_closed");
  assert.ok(report.durationMs < 2_000, `lasted ${report.durationMs}ms`);
});
