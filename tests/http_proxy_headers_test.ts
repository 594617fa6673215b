import assert from "node:assert/strict";
import {
  fieldOf,
  fieldsOf,
  rawClient,
  rawExchange,
  type Seen,
  startEchoUpstream,
  startProxy,
  startRawUpstream,
  writeText,
} from "./_http_proxy.ts";

/** GETs `/seen` through the proxy with `fields`, and returns what the upstream saw. */
async function seenWith(port: number, fields: string[]): Promise<Seen> {
  const response = await rawExchange(port, ["GET /seen HTTP/1.1", ...fields]);
  assert.equal(response.status, 200, response.text);
  return JSON.parse(response.text);
}

/** The names of the forwarding fields the upstream saw, and their values. */
function forwarding(seen: Seen): Record<string, string> {
  return Object.fromEntries(
    Object.entries(seen.headers).filter(([name]) => name.includes("forwarded")),
  );
}

Deno.test("httpProxy() tells the upstream the client's address, scheme and host with X-Forwarded-*", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  const seen = await seenWith(rig.port, ["Host: App.Example:8080"]);
  assert.deepEqual(forwarding(seen), {
    "x-forwarded-for": "127.0.0.1",
    "x-forwarded-host": "App.Example:8080",
    "x-forwarded-proto": "http",
  });
  assert.equal(seen.headers.host, "App.Example:8080");
});

Deno.test("httpProxy() replaces the X-Forwarded-* fields of a peer it does not trust", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  const seen = await seenWith(rig.port, [
    "Host: app.example",
    "X-Forwarded-For: 10.9.9.9, 10.8.8.8",
    "X-Forwarded-Proto: https",
    "X-Forwarded-Host: evil.example",
  ]);
  assert.deepEqual(forwarding(seen), {
    "x-forwarded-for": "127.0.0.1",
    "x-forwarded-host": "app.example",
    "x-forwarded-proto": "http",
  });
});

Deno.test("httpProxy() appends to the X-Forwarded-For of a trusted peer and keeps its -Proto and -Host", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({
    routes: [{ upstreams: [upstream.address] }],
    trustedProxies: ["127.0.0.1"],
  });
  const seen = await seenWith(rig.port, [
    "Host: app.example",
    "X-Forwarded-For: 10.9.9.9, 10.8.8.8",
    "X-Forwarded-Proto: https",
    "X-Forwarded-Host: public.example",
  ]);
  assert.deepEqual(forwarding(seen), {
    "x-forwarded-for": "10.9.9.9, 10.8.8.8, 127.0.0.1",
    "x-forwarded-host": "public.example",
    "x-forwarded-proto": "https",
  });
  // A trusted peer that sends none gets them set.
  assert.deepEqual(forwarding(await seenWith(rig.port, ["Host: app.example"])), {
    "x-forwarded-for": "127.0.0.1",
    "x-forwarded-host": "app.example",
    "x-forwarded-proto": "http",
  });
});

Deno.test('httpProxy() with forwarded: "forwarded" sets Forwarded, quoting a host with a port', async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({
    routes: [{ upstreams: [upstream.address] }],
    forwarded: "forwarded",
  });
  assert.deepEqual(forwarding(await seenWith(rig.port, ["Host: app.example"])), {
    forwarded: "for=127.0.0.1;proto=http;host=app.example",
  });
  const untrusted = await seenWith(rig.port, [
    "Host: app.example:8080",
    "Forwarded: for=10.9.9.9;proto=https",
    "X-Forwarded-For: 10.9.9.9",
  ]);
  // The untrusted peer's Forwarded is replaced; its X-Forwarded-For is not this style's to touch.
  assert.deepEqual(forwarding(untrusted), {
    forwarded: 'for=127.0.0.1;proto=http;host="app.example:8080"',
    "x-forwarded-for": "10.9.9.9",
  });
});

Deno.test('httpProxy() with forwarded: "both" appends to a trusted Forwarded chain', async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({
    routes: [{ upstreams: [upstream.address] }],
    forwarded: "both",
    trustedProxies: ["127.0.0.0/8"],
  });
  const seen = await seenWith(rig.port, ["Host: app.example", "Forwarded: for=10.9.9.9"]);
  assert.deepEqual(forwarding(seen), {
    forwarded: "for=10.9.9.9, for=127.0.0.1;proto=http;host=app.example",
    "x-forwarded-for": "127.0.0.1",
    "x-forwarded-host": "app.example",
    "x-forwarded-proto": "http",
  });
});

