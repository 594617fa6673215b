import assert from "node:assert/strict";
import { concat, delay, randomBytes, sha256, until } from "./_helpers.ts";
import { serve } from "../mod.ts";
import { httpServer, serviceFn } from "../http.ts";
import { fieldOf, rawClient, startProxy, startRawUpstream, writeText } from "./_http_proxy.ts";

Deno.test("httpProxy() streams 8 MiB bodies both ways, byte for byte", async () => {
  const download = randomBytes(8 * 1024 * 1024, 21);
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      if (request.method === "POST") {
        const body = new Uint8Array(await request.arrayBuffer());
        return new Response(`${body.length} ${sha256(body)}`);
      }
      return new Response(download as Uint8Array<ArrayBuffer>);
    },
  );
  try {
    await using rig = startProxy({ routes: [{ upstreams: [`127.0.0.1:${upstream.addr.port}`] }] });
    using client = Deno.createHttpClient({});
    const got = new Uint8Array(await (await fetch(`${rig.url}/big`, { client })).arrayBuffer());
    assert.equal(got.length, download.length);
    assert.equal(sha256(got), sha256(download));

    const upload = randomBytes(8 * 1024 * 1024, 22);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        // In 1 MiB pieces, with no length: the proxy gets it chunked and passes it on chunked.
        for (let at = 0; at < upload.length; at += 1024 * 1024) {
          controller.enqueue(upload.slice(at, at + 1024 * 1024));
        }
        controller.close();
      },
    });
    const response = await fetch(`${rig.url}/upload`, { client, method: "POST", body: stream });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), `${upload.length} ${sha256(upload)}`);
  } finally {
    await upstream.shutdown();
  }
});

Deno.test("httpProxy() passes HEAD, 204 and 304 answers on without a body, and the connections carry on", async () => {
  await using upstream = startRawUpstream(async (conn, read) => {
    for (let request; (request = await read());) {
      const path = request.head.start.split(" ")[1];
      if (path === "/head") {
        await writeText(conn, 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\nETag: "h"\r\n\r\n');
      } else if (path === "/204") {
        await writeText(conn, "HTTP/1.1 204 No Content\r\nX-Kind: empty\r\n\r\n");
      } else {
        await writeText(conn, 'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n');
      }
    }
  });
  await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
  using client = await rawClient(rig.port);
  await client.send("HEAD /head HTTP/1.1\r\nHost: a\r\n\r\n");
  const head = await client.response("HEAD");
  assert.equal(head.head.start, "HTTP/1.1 200 OK");
  assert.equal(fieldOf(head.head, "content-length"), "1234");
  assert.equal(fieldOf(head.head, "etag"), '"h"');
  await client.send("GET /204 HTTP/1.1\r\nHost: a\r\n\r\n");
  const empty = await client.response();
  assert.equal(empty.head.start, "HTTP/1.1 204 No Content");
  assert.equal(fieldOf(empty.head, "x-kind"), "empty");
  assert.equal(fieldOf(empty.head, "content-length"), undefined);
  assert.equal(fieldOf(empty.head, "transfer-encoding"), undefined);
  await client.send('GET /304 HTTP/1.1\r\nHost: a\r\nIf-None-Match: "v1"\r\n\r\n');
  const notModified = await client.response();
  assert.equal(notModified.head.start, "HTTP/1.1 304 Not Modified");
  assert.equal(fieldOf(notModified.head, "etag"), '"v1"');
  assert.equal(client.reader.buffered.length, 0, "no stray body bytes");
  assert.equal(upstream.accepted, 1);
  assert.equal(upstream.requests.length, 3);
  assert.equal(fieldOf(upstream.requests[2].head, "if-none-match"), '"v1"');
});

Deno.test("httpProxy() drops the upstream's trailer fields and ends the chunked body", async () => {
  await using upstream = startRawUpstream(async (conn, read) => {
    while (await read()) {
      await writeText(
        conn,
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" +
          "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Sum: 7\r\n\r\n",
      );
    }
  });
  await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
  using client = await rawClient(rig.port);
  for (let i = 0; i < 2; i++) {
    await client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const response = await client.response();
    assert.equal(response.text, "abcdefg");
    assert.equal(fieldOf(response.head, "trailer"), undefined);
  }
  assert.equal(upstream.accepted, 1, "the upstream connection was reused after the trailers");
});

Deno.test("httpProxy() does not reuse an upstream connection after Connection: close, nor pass the field on", async () => {
  await using upstream = startRawUpstream(async (conn, read) => {
    if (!(await read())) return;
    // Head and body in one write.
    await writeText(conn, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
  });
  await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
  using client = await rawClient(rig.port);
  for (let i = 0; i < 3; i++) {
    await client.send(`GET /${i} HTTP/1.1\r\nHost: a\r\n\r\n`);
    const response = await client.response();
    assert.equal(response.status, 200);
    assert.equal(response.text, "ok");
    assert.equal(fieldOf(response.head, "connection"), undefined);
  }
  assert.equal(upstream.accepted, 3);
  assert.equal(upstream.requests.length, 3, "no request was sent on a closed connection");
});

Deno.test({
  name: "httpProxy() streams the body of a Connection: close answer that comes after its head",

  async fn() {
    await using upstream = startRawUpstream(async (conn, read) => {
      if (!(await read())) return;
      await writeText(conn, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\n");
      await delay(50);
      await writeText(conn, "hello");
    });
    await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
    using client = await rawClient(rig.port);
    await client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const response = await client.response();
    assert.equal(response.status, 200);
    assert.equal(response.text, "hello");
  },
});

Deno.test({
  name: "httpProxy() streams an HTTP/1.0 body that the upstream ends by closing the connection",

  async fn() {
    await using upstream = startRawUpstream(async (conn, read) => {
      if (!(await read())) return;
      await writeText(conn, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n");
      await delay(50);
      await writeText(conn, "until ");
      await delay(20);
      await writeText(conn, "the end");
    });
    await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
    using client = await rawClient(rig.port);
    await client.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    const response = await client.response();
    assert.equal(response.status, 200);
    assert.equal(fieldOf(response.head, "transfer-encoding"), "chunked");
    assert.equal(response.text, "until the end");
  },
});

Deno.test({
  name:
    "httpProxy() closes the upstream connection when the client leaves in the middle of a response",

  async fn() {
    await using upstream = startRawUpstream(async (conn, read) => {
      if (!(await read())) return;
      await writeText(conn, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
      for (;;) {
        await writeText(conn, `3e8\r\n${"x".repeat(1000)}\r\n`);
        await delay(10);
      }
    });
    await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
    {
      using client = await rawClient(rig.port);
      await client.send("GET /endless HTTP/1.1\r\nHost: a\r\n\r\n");
      assert.equal((await client.reader.readHead())?.start, "HTTP/1.1 200 OK");
    }
    await until(3_000, "the proxy closed its upstream connection", () => upstream.ended === 1);
  },
});

Deno.test("httpServer() frames a service's stream as chunks, one larger than its buffer among them, byte for byte", async () => {
  const parts = [randomBytes(10, 31), randomBytes(300 * 1024, 32), randomBytes(1, 33)];
  const service = serviceFn(() =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const part of parts) controller.enqueue(part);
          controller.close();
        },
      }),
    )
  );
  await using server = serve({ listen: "127.0.0.1:0", service: httpServer(service) });
  using client = await rawClient(server.address.port);
  await writeText(client.conn, "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
  const response = await client.response();
  assert.equal(fieldOf(response.head, "transfer-encoding"), "chunked");
  assert.equal(sha256(response.body), sha256(concat(parts)));
});
