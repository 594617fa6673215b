import assert from "node:assert/strict";
import { forward, type Layer, serve, ServiceBuilder, ShutdownError } from "../mod.ts";
import { delay, drain, readToEnd, recordedProxy, startEcho, within, writeAll } from "./_helpers.ts";

Deno.test("serve() on port 0 reports the port it bound", async () => {
  await using echo = startEcho();
  await using proxy = serve({ listen: "127.0.0.1:0", upstreams: [echo.address] });
  assert.equal(proxy.address.hostname, "127.0.0.1");
  assert.ok(proxy.address.port > 0);
  using client = await Deno.connect(proxy.address);
  await writeAll(client, new Uint8Array([1, 2, 3]));
  await client.closeWrite();
  assert.deepEqual(await within(5_000, "echo", readToEnd(client)), new Uint8Array([1, 2, 3]));
});

Deno.test("serve() listens on IPv6 loopback", async () => {
  await using echo = startEcho();
  let proxy;
  try {
    proxy = serve({ listen: "[::1]:0", upstreams: [echo.address] });
  } catch (error) {
    if (error instanceof Deno.errors.AddrNotAvailable) {
      console.warn("SKIP: this machine has no IPv6 loopback");
      return;
    }
    throw error;
  }
  await using _proxy = proxy;
  assert.equal(proxy.address.hostname, "::1");
  using client = await Deno.connect({ hostname: "::1", port: proxy.address.port });
  await writeAll(client, new Uint8Array([9]));
  await client.closeWrite();
  assert.deepEqual(await within(5_000, "echo", readToEnd(client)), new Uint8Array([9]));
});

Deno.test("serve() names the address when it is already in use", () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = `127.0.0.1:${taken.addr.port}`;
  assert.throws(() => serve({ listen: address, upstreams: ["127.0.0.1:9"] }), {
    name: "AddrInUse",
    message: `Cannot listen on ${address}: address already in use`,
  });
});

Deno.test("serve() needs a service or upstreams", () => {
  assert.throws(() => serve({ listen: "127.0.0.1:0" }), TypeError);
  assert.throws(() => serve({ listen: "127.0.0.1:99999", upstreams: ["127.0.0.1:9"] }), {
    message:
      'Cannot parse listen address "127.0.0.1:99999": expected HOST:PORT with PORT from 0 to 65535',
  });
});

Deno.test("Server.shutdown() stops accepting and lets open connections finish", async () => {
  await using echo = startEcho();
  const { proxy, record } = recordedProxy([echo.address]);
  using client = await Deno.connect(proxy.address);
  await writeAll(client, new Uint8Array([1]));
  assert.equal(await within(5_000, "echo", client.read(new Uint8Array(1))), 1);
  const finished = proxy.shutdown(5_000);
  // New connections fail at once (refused, or reset if one slips into the closing listener)...
  await assertConnectFails(proxy.address);
  // ...while the open one keeps working until the client is done.
  await delay(100);
  await writeAll(client, new Uint8Array([2, 3]));
  await client.closeWrite();
  assert.deepEqual(await within(5_000, "echo", readToEnd(client)), new Uint8Array([2, 3]));
  await within(5_000, "finished", finished);
  assert.equal((await record.next()).reason, "client_closed");
  assert.equal(proxy.connections, 0);
});

Deno.test("Server.shutdown() closes what is left when the drain period runs out", async () => {
  await using echo = startEcho();
  const { proxy, record } = recordedProxy([echo.address]);
  using client = await Deno.connect(proxy.address);
  await writeAll(client, new Uint8Array([1]));
  await within(5_000, "echo", client.read(new Uint8Array(1)));
  const started = performance.now();
  await within(5_000, "shutdown", proxy.shutdown(200));
  assert.ok(performance.now() - started >= 190);
  const report = await record.next();
  assert.equal(report.reason, "shutdown");
  assert.equal(report.error, new ShutdownError(200).message);
  assert.equal((await within(5_000, "closed", drain(client))).bytes, 0);
});

Deno.test("Server.shutdown(0) during a drain closes everything at once", async () => {
  await using echo = startEcho();
  const proxy = serve({ listen: "127.0.0.1:0", upstreams: [echo.address] });
  using client = await Deno.connect(proxy.address);
  await writeAll(client, new Uint8Array([1]));
  await within(5_000, "echo", client.read(new Uint8Array(1)));
  const slow = proxy.shutdown(60_000);
  const started = performance.now();
  await within(5_000, "forced shutdown", proxy.shutdown(0));
  await slow;
  assert.ok(performance.now() - started < 1_000);
});

Deno.test("serve() shuts down when its signal is aborted", async () => {
  await using echo = startEcho();
  const controller = new AbortController();
  const proxy = serve({
    listen: "127.0.0.1:0",
    upstreams: [echo.address],
    signal: controller.signal,
  });
  controller.abort();
  await within(5_000, "finished", proxy.finished);
  await assertConnectFails(proxy.address);
});

Deno.test("serve() keeps serving after a layer throws, and closes that connection", async () => {
  await using echo = startEcho();
  let calls = 0;
  const flaky: Layer = (inner) => (connection) => {
    if (++calls === 1) throw new Error("a bug in a layer");
    return inner(connection);
  };
  await using proxy = serve({
    listen: "127.0.0.1:0",
    service: new ServiceBuilder().layer(flaky).service(forward({ upstreams: [echo.address] })),
  });
  {
    using first = await Deno.connect(proxy.address);
    assert.equal((await within(5_000, "closed", drain(first))).bytes, 0);
  }
  using second = await Deno.connect(proxy.address);
  await writeAll(second, new Uint8Array([5]));
  await second.closeWrite();
  assert.deepEqual(await within(5_000, "echo", readToEnd(second)), new Uint8Array([5]));
});

async function assertConnectFails(address: { hostname: string; port: number }): Promise<void> {
  await assert.rejects(
    async () => {
      using conn = await Deno.connect(address);
      // A connect that slipped into the closing listener is reset on first use.
      await conn.write(new Uint8Array(1));
      await conn.read(new Uint8Array(1));
    },
    (error) =>
      error instanceof Deno.errors.ConnectionRefused ||
      error instanceof Deno.errors.ConnectionReset,
  );
}