Deno.test("httpProxy() does not pass hop-by-hop request fields to the upstream", async () => {
  await using upstream = startRawUpstream(async (conn, read) => {
    while (await read()) {
      await writeText(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    }
  });
  await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
  const response = await rawExchange(rig.port, [
    "GET /hop?x=1 HTTP/1.1",
    "Host: App.Example:8080",
    "Connection: keep-alive, Foo",
    "Foo: named by Connection",
    "Keep-Alive: timeout=5",
    "TE: trailers",
    "Trailer: X-Checksum",
    "Proxy-Connection: keep-alive",
    "Upgrade: h2c",
    "X-End-To-End: passes",
    "Accept: text/plain",
  ]);
  assert.equal(response.status, 200);
  assert.equal(response.text, "ok");
  assert.equal(upstream.requests.length, 1);
  const { head } = upstream.requests[0];
  assert.equal(head.start, "GET /hop?x=1 HTTP/1.1");
  assert.deepEqual(head.fields.map(([name]) => name).sort(), [
    "accept",
    "host",
    "x-end-to-end",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
  ]);
  assert.equal(fieldOf(head, "host"), "App.Example:8080");
  assert.equal(fieldOf(head, "x-end-to-end"), "passes");
  assert.equal(fieldOf(head, "accept"), "text/plain");
});

Deno.test("httpProxy() does not pass hop-by-hop response fields to the client, and keeps Set-Cookie fields apart", async () => {
  await using upstream = startRawUpstream(async (conn, read) => {
    while (await read()) {
      await writeText(
        conn,
        "HTTP/1.1 200 OK\r\n" +
          "Keep-Alive: timeout=5\r\n" +
          "Connection: X-Private\r\n" +
          "X-Private: 1\r\n" +
          "Proxy-Connection: keep-alive\r\n" +
          "Upgrade: foo\r\n" +
          "Trailer: X-Checksum\r\n" +
          "Set-Cookie: a=1; Path=/\r\n" +
          "X-End-To-End: passes\r\n" +
          "Set-Cookie: b=2, c=3; HttpOnly\r\n" +
          "Cache-Control: no-store\r\n" +
          "Content-Type: text/plain\r\n" +
          "Content-Length: 5\r\n" +
          "\r\n" +
          "hello",
      );
    }
  });
  await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
  using client = await rawClient(rig.port);
  await client.send("GET / HTTP/1.1\r\nHost: app.example\r\n\r\n");
  const response = await client.response();
  assert.equal(response.head.start, "HTTP/1.1 200 OK");
  assert.equal(response.text, "hello");
  assert.deepEqual(response.head.fields.map(([name]) => name).sort(), [
    "cache-control",
    "content-length",
    "content-type",
    "date",
    "set-cookie",
    "set-cookie",
    "x-end-to-end",
  ]);
  assert.deepEqual(fieldsOf(response.head, "set-cookie"), ["a=1; Path=/", "b=2, c=3; HttpOnly"]);
  assert.equal(fieldOf(response.head, "x-end-to-end"), "passes");
  assert.equal(fieldOf(response.head, "cache-control"), "no-store");
  assert.equal(fieldOf(response.head, "content-length"), "5");
  // The client's connection stays open for another request.
  await client.send("GET /again HTTP/1.1\r\nHost: app.example\r\n\r\n");
  assert.equal((await client.response()).text, "hello");
  assert.equal(upstream.requests.length, 2);
});

Deno.test("httpProxy() passes end-to-end fields and a request body unchanged", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  using client = Deno.createHttpClient({});
  const body = new TextEncoder().encode("name=value&other=1");
  const response = await fetch(`${rig.url}/form?x=1`, {
    client,
    method: "PUT",
    body,
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: "Bearer token",
      "x-request-id": "abc-123",
      cookie: "a=1; b=2",
    },
  });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-upstream"), "echo");
  assert.equal(response.headers.get("content-type"), "application/json");
  const seen: Seen = await response.json();
  assert.equal(seen.method, "PUT");
  assert.equal(seen.path, "/form?x=1");
  assert.equal(seen.bytes, body.length);
  assert.equal(seen.headers["content-length"], `${body.length}`);
  assert.equal(seen.headers["content-type"], "application/x-www-form-urlencoded");
  assert.equal(seen.headers.authorization, "Bearer token");
  assert.equal(seen.headers["x-request-id"], "abc-123");
  assert.equal(seen.headers.cookie, "a=1; b=2");
  assert.equal(seen.headers.host, `127.0.0.1:${rig.port}`);
});

Deno.test({
  name: "httpProxy() drops the fields named by every Connection field of a response",

  async fn() {
    await using upstream = startRawUpstream(async (conn, read) => {
      while (await read()) {
        await writeText(
          conn,
          "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: X-Private\r\n" +
            "X-Private: 1\r\nContent-Length: 2\r\n\r\nok",
        );
      }
    });
    await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
    const response = await rawExchange(rig.port, ["GET / HTTP/1.1", "Host: a"]);
    assert.equal(response.text, "ok");
    assert.equal(fieldOf(response.head, "x-private"), undefined);
  },
});

Deno.test({
  name: "httpProxy() sends Host to the upstream even when the client names it in Connection",

  async fn() {
    await using upstream = startRawUpstream(async (conn, read) => {
      while (await read()) await writeText(conn, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
    const response = await rawExchange(rig.port, [
      "GET / HTTP/1.1",
      "Host: app.example",
      "Connection: host",
    ]);
    assert.equal(response.status, 200);
    const { head } = upstream.requests[0];
    assert.equal(fieldOf(head, "host"), "app.example");
    assert.equal(fieldOf(head, "x-forwarded-host"), "app.example");
  },
});
