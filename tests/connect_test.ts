/**
 * connectUpstream(): hostnames resolved at connect time, each address tried, a bounded cache, a
 * timeout per try, and the limit on tries.
 */

import assert from "node:assert/strict";
import {
  connectUpstream,
  forward,
  Resolver,
  serve,
  ServiceBuilder,
  UpstreamConnectError,
} from "../mod.ts";
import { echoes } from "./_echo.ts";
import {
  delay,
  readToEnd,
  recorder,
  startBlackhole,
  startEcho,
  startServer,
  within,
} from "./_helpers.ts";

/** A port with nothing listening on it, on either loopback address. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  listener.close();
  return listener.addr.port;
}

Deno.test("a hostname upstream is tried at each address it resolves to, through the proxy", async () => {
  // The upstream listens on ::1 only; the name resolves to 127.0.0.1 first, where it is refused.
  using listener = Deno.listen({ hostname: "::1", port: 0 });
  const { port } = listener.addr;
  const lookups: string[] = [];
  const resolver = new Resolver({
    lookup: (hostname) => (lookups.push(hostname), Promise.resolve(["127.0.0.1", "::1"])),
  });
  const record = recorder();
  await using proxy = serve({
    listen: "127.0.0.1:0",
    service: new ServiceBuilder().layer(record.layer).service(
      forward({ upstreams: [`db.test:${port}`], connect: { resolver } }),
    ),
  });
  const serving = (async () => {
    for (let i = 0; i < 3; i++) {
      using conn = await listener.accept();
      const buffer = new Uint8Array(64 * 1024);
      for (let n; (n = await conn.read(buffer)) !== null;) await conn.write(buffer.subarray(0, n));
      await conn.closeWrite();
    }
  })();
  for (let i = 0; i < 3; i++) {
    using client = await Deno.connect(proxy.address);
    await echoes(client, 50_000, i);
    client.close();
    const report = await record.next();
    assert.equal(report.upstream, `db.test:${port}`);
  }
  await within(5_000, "the upstream", serving);
  assert.deepEqual(lookups, ["db.test"], "one lookup, then the cache");
});

Deno.test("Resolver keeps an answer for its ttl, shares a lookup in flight, and does not keep a failure", async () => {
  let lookups = 0;
  let fail = false;
  const resolver = new Resolver({
    ttl: 100,
    lookup: async () => {
      lookups++;
      await delay(10);
      if (fail) throw new Error("getaddrinfo ENOTFOUND db.test");
      return ["10.0.0.1"];
    },
  });
  const [a, b] = await Promise.all([resolver.resolve("db.test"), resolver.resolve("db.test")]);
  assert.deepEqual([a, b, lookups], [["10.0.0.1"], ["10.0.0.1"], 1]);
  await delay(150);
  fail = true;
  await assert.rejects(Promise.resolve(resolver.resolve("db.test")), {
    name: "ResolveError",
    message: 'Cannot resolve "db.test": getaddrinfo ENOTFOUND db.test',
  });
  fail = false;
  assert.deepEqual(await resolver.resolve("db.test"), ["10.0.0.1"]);
  assert.equal(lookups, 3);
});

Deno.test("the system resolver reads /etc/hosts: localhost reaches a 127.0.0.1 upstream", async () => {
  await using echo = startEcho();
  const { conn, address } = await connectUpstream(
    [{ hostname: "localhost", port: echo.address.port }],
    AbortSignal.timeout(5_000),
  );
  using _conn = conn;
  assert.equal(address.hostname, "localhost");
  assert.equal(conn.remoteAddr.hostname, "127.0.0.1");
  await echoes(conn, 10_000, 1);
});

Deno.test("a try that hangs is cut by its timeout and the next candidate connects", async () => {
  await using blackhole = await startBlackhole();
  await using echo = startEcho();
  const failures: string[] = [];
  const started = performance.now();
  const { conn, address } = await connectUpstream(
    [blackhole.address, echo.address],
    AbortSignal.timeout(5_000),
    { timeout: 200, onFailure: (_, error) => failures.push(String(error)) },
  );
  using _conn = conn;
  const elapsed = performance.now() - started;
  assert.equal(address, echo.address);
  assert.ok(elapsed >= 190 && elapsed < 2_000, `connected after ${Math.round(elapsed)} ms`);
  assert.deepEqual(failures, ["TimedOut: No answer within 200ms"]);
  await echoes(conn, 1_000, 2);
});

Deno.test("connectUpstream() stops after its tries and says why each failed", async () => {
  const ports = [closedPort(), closedPort(), closedPort()];
  const candidates = ports.map((port) => ({ hostname: "127.0.0.1", port }));
  const error = await connectUpstream(candidates, AbortSignal.timeout(5_000), { tries: 2 })
    .then(() => undefined, (error) => error);
  assert.ok(error instanceof UpstreamConnectError);
  assert.equal(error.reason, "no_upstream");
  assert.equal(error.attempts.length, 2);
  assert.match(
    error.message,
    new RegExp(
      `^Cannot connect to 127\\.0\\.0\\.1:${ports[0]}: .*refused.*; 127\\.0\\.0\\.1:${ports[1]}: `,
      "i",
    ),
  );
});

Deno.test("a connection is never retried once bytes went upstream: an upstream that leaves ends it", async () => {
  const received = Promise.withResolvers<number>();
  await using resetter = startServer(async (conn) => {
    received.resolve((await conn.read(new Uint8Array(1024))) ?? 0);
    conn.close(); // gone mid-conversation
  });
  await using echo = startEcho();
  const record = recorder();
  await using proxy = serve({
    listen: "127.0.0.1:0",
    service: new ServiceBuilder().layer(record.layer).service(
      forward({ upstreams: [resetter.address, echo.address] }),
    ),
  });
  using client = await Deno.connect(proxy.address);
  await client.write(new Uint8Array(100).fill(7));
  assert.equal(await within(5_000, "the bytes upstream", received.promise), 100);
  assert.equal((await within(5_000, "the end", readToEnd(client))).length, 0);
  client.close();
  const report = await record.next();
  assert.equal(report.upstream, `127.0.0.1:${resetter.address.port}`);
  assert.equal(report.bytesUp, 100);
  assert.equal(echo.accepted, 0, "the other upstream never saw the connection");
});
