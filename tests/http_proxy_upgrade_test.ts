import assert from "node:assert/strict";
import { httpProxy, toHandler } from "../http.ts";
import { concat, randomBytes, readToEnd, sha256, until, within, writeAll } from "./_helpers.ts";
import {
  fieldOf,
  rawClient,
  rawExchange,
  type Seen,
  startEchoUpstream,
  startProxy,
  startRawUpstream,
  writeText,
} from "./_http_proxy.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A `Deno.serve` upstream that echoes every WebSocket message, and its sockets' closes. */
function startWebSocketEcho() {
  const closed: Promise<CloseEvent>[] = [];
  const heads: Record<string, string>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    if (request.headers.get("upgrade") !== "websocket") {
      return new Response("Expected a WebSocket\n", { status: 426 });
    }
    heads.push(Object.fromEntries(request.headers));
    const { socket, response } = Deno.upgradeWebSocket(request);
    socket.binaryType = "arraybuffer";
    socket.onmessage = (event) => socket.send(event.data);
    closed.push(new Promise((resolve) => socket.addEventListener("close", resolve)));
    return response;
  });
  return {
    address: `127.0.0.1:${server.addr.port}`,
    closed,
    heads,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** The next message on `socket`. */
function nextMessage(socket: WebSocket): Promise<MessageEvent> {
  return within(
    5_000,
    "a WebSocket message",
    new Promise((resolve, reject) => {
      socket.addEventListener("message", resolve, { once: true });
      socket.addEventListener("error", reject, { once: true });
    }),
  );
}

Deno.test("httpProxy() passes a WebSocket through: text and 1 MiB binary echoed byte for byte, closed cleanly", async () => {
  await using upstream = startWebSocketEcho();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  const socket = new WebSocket(`ws://127.0.0.1:${rig.port}/ws`);
  socket.binaryType = "arraybuffer";
  try {
    await within(
      5_000,
      "the WebSocket open",
      new Promise((resolve, reject) => {
        socket.addEventListener("open", resolve, { once: true });
        socket.addEventListener("error", reject, { once: true });
      }),
    );
    const text = "hello through the proxy ✓";
    let reply = nextMessage(socket);
    socket.send(text);
    assert.equal((await reply).data, text);

    const binary = randomBytes(1024 * 1024, 11);
    reply = nextMessage(socket);
    socket.send(binary);
    const echoed = new Uint8Array((await reply).data as ArrayBuffer);
    assert.equal(echoed.length, binary.length);
    assert.equal(sha256(echoed), sha256(binary));

    const closed = new Promise<CloseEvent>((resolve) => socket.addEventListener("close", resolve));
    socket.close(1000, "done");
    const event = await within(5_000, "the WebSocket close", closed);
    assert.equal(event.code, 1000);
    assert.equal(event.reason, "done");
    assert.equal(event.wasClean, true);
    const upstreamClosed = await within(5_000, "the upstream's close", upstream.closed[0]);
    assert.equal(upstreamClosed.code, 1000);
  } finally {
    if (socket.readyState !== WebSocket.CLOSED) socket.close();
  }
  assert.equal(upstream.heads.length, 1);
  assert.equal(upstream.heads[0]["x-forwarded-for"], "127.0.0.1");
  assert.equal(upstream.heads[0].upgrade, "websocket");
});

Deno.test("httpProxy() passes a generic Upgrade through as a byte pipe, half-close included", async () => {
  const upgraded = Promise.withResolvers<void>();
  let upstreamSawEnd = false;
  await using upstream = startRawUpstream(async (conn, read, reader) => {
    if (!(await read())) return;
    await writeText(
      conn,
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n",
    );
    upgraded.resolve();
    // Echo what the client sends, the bytes read with the head first.
    const early = reader.buffered;
    if (early.length) await writeAll(conn, early);
    const buffer = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      await writeAll(conn, buffer.subarray(0, n));
    }
    upstreamSawEnd = true;
    // The client has stopped sending; this side still has something to say.
    await writeText(conn, "|after your end");
    await conn.closeWrite();
  });
  await using rig = startProxy({ routes: [{ upstreams: [upstream.target] }] });
  using client = await rawClient(rig.port);
  // The head and the first bytes of the new protocol in one write.
  await client.send(
    "GET /chat HTTP/1.1\r\nHost: app.example\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\nearly|",
  );
  const head = await within(5_000, "the 101", client.reader.readHead());
  assert.equal(
    head?.text,
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade",
  );
  await upgraded.promise;
  const payload = randomBytes(256 * 1024, 5);
  await client.send(payload);
  await client.conn.closeWrite();
  const rest = await within(5_000, "the upstream's bytes", client.reader.readToEnd());
  const expected = concat([encoder.encode("early|"), payload, encoder.encode("|after your end")]);
  assert.equal(rest.length, expected.length);
  assert.equal(sha256(rest), sha256(expected));
  assert.ok(upstreamSawEnd);

  const { head: sent } = upstream.requests[0];
  assert.equal(sent.start, "GET /chat HTTP/1.1");
  assert.equal(fieldOf(sent, "upgrade"), "foo");
  assert.equal(fieldOf(sent, "connection"), "upgrade");
  assert.equal(fieldOf(sent, "host"), "app.example");
  assert.equal(fieldOf(sent, "x-forwarded-for"), "127.0.0.1");
});

