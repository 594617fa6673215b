/** routeBySni(): TLS passthrough by server name, with the bytes already read forwarded unchanged. */

import assert from "node:assert/strict";
import { forward, readProxyHeader, routeBySni, serve, ServiceBuilder } from "../mod.ts";
import { delay, readToEnd, recorder, startServer, until, writeAll } from "./_helpers.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const read = (name: string) => Deno.readTextFileSync(new URL(name, FIXTURES));
const CA = read("ca.crt");

/** A TLS upstream that answers every connection with its own name and closes. */
function startNamed(name: "a.test" | "b.test") {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: read(`${name}.crt`),
    key: read(`${name}.key`),
  });
  const running = (async () => {
    for (;;) {
      let conn: Deno.TlsConn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      conn.write(new TextEncoder().encode(`I am ${name}`))
        .then(() => conn.closeWrite())
        .catch(() => {})
        .finally(() => delay(50).then(() => conn.close()));
    }
  })();
  return {
    address: { hostname: "127.0.0.1", port: listener.addr.port },
    async [Symbol.asyncDispose]() {
      listener.close();
      await running;
    },
  };
}

/** Bytes a plain upstream received, recorded whole. */
function startRecording() {
  const received: Uint8Array[] = [];
  const server = startServer(async (conn) => {
    received.push(await readToEnd(conn));
  });
  return { server, received };
}

async function tlsAnswer(port: number, name: string): Promise<string> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  const conn = await Deno.startTls(tcp, { hostname: name, caCerts: [CA] });
  try {
    return new TextDecoder().decode(await readToEnd(conn));
  } finally {
    conn.close();
  }
}

Deno.test("routeBySni() sends a.test, b.test and a wildcard name to their own TLS upstreams", async () => {
  await using a = startNamed("a.test");
  await using b = startNamed("b.test");
  const record = recorder();
  const service = new ServiceBuilder().layer(record.layer).service(routeBySni({
    routes: {
      "a.test": forward({ upstreams: [a.address] }),
      "*.b.test": forward({ upstreams: [b.address] }),
    },
    default: forward({ upstreams: [b.address] }),
  }));
  await using proxy = serve({ listen: "127.0.0.1:0", service });
  const port = proxy.address.port;
  assert.equal(await tlsAnswer(port, "a.test"), "I am a.test");
  assert.equal(await tlsAnswer(port, "b.test"), "I am b.test"); // the default
  assert.equal(await tlsAnswer(port, "x.b.test"), "I am b.test"); // the wildcard
  const names = [];
  for (let i = 0; i < 3; i++) names.push((await record.next()).serverName);
  assert.deepEqual(names.sort(), ["a.test", "b.test", "x.b.test"]);
});

Deno.test("routeBySni() forwards a ClientHello sent a byte at a time unchanged", async () => {
  // A ClientHello from Deno's TLS client, captured on a plain listener.
  using capture = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port: capture.addr.port });
  const starting = Deno.startTls(tcp, { hostname: "a.test", caCerts: [CA] }).then((c) =>
    c.handshake()
  )
    .catch(() => {});
  using accepted = await capture.accept();
  const buffer = new Uint8Array(4096);
  const n = (await accepted.read(buffer))!;
  const hello = buffer.slice(0, n);
  accepted.close();
  await starting;

  const { server, received } = startRecording();
  await using _server = server;
  const record = recorder();
  const service = new ServiceBuilder().layer(record.layer).service(routeBySni({
    routes: { "a.test": forward({ upstreams: [server.address] }) },
    default: forward({ upstreams: ["127.0.0.1:9"] }),
  }));
  await using proxy = serve({ listen: "127.0.0.1:0", service });
  using client = await Deno.connect(proxy.address);
  client.setNoDelay(true);
  for (let i = 0; i < hello.length; i++) {
    await writeAll(client, hello.subarray(i, i + 1));
    if (i % 50 === 0) await delay(1);
  }
  await writeAll(client, new TextEncoder().encode("trailing"));
  await client.closeWrite();
  const report = await record.next();
  assert.equal(report.serverName, "a.test");
  assert.equal(report.bytesUp, hello.length + 8);
  assert.deepEqual(
    received[0],
    new Uint8Array([...hello, ...new TextEncoder().encode("trailing")]),
  );
});

Deno.test("routeBySni() sends plain text to the fallback, byte for byte, or ends it with not_tls", async () => {
  const { server, received } = startRecording();
  await using _server = server;
  const request = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  for (const fallback of [forward({ upstreams: [server.address] }), undefined]) {
    const record = recorder();
    const service = new ServiceBuilder().layer(record.layer).service(
      routeBySni({ routes: {}, default: forward({ upstreams: ["127.0.0.1:9"] }), fallback }),
    );
    await using proxy = serve({ listen: "127.0.0.1:0", service });
    using client = await Deno.connect(proxy.address);
    await writeAll(client, request);
    await client.closeWrite();
    const report = await record.next();
    if (fallback) {
      assert.equal(report.reason, "client_closed");
      assert.deepEqual(received[0], request);
    } else {
      assert.equal(report.reason, "not_tls");
      assert.match(report.error ?? "", /ClientHello/);
    }
  }
});

Deno.test("routeBySni() bounds a slow ClientHello by its timeout and a big one by its size", async () => {
  const record = recorder();
  const service = new ServiceBuilder().layer(record.layer).service(routeBySni({
    routes: {},
    default: forward({ upstreams: ["127.0.0.1:9"] }),
    timeout: 200,
    maxBytes: 512,
  }));
  await using proxy = serve({ listen: "127.0.0.1:0", service });
  using slow = await Deno.connect(proxy.address);
  await writeAll(slow, Uint8Array.of(22, 3, 1, 0x01, 0x00)); // a record of 256 bytes, never sent
  const timedOut = await record.next();
  assert.equal(timedOut.reason, "handshake_timeout");

  using big = await Deno.connect(proxy.address);
  // A handshake record of 16 KiB: over the 512-byte limit as soon as its header is read.
  await writeAll(big, Uint8Array.of(22, 3, 1, 0x40, 0x00, 1, 0, 0x3f, 0xfc));
  const tooBig = await record.next();
  assert.equal(tooBig.reason, "client_hello");
});

Deno.test("routeBySni() passes the server name on in a PROXY v2 header, then the ClientHello unchanged", async () => {
  const seen: { authority?: string; first?: number }[] = [];
  const upstream = startServer(async (conn) => {
    const { header, rest } = await readProxyHeader(conn);
    seen.push({ authority: header.authority, first: rest[0] ?? (await readByte(conn)) });
  });
  await using _upstream = upstream;
  const service = routeBySni({
    routes: { "a.test": forward({ upstreams: [upstream.address], proxyProtocol: 2 }) },
    default: forward({ upstreams: ["127.0.0.1:9"] }),
  });
  await using proxy = serve({ listen: "127.0.0.1:0", service });
  const tcp = await Deno.connect(proxy.address);
  const tls = Deno.startTls(tcp, { hostname: "a.test", caCerts: [CA] });
  await until(5_000, "the upstream's header", () => seen.length === 1);
  (await tls.catch(() => undefined))?.close();
  assert.deepEqual(seen, [{ authority: "a.test", first: 22 }]); // 22: a TLS handshake record
});

async function readByte(conn: Deno.Conn): Promise<number | undefined> {
  const byte = new Uint8Array(1);
  return await conn.read(byte) === 1 ? byte[0] : undefined;
}
