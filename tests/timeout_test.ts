import assert from "node:assert/strict";
import {
  type Connection,
  type ConnectionReport,
  ConnectTimeoutError,
  IdleTimeoutError,
  timeout,
} from "../mod.ts";
import {
  delay,
  readToEnd,
  recordedProxy,
  startBlackhole,
  startEcho,
  startServer,
  within,
  writeAll,
} from "./_helpers.ts";

function proxyWith(options: { connect?: number; idle?: number }, upstream: { port: number }) {
  return recordedProxy([{ hostname: "127.0.0.1", port: upstream.port }], [timeout(options)]);
}

Deno.test("timeout() closes a connection idle in both directions with idle_timeout", async () => {
  await using echo = startEcho();
  const { proxy, record } = proxyWith({ idle: 200 }, echo.address);
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  const started = performance.now();
  assert.equal((await within(5_000, "idle close", readToEnd(client))).length, 0);
  const waited = performance.now() - started;
  const report = await record.next();
  assert.equal(report.reason, "idle_timeout");
  assert.equal(report.error, "Nothing moved in either direction for 200ms");
  assert.ok(waited >= 190 && waited < 1_000, `closed after ${waited}ms`);
});

Deno.test("timeout() keeps a connection open while bytes keep moving", async () => {
  await using echo = startEcho();
  const { proxy, record } = proxyWith({ idle: 200 }, echo.address);
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  const byte = new Uint8Array(1);
  for (let i = 0; i < 10; i++) { // 10 x 80ms = 4x the idle timeout
    await writeAll(client, byte);
    assert.equal(await within(1_000, "echo", client.read(byte)), 1);
    await delay(80);
  }
  await client.closeWrite();
  assert.equal((await within(5_000, "clean end", readToEnd(client))).length, 0);
  const report = await record.next();
  assert.equal(report.reason, "client_closed");
  assert.equal(report.bytesUp, 10);
});

Deno.test("timeout() counts a write stuck on backpressure as idle", async () => {
  const stuck = Promise.withResolvers<void>();
  await using silent = startServer(() => stuck.promise);
  const { proxy, record } = proxyWith({ idle: 200 }, silent.address);
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  const writing = (async () => {
    const chunk = new Uint8Array(1024 * 1024);
    try {
      for (;;) await client.write(chunk);
    } catch { /* closed by the proxy */ }
  })();
  const report = await record.next();
  assert.equal(report.reason, "idle_timeout");
  client.close();
  await writing;
  stuck.resolve();
});

Deno.test("timeout() ends a connect that never completes with connect_timeout", async () => {
  await using blackhole = await startBlackhole();
  const { proxy, record } = proxyWith({ connect: 300, idle: 0 }, blackhole.address);
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  const started = performance.now();
  assert.equal((await within(5_000, "close after connect timeout", readToEnd(client))).length, 0);
  const waited = performance.now() - started;
  const report = await record.next();
  assert.equal(report.reason, "connect_timeout");
  assert.equal(report.upstream, null);
  assert.equal(report.error, "No upstream accepted the connection within 300ms");
  assert.ok(waited >= 290 && waited < 2_000, `closed after ${waited}ms`);
});

Deno.test("timeout() stops the connect clock once connected", async () => {
  await using echo = startEcho();
  const { proxy, record } = proxyWith({ connect: 100, idle: 0 }, echo.address);
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  await delay(300); // three connect timeouts, after the connect
  await writeAll(client, new Uint8Array([7]));
  const byte = new Uint8Array(1);
  assert.equal(await within(1_000, "echo", client.read(byte)), 1);
  await client.closeWrite();
  await readToEnd(client);
  assert.equal((await record.next()).reason, "client_closed");
});

Deno.test("timeout() with both timeouts off hands connections straight to the inner service", () => {
  const seen: string[] = [];
  const inner = (connection: Connection): Promise<ConnectionReport> => {
    seen.push(`inner ${connection.id}`);
    return Promise.resolve(connection.end());
  };
  const layer = timeout({ connect: 0, idle: 0 });
  assert.equal(layer(inner), inner);
  assert.deepEqual(seen, []);
});

Deno.test("timeout() rejects durations a timer cannot hold", () => {
  assert.throws(() => timeout({ idle: -1 }), RangeError);
  assert.throws(() => timeout({ connect: 1.5 }), RangeError);
  assert.throws(() => timeout({ idle: 2 ** 31 }), {
    name: "RangeError",
    message: "Cannot use idle timeout 2147483648: expected whole milliseconds from 0 to 2147483647",
  });
});

Deno.test("timeout() errors carry their close reasons", () => {
  assert.equal(new ConnectTimeoutError(5_000).reason, "connect_timeout");
  assert.equal(new IdleTimeoutError(600_000).message, "Nothing moved in either direction for 10m");
});
