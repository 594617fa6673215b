import assert from "node:assert/strict";
import type { Address, Balancer } from "../mod.ts";
import { delay, until } from "./_helpers.ts";
import {
  deadPort,
  fieldOf,
  rawClient,
  rawExchange,
  type Seen,
  startEchoUpstream,
  startProxy,
  startRawUpstream,
  writeText,
} from "./_http_proxy.ts";

/** A balancer that offers the same upstreams in the same order every time. */
function inOrder(...ports: number[]): Balancer {
  const addresses: Address[] = ports.map((port) => ({ hostname: "127.0.0.1", port }));
  return { pick: () => addresses };
}

Deno.test("httpProxy() answers 502 naming an upstream that refuses connections", async () => {
  const port = deadPort();
  await using rig = startProxy({ routes: [{ upstreams: [`127.0.0.1:${port}`] }] });
  using client = Deno.createHttpClient({});
  const response = await fetch(`${rig.url}/x`, { client });
  assert.equal(response.status, 502);
  assert.equal(response.statusText, "Bad Gateway");
  assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.match(
    await response.text(),
    new RegExp(
      `^No upstream answered: Cannot connect to 127\\.0\\.0\\.1:${port}: .*refused.*\\n$`,
      "i",
    ),
  );
});

Deno.test("httpProxy() answers 504 when the upstream does not answer within responseTimeout", async () => {
  await using upstream = startRawUpstream(async (_conn, read) => {
    await read(); // and never answer; the handler ends when the proxy closes the connection
    await read();
  });
  await using rig = startProxy({
    routes: [{ upstreams: [upstream.target] }],
    responseTimeout: 200,
  });
  using client = Deno.createHttpClient({});
  const started = performance.now();
  const response = await fetch(`${rig.url}/slow`, { client });
  const elapsed = performance.now() - started;
  assert.equal(response.status, 504);
  assert.equal(await response.text(), "The upstream did not answer within 200ms\n");
  assert.ok(elapsed >= 190 && elapsed < 2_000, `answered after ${elapsed} ms`);
  assert.equal(upstream.requests.length, 1, "a GET that timed out is not sent again");
  await until(2_000, "the proxy closed the late connection", () => upstream.ended === 1);
});

Deno.test("httpProxy() with responseTimeout 0 waits for a slow upstream, without limit", async () => {
  await using upstream = startRawUpstream(async (conn, read) => {
    await read();
    await delay(1_500); // longer than one round of the timeout sweeper
    await writeText(conn, "HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nlate");
  });
  await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }], responseTimeout: 0 });
  using client = Deno.createHttpClient({});
  const response = await fetch(`${rig.url}/slow`, { client });
  assert.equal(response.status, 200);
  assert.equal(await response.text(), "late");
});

Deno.test("httpProxy() rejects keep-alive and header limits that are not whole numbers", () => {
  const routes = [{ upstreams: ["127.0.0.1:9"] }];
  assert.throws(() => startProxy({ routes, keepAlive: { idleTimeout: Number.NaN } }), {
    name: "RangeError",
    message: /^Cannot use keep-alive idle timeout NaN: expected whole milliseconds/,
  });
  assert.throws(() => startProxy({ routes, keepAlive: { maxIdle: -1 } }), {
    name: "RangeError",
    message: "Cannot use keep-alive max idle -1: expected a whole number, at least 0",
  });
  assert.throws(() => startProxy({ routes, maxResponseHeaderBytes: 0.5 }), {
    name: "RangeError",
    message: "Cannot use max response header bytes 0.5: expected a whole number, at least 1",
  });
});

Deno.test("httpProxy() tries the next upstream when a connect fails, for GET and for POST", async () => {
  const dead = deadPort();
  await using live = startEchoUpstream("live");
  await using rig = startProxy({ routes: [{ upstreams: [`127.0.0.1:${dead}`, live.address] }] });
  using client = Deno.createHttpClient({});
  // Round robin starts every other request at the dead upstream.
  for (let i = 0; i < 4; i++) {
    const get = await fetch(`${rig.url}/get/${i}`, { client });
    assert.equal(get.status, 200);
    assert.equal((await get.json() as Seen).path, `/get/${i}`);
    const post = await fetch(`${rig.url}/post/${i}`, { client, method: "POST", body: `body ${i}` });
    assert.equal(post.status, 200);
    const seen: Seen = await post.json();
    assert.equal(seen.method, "POST");
    assert.equal(seen.bytes, `body ${i}`.length);
  }
  assert.equal(live.seen.length, 8);
});

