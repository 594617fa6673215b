import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import net from "node:net";
import {
  type Address,
  type Balancer,
  forward,
  serve,
  type Server,
  ServiceBuilder,
  timeout,
} from "../mod.ts";
import {
  delay,
  drain,
  randomBytes,
  readToEnd,
  recorder,
  sha256,
  startEcho,
  startServer,
  type TestServer,
  within,
  writeAll,
} from "./_helpers.ts";

const MiB = 1024 * 1024;

/** A proxy whose upstream a test can switch, to show it still serves after a failure. */
function switchableProxy(first: Address, idleMs = 0) {
  let target = [first];
  const balancer: Balancer = { pick: () => target };
  const record = recorder();
  const proxy = serve({
    listen: "127.0.0.1:0",
    service: new ServiceBuilder()
      .layer(record.layer)
      .layer(timeout({ connect: 2_000, idle: idleMs }))
      .service(forward({ balancer })),
  });
  return { proxy, record, switchTo: (address: Address) => (target = [address]) };
}

/** A round trip of fresh bytes through the proxy, checked byte for byte. */
async function assertStillServes(proxy: Server, echo: TestServer): Promise<void> {
  using client = await Deno.connect(proxy.address);
  const payload = randomBytes(100_000, 42);
  const [, reply] = await within(
    5_000,
    "round trip after failure",
    Promise.all([
      writeAll(client, payload).then(() => client.closeWrite()),
      drain(client),
    ]),
  );
  assert.equal(reply.sha256, sha256(payload));
  assert.ok(echo.accepted > 0);
}

Deno.test("forward() closes the client when the upstream is down, then serves the next one", async () => {
  const down = startServer(() => Promise.resolve());
  await down.close();
  await using echo = startEcho();
  const { proxy, record, switchTo } = switchableProxy(down.address);
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  assert.equal((await within(5_000, "close after refusal", readToEnd(client))).length, 0);
  const report = await record.next();
  assert.equal(report.reason, "no_upstream");
  assert.equal(report.upstream, null);
  assert.match(report.error ?? "", /Connection refused/);
  switchTo(echo.address);
  await assertStillServes(proxy, echo);
});

Deno.test("forward() reports dns_failed for a name that does not resolve", async () => {
  await using echo = startEcho();
  // .invalid is reserved: it never resolves (RFC 2606).
  const { proxy, record, switchTo } = switchableProxy({ hostname: "upstream.invalid", port: 80 });
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  assert.equal((await within(5_000, "close", readToEnd(client))).length, 0);
  const report = await record.next();
  assert.equal(report.reason, "dns_failed");
  assert.match(
    report.error ?? "",
    /^Cannot connect to upstream\.invalid:80: Cannot resolve "upstream\.invalid": /,
  );
  switchTo(echo.address);
  await assertStillServes(proxy, echo);
});

Deno.test("forward() holds backpressure against an upstream that never reads", async () => {
  const stuck = Promise.withResolvers<void>();
  await using silent = startServer(() => stuck.promise); // accepts, never reads
  await using echo = startEcho();
  const { proxy, record, switchTo } = switchableProxy(silent.address, 500);
  await using _proxy = proxy;
  const client = await Deno.connect(proxy.address);
  const rssBefore = Deno.memoryUsage().rss;
  const chunk = randomBytes(MiB, 9);
  let written = 0;
  const writing = (async () => {
    try {
      for (; written < 256 * MiB;) written += await client.write(chunk);
    } catch { /* the proxy closed the connection */ }
  })();
  // Wait until the writes stall: the kernel buffers and the proxy's one buffer are full.
  let last = -1;
  while (written !== last) {
    last = written;
    await delay(300);
  }
  const rssGrowth = Deno.memoryUsage().rss - rssBefore;
  assert.ok(written < 64 * MiB, `the client wrote ${written} bytes into a stuck path`);
  assert.ok(rssGrowth < 32 * MiB, `RSS grew by ${rssGrowth} bytes`);
  // The idle timeout ends it: nothing moves, and the pending write is cancelled.
  const report = await record.next();
  assert.equal(report.reason, "idle_timeout");
  assert.ok(report.bytesUp <= written);
  client.close();
  await writing;
  stuck.resolve();
  switchTo(echo.address);
  await assertStillServes(proxy, echo);
});