Deno.test("httpProxy() passes the upstream's refusal of an Upgrade on as a plain response", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  using client = await rawClient(rig.port);
  await client.send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n");
  const response = await client.response();
  assert.equal(response.status, 200);
  const seen: Seen = JSON.parse(response.text);
  assert.equal(seen.headers.upgrade, "foo");
  // The upstream did not switch, so the client's connection goes on speaking HTTP.
  await client.send("GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
  const next = await client.response();
  assert.equal((JSON.parse(next.text) as Seen).path, "/next");
});

Deno.test("httpProxy() behind toHandler() sets forwarding fields, and answers an Upgrade 501 closing the upstream's connection", async () => {
  await using upstream = startEchoUpstream();
  await using raw = startRawUpstream(async (conn, read) => {
    if (!(await read())) return;
    await writeText(
      conn,
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: upgrade\r\n\r\n",
    );
    await read(); // until the proxy lets go of the connection
  });
  await using proxy = httpProxy({
    routes: [{ path: "/raw", upstreams: [raw.target] }, { upstreams: [upstream.address] }],
  });
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    toHandler(proxy),
  );
  const url = `http://127.0.0.1:${server.addr.port}`;
  using client = Deno.createHttpClient({});
  const seen: Seen = await (await fetch(`${url}/seen`, { client })).json();
  assert.equal(seen.headers["x-forwarded-for"], "127.0.0.1");
  const response = await rawExchange(server.addr.port, [
    "GET /raw HTTP/1.1",
    "Host: x",
    "Connection: upgrade",
    "Upgrade: foo",
  ]);
  assert.equal(response.status, 501);
  await until(2_000, "the proxy closed the upstream connection", () => raw.ended === 1);
});

Deno.test("httpServer() sends 100 Continue to a client that expects it, and then the upstream's answer", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  using client = await rawClient(rig.port);
  const body = randomBytes(100_000, 9);
  await client.send(
    `POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n` +
      "Expect: 100-continue\r\n\r\n",
  );
  // Nothing of the body goes before the 100.
  const interim = await within(5_000, "100 Continue", client.reader.readHead());
  assert.equal(interim?.text, "HTTP/1.1 100 Continue");
  assert.equal(client.reader.buffered.length, 0, "nothing after the 100 yet");
  await client.send(body);
  const response = await client.response("POST");
  assert.equal(response.status, 200);
  const seen: Seen = JSON.parse(response.text);
  assert.equal(seen.bytes, body.length);
  assert.equal(seen.sha256, sha256(body));
});

Deno.test("httpServer() sends no 100 Continue when the proxy answers without reading the body", async () => {
  await using rig = startProxy({ routes: [{ path: "/only", upstreams: ["127.0.0.1:1"] }] });
  using client = await rawClient(rig.port);
  await client.send(
    "POST /elsewhere HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n" +
      "Connection: close\r\n\r\n",
  );
  const bytes = await within(5_000, "the 404", readToEnd(client.conn));
  const text = decoder.decode(bytes);
  assert.match(text, /^HTTP\/1\.1 404 Not Found\r\n/);
  assert.ok(!text.includes("100 Continue"), text);
});