Deno.test("httpProxy() tries a dead upstream first and then the live one, for a POST with a body", async () => {
  const dead = deadPort();
  await using live = startEchoUpstream("live");
  await using rig = startProxy({ routes: [{ balancer: inOrder(dead, live.port) }] });
  using client = Deno.createHttpClient({});
  const response = await fetch(`${rig.url}/p`, { client, method: "POST", body: "payload" });
  assert.equal(response.status, 200);
  const seen: Seen = await response.json();
  assert.equal(seen.upstream, "live");
  assert.equal(seen.bytes, 7);
});

Deno.test("httpProxy() answers 502 for a POST whose upstream drops it after receiving it, and does not send it again", async () => {
  // Reads the request, then closes the connection without an answer.
  await using dropper = startRawUpstream(async (_conn, read) => {
    await read();
  });
  await using live = startEchoUpstream("live");
  await using rig = startProxy({
    routes: [{ balancer: inOrder(dropper.address.port, live.port) }],
  });
  const response = await rawExchange(
    rig.port,
    ["POST /order HTTP/1.1", "Host: a", "Content-Length: 5"],
    "12345",
  );
  assert.equal(response.status, 502);
  assert.match(
    response.text,
    new RegExp(`^The upstream 127\\.0\\.0\\.1:${dropper.address.port} failed: .+\\n$`),
  );
  assert.equal(dropper.requests.length, 1);
  assert.equal(dropper.requests[0].head.start, "POST /order HTTP/1.1");
  assert.equal(live.seen.length, 0, "the POST was not sent again");
});

Deno.test("httpProxy() sends a GET whose upstream drops it after receiving it to the next upstream", async () => {
  await using dropper = startRawUpstream(async (_conn, read) => {
    await read();
  });
  await using live = startEchoUpstream("live");
  await using rig = startProxy({
    routes: [{ balancer: inOrder(dropper.address.port, live.port) }],
  });
  const response = await rawExchange(rig.port, ["GET /page HTTP/1.1", "Host: a"]);
  assert.equal(response.status, 200, response.text);
  assert.equal((JSON.parse(response.text) as Seen).upstream, "live");
  assert.equal(dropper.requests.length, 1);
  assert.equal(live.seen.length, 1);
});

Deno.test("httpProxy() stops after `tries` upstreams and names each failure", async () => {
  const ports = [deadPort(), deadPort(), deadPort()];
  await using rig = startProxy({ routes: [{ balancer: inOrder(...ports) }], tries: 2 });
  const response = await rawExchange(rig.port, ["GET / HTTP/1.1", "Host: a"]);
  assert.equal(response.status, 502);
  const text = response.text;
  assert.ok(text.startsWith("No upstream answered: "), text);
  assert.ok(text.includes(`127.0.0.1:${ports[0]}`), text);
  assert.ok(text.includes(`127.0.0.1:${ports[1]}`), text);
  assert.ok(!text.includes(`127.0.0.1:${ports[2]}`), text);
});

Deno.test("httpProxy() answers 502 for a malformed response head and for a 101 nobody asked for", async () => {
  await using upstream = startRawUpstream(async (conn, read) => {
    const request = await read();
    if (request?.head.start.includes("/garbage")) {
      await writeText(conn, "HTTP/1.1 OK\r\n\r\n");
    } else {
      await writeText(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\n\r\n");
    }
    await delay(10);
  });
  await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }], tries: 1 });
  const garbage = await rawExchange(rig.port, ["GET /garbage HTTP/1.1", "Host: a"]);
  assert.equal(garbage.status, 502);
  assert.equal(
    garbage.text,
    `No upstream answered: The upstream ${upstream.target} failed: ` +
      'Cannot parse status line "HTTP/1.1 OK": expected HTTP/1.1 STATUS REASON\n',
  );
  const unasked = await rawExchange(rig.port, ["GET /switch HTTP/1.1", "Host: a"]);
  assert.equal(unasked.status, 502);
  assert.equal(unasked.text, "The upstream switched protocols unasked\n");
});

Deno.test("httpProxy() keeps the client's connection after answering 502", async () => {
  const port = deadPort();
  await using live = startEchoUpstream();
  await using rig = startProxy({
    routes: [{ path: "/dead", upstreams: [`127.0.0.1:${port}`] }, { upstreams: [live.address] }],
  });
  using client = await rawClient(rig.port);
  await client.send("GET /dead HTTP/1.1\r\nHost: a\r\n\r\n");
  const failed = await client.response();
  assert.equal(failed.status, 502);
  assert.equal(fieldOf(failed.head, "connection"), undefined);
  await client.send("GET /live HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal((await client.response()).status, 200);
  assert.equal(rig.server.accepted, 1);
});