Deno.test("forward() tears down the upstream when the client resets mid-transfer", async () => {
  const upstreamDone = Promise.withResolvers<string>();
  await using source = startServer(async (conn) => {
    const block = randomBytes(MiB, 1);
    try {
      for (let i = 0; i < 1024; i++) await writeAll(conn, block);
      upstreamDone.resolve("wrote everything");
    } catch (error) {
      upstreamDone.resolve((error as Error).name);
    }
  });
  await using echo = startEcho();
  const { proxy, record, switchTo } = switchableProxy(source.address);
  await using _proxy = proxy;
  const client = await Deno.connect(proxy.address);
  const buffer = new Uint8Array(MiB);
  let received = 0;
  while (received < 4 * MiB) received += (await client.read(buffer)) ?? 0;
  client.close(); // unread data pending: the kernel sends a reset
  const report = await record.next();
  assert.equal(report.reason, "client_reset");
  assert.match(await within(5_000, "upstream torn down", upstreamDone.promise), /Reset|BrokenPipe/);
  switchTo(echo.address);
  await assertStillServes(proxy, echo);
});

Deno.test("forward() closes the client promptly when the upstream resets mid-transfer", async () => {
  await using resetter = startServer(async (conn) => {
    await writeAll(conn, randomBytes(64 * 1024, 2));
    await conn.read(new Uint8Array(1)); // the client's byte is left unread...
    await delay(50);
    conn.close(); // ...so closing sends a reset
  });
  await using echo = startEcho();
  const { proxy, record, switchTo } = switchableProxy(resetter.address);
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  await writeAll(client, new Uint8Array(2));
  const outcome = await within(
    5_000,
    "client sees the end",
    drain(client).then(() => "closed", (error) => (error as Error).name),
  );
  assert.ok(["closed", "ConnectionReset"].includes(outcome), outcome);
  const report = await record.next();
  assert.equal(report.reason, "upstream_reset");
  assert.equal(report.error, "The upstream reset the connection"); // seen by the zero-length probe
  switchTo(echo.address);
  await assertStillServes(proxy, echo);
});

Deno.test("serve() survives clients that reset right after accept", async () => {
  await using echo = startEcho();
  const { proxy, switchTo } = switchableProxy(echo.address);
  await using _proxy = proxy;
  for (let round = 0; round < 10; round++) {
    await Promise.all(Array.from({ length: 30 }, () =>
      new Promise<void>((resolve) => {
        const socket = net.connect(proxy.address.port, "127.0.0.1");
        socket.on("connect", () => socket.resetAndDestroy());
        socket.on("error", () => {});
        socket.on("close", () => resolve());
      })));
  }
  // Every connection that did get accepted ends; none is left behind.
  await within(
    5_000,
    "reset connections to end",
    (async () => {
      while (proxy.connections > 0) await delay(20);
    })(),
  );
  switchTo(echo.address);
  await assertStillServes(proxy, echo);
});

Deno.test("serve() survives clients that reset before accept completes", async () => {
  const logs: LogRecord[] = [];
  await configure({
    sinks: { memory: (record) => logs.push(record) },
    loggers: [
      { category: ["minginx", "server"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  try {
    await using echo = startEcho();
    const { proxy } = switchableProxy(echo.address);
    await using _proxy = proxy;
    // A child connects and resets 50 times while this process is blocked, so the kernel holds
    // every connection, already reset, in the accept queue: each accept() then fails.
    const marker = await Deno.makeTempFile();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", RESET_CLIENTS, String(proxy.address.port), "50", marker],
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    try {
      blockUntilWritten(marker, 10_000);
    } finally {
      await Deno.remove(marker);
    }
    assert.equal((await child.status).code, 0);
    await within(
      5_000,
      "accept loop to catch up",
      (async () => {
        while (logs.length < 50) await delay(20);
      })(),
    );
    assert.ok(logs.every((log) => String(log.properties.error).includes("NotConnected")));
    await assertStillServes(proxy, echo);
  } finally {
    await reset();
  }
});

/** Blocks this whole process, event loop included, until `path` says "done". */
function blockUntilWritten(path: string, ms: number): void {
  const deadline = performance.now() + ms;
  while (Deno.readTextFileSync(path) !== "done") {
    if (performance.now() > deadline) throw new Error(`Nothing wrote "done" to ${path} in ${ms}ms`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
}

/**
 * A child script: connect to 127.0.0.1:PORT COUNT times, reset every connection, then write
 * "done" to the file MARKER.
 */
const RESET_CLIENTS = `
import net from "node:net";
const [port, count, marker] = Deno.args;
for (let i = 0; i < Number(count); i++) {
  await new Promise((resolve) => {
    const socket = net.connect(Number(port), "127.0.0.1");
    socket.on("connect", () => socket.resetAndDestroy());
    socket.on("error", () => {});
    socket.on("close", resolve);
  });
}
Deno.writeTextFileSync(marker, "done");
`;
