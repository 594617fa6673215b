import assert from "node:assert/strict";
import type { Balancer } from "../mod.ts";
import { delay, until } from "./_helpers.ts";
import {
  rawClient,
  type Seen,
  startEchoUpstream,
  startProxy,
  startRawUpstream,
  writeText,
} from "./_http_proxy.ts";

Deno.test("httpProxy() carries sequential requests of one client connection over one upstream connection", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  using client = Deno.createHttpClient({});
  for (let i = 0; i < 20; i++) {
    const method = i % 2 ? "POST" : "GET";
    const body = method === "POST" ? `body ${i}` : undefined;
    const response = await fetch(`${rig.url}/n/${i}`, { client, method, body });
    assert.equal(response.status, 200);
    const seen: Seen = await response.json();
    assert.equal(seen.path, `/n/${i}`);
    assert.equal(seen.bytes, body?.length ?? 0);
  }
  assert.equal(rig.server.accepted, 1, "one client connection");
  assert.equal(upstream.seen.length, 20);
  assert.equal(upstream.peerPorts.size, 1, "one upstream connection");
});

Deno.test("httpProxy() shares kept-alive upstream connections between client connections", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  for (let i = 0; i < 5; i++) {
    using client = await rawClient(rig.port);
    await client.send(`GET /c/${i} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
    const response = await client.response();
    assert.equal(response.status, 200);
    assert.equal((JSON.parse(response.text) as Seen).path, `/c/${i}`);
  }
  assert.equal(rig.server.accepted, 5);
  assert.equal(upstream.peerPorts.size, 1);
});

Deno.test("httpProxy() with keepAlive.maxIdle 0 opens a connection for each request", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({
    routes: [{ upstreams: [upstream.address] }],
    keepAlive: { maxIdle: 0 },
  });
  using client = Deno.createHttpClient({});
  for (let i = 0; i < 3; i++) {
    const response = await fetch(`${rig.url}/`, { client });
    await response.body?.cancel();
    assert.equal(response.status, 200);
  }
  assert.equal(upstream.peerPorts.size, 3);
});

Deno.test("httpProxy() replaces an upstream connection the upstream closed while it was idle", async () => {
  // Answers one request on each connection as if keeping it alive, then closes it.
  await using upstream = startRawUpstream(async (conn, read) => {
    const request = await read();
    if (!request) return;
    await writeText(conn, `HTTP/1.1 200 OK\r\nContent-Length: ${request.body.length}\r\n\r\n`);
    await conn.write(request.body);
    await delay(20);
  });
  await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
  using client = await rawClient(rig.port);
  await client.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal((await client.response()).status, 200);
  await until(2_000, "the upstream closed its first connection", () => upstream.ended === 1);
  await delay(50); // the proxy notices the close on its idle connection
  await client.send("POST /second HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nsecond");
  const second = await client.response();
  assert.equal(second.status, 200, second.text);
  assert.equal(second.text, "second");
  await client.send("GET /third HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal((await client.response()).status, 200);
  assert.equal(upstream.accepted, 3);
  assert.deepEqual(upstream.requests.map(({ head }) => head.start), [
    "GET /first HTTP/1.1",
    "POST /second HTTP/1.1",
    "GET /third HTTP/1.1",
  ]);
});

Deno.test("httpProxy() sends a GET again on a new connection when a reused one turns out closed", async () => {
  // Answers the first request of each connection, and closes on the second without an answer:
  // the race of a keep-alive connection the upstream closes as the proxy reuses it.
  await using upstream = startRawUpstream(async (conn, read) => {
    if (!(await read())) return;
    await writeText(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    await read();
  });
  await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
  using client = await rawClient(rig.port);
  for (let i = 0; i < 3; i++) {
    await client.send(`GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
    const response = await client.response();
    assert.equal(response.status, 200, response.text);
    assert.equal(response.text, "ok");
  }
  assert.equal(rig.server.accepted, 1);
  assert.equal(upstream.accepted, 3);
  assert.deepEqual(upstream.requests.map(({ head }) => head.start), [
    "GET /0 HTTP/1.1",
    "GET /1 HTTP/1.1", // on the first connection, which closes
    "GET /1 HTTP/1.1", // again, on the second
    "GET /2 HTTP/1.1", // on the second, which closes
    "GET /2 HTTP/1.1",
  ]);
});

Deno.test("httpProxy() answers concurrent requests on their own upstream connections, and keeps them for the next", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  const round = (n: number) =>
    Promise.all(Array.from({ length: 10 }, async (_, i) => {
      using client = await rawClient(rig.port);
      await client.send(`POST /r${n}/${i} HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n${i}!`);
      const response = await client.response("POST");
      assert.equal(response.status, 200);
      const seen: Seen = JSON.parse(response.text);
      assert.equal(seen.path, `/r${n}/${i}`);
      assert.equal(seen.bytes, 2);
    }));
  await round(1);
  const first = upstream.peerPorts.size;
  assert.ok(first >= 1 && first <= 10, `${first} upstream connections`);
  await round(2);
  await round(3);
  assert.equal(upstream.seen.length, 30);
  assert.ok(upstream.peerPorts.size <= 10, `${upstream.peerPorts.size} upstream connections`);
});

Deno.test("httpProxy() tells a balancer of each request, with the connect time when it connected", async () => {
  await using upstream = startEchoUpstream();
  const [hostname, port] = upstream.address.split(":");
  const told: (number | undefined)[] = [];
  const ended: number[] = [];
  const balancer: Balancer = {
    pick: () => [{ hostname, port: Number(port) }],
    onConnect: (_address, request) => {
      told.push(request.connectMs);
      return () => ended.push(told.length);
    },
  };
  await using rig = startProxy({ routes: [{ balancer }] });
  using client = Deno.createHttpClient({});
  for (let i = 0; i < 2; i++) await (await fetch(`${rig.url}/x`, { client })).body?.cancel();
  await until(2_000, "both requests ended", () => ended.length === 2);
  assert.equal(told.length, 2);
  assert.equal(typeof told[0], "number", "the first request connected");
  assert.equal(told[1], undefined, "the second reused the connection");
});
