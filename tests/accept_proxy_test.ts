/** acceptProxy() and forward()'s proxyProtocol: the client's address in, and out again. */

import assert from "node:assert/strict";
import {
  acceptProxy,
  encodeProxyHeader,
  forward,
  hash,
  ipFilter,
  Pool,
  rateLimit,
  readProxyHeader,
  serve,
  ServiceBuilder,
} from "../mod.ts";
import type { Address } from "../lib/address.ts";
import { delay, readToEnd, recorder, startServer, writeAll } from "./_helpers.ts";

const CLIENT = { hostname: "203.0.113.7", port: 5555 };
const FRONT = { hostname: "198.51.100.1", port: 443 };
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** An upstream that keeps what each connection sent, whole. */
function startRecording() {
  const received: Uint8Array[] = [];
  const server = startServer(async (conn) => {
    received.push(await readToEnd(conn));
  });
  return { server, received };
}

function proxyWith(
  upstream: Address,
  trusted: string[],
  options: { timeout?: number; send?: 1 | 2 } = {},
) {
  const record = recorder();
  const service = new ServiceBuilder()
    .layer(record.layer)
    .layer(acceptProxy({ trusted, timeout: options.timeout }))
    .layer(ipFilter({ rules: [{ action: "allow", cidr: "203.0.113.0/24" }] }))
    .service(forward({ upstreams: [upstream], proxyProtocol: options.send }));
  const proxy = serve({ listen: "127.0.0.1:0", service });
  return { proxy, record, [Symbol.asyncDispose]: () => proxy.shutdown() };
}

async function send(port: number, ...parts: Uint8Array[]) {
  using client = await Deno.connect({ hostname: "127.0.0.1", port });
  for (const part of parts) await writeAll(client, part);
  await client.closeWrite();
  await readToEnd(client);
}

Deno.test("acceptProxy() takes a v1 and a v2 header's client address for logs and access rules", async () => {
  const { server, received } = startRecording();
  await using _server = server;
  await using proxy = proxyWith(server.address, ["127.0.0.1/32"]);
  const data = new TextEncoder().encode("hello upstream");
  for (const version of [1, 2] as const) {
    // The header and the data in one write: the bytes after the header are the client's.
    await send(
      proxy.proxy.address.port,
      new Uint8Array([...encodeProxyHeader(version, CLIENT, FRONT), ...data]),
    );
    const report = await proxy.record.next();
    assert.equal(report.client, "203.0.113.7:5555"); // and ipFilter let it in
    assert.equal(report.reason, "client_closed");
    assert.equal(report.bytesUp, data.length);
  }
  assert.deepEqual(received.map(text), ["hello upstream", "hello upstream"]);
});

Deno.test("acceptProxy() refuses untrusted peers, bad headers and slow ones, each with its reason", async () => {
  const { server, received } = startRecording();
  await using _server = server;
  {
    await using untrusted = proxyWith(server.address, ["10.0.0.0/8"]);
    await send(untrusted.proxy.address.port, encodeProxyHeader(1, CLIENT, FRONT));
    const report = await untrusted.record.next();
    assert.equal(report.reason, "denied");
    assert.match(report.error ?? "", /not a trusted source of PROXY headers/);
  }
  await using proxy = proxyWith(server.address, ["127.0.0.1/32"], { timeout: 200 });
  await send(
    proxy.proxy.address.port,
    new TextEncoder().encode("PROXY TCP4 1.2.3 4.5.6.7 1 2\r\n"),
  );
  const malformed = await proxy.record.next();
  assert.equal(malformed.reason, "proxy_header");
  assert.match(malformed.error ?? "", /PROXY/);
  await send(proxy.proxy.address.port, new TextEncoder().encode("PROXY TCP4 1.2.3.4"));
  assert.equal((await proxy.record.next()).reason, "proxy_header"); // cut short by the client's FIN
  using slow = await Deno.connect(proxy.proxy.address);
  await writeAll(slow, new TextEncoder().encode("PROXY TCP4 "));
  const timedOut = await proxy.record.next();
  assert.equal(timedOut.reason, "handshake_timeout");
  await delay(10);
  assert.equal(received.length, 0);
});

Deno.test("forward() with proxyProtocol sends v1 and v2 with the client's address, passed on from acceptProxy", async () => {
  for (const version of [1, 2] as const) {
    const headers: { source?: Address; rest: string }[] = [];
    const upstream = startServer(async (conn) => {
      const { header, rest } = await readProxyHeader(conn);
      headers.push({ source: header.source, rest: text(rest) + text(await readToEnd(conn)) });
    });
    await using _upstream = upstream;
    await using proxy = proxyWith(upstream.address, ["127.0.0.1/32"], { send: version });
    const data = new TextEncoder().encode("payload");
    await send(proxy.proxy.address.port, encodeProxyHeader(2, CLIENT, FRONT), data);
    const report = await proxy.record.next();
    assert.equal(report.reason, "client_closed");
    assert.deepEqual(headers, [{ source: CLIENT, rest: "payload" }]);
  }
});

Deno.test("acceptProxy() addresses are what rate limits and hash balancing count", async () => {
  const hits: number[] = [];
  const upstreams = [0, 1].map((i) =>
    startServer(async (conn) => {
      hits.push(i);
      await readToEnd(conn);
    })
  );
  await using _a = upstreams[0];
  await using _b = upstreams[1];
  const pool = new Pool({ upstreams: upstreams.map(({ address }) => address), balance: hash });
  const record = recorder();
  const service = new ServiceBuilder()
    .layer(record.layer)
    .layer(acceptProxy({ trusted: ["127.0.0.1/32"] }))
    .layer(rateLimit({ rate: 1 / 60, burst: 3 }))
    .service(forward({ balancer: pool }));
  await using proxy = serve({ listen: "127.0.0.1:0", service });
  await using _pool = pool;
  const from = (hostname: string) => encodeProxyHeader(1, { hostname, port: 40_000 }, FRONT);
  // Three connections from each of two clients, all through the same peer, 127.0.0.1.
  for (const client of ["203.0.113.1", "203.0.113.2"]) {
    for (let i = 0; i < 3; i++) await send(proxy.address.port, from(client));
  }
  const reports = [];
  for (let i = 0; i < 6; i++) reports.push(await record.next());
  assert.ok(
    reports.every(({ reason }) => reason === "client_closed"),
    "each client has its own burst",
  );
  await send(proxy.address.port, from("203.0.113.1"));
  assert.equal((await record.next()).reason, "rate_limited"); // the fourth from the same client
  // Each client stays on one upstream.
  assert.equal(new Set(hits.slice(0, 3)).size, 1);
  assert.equal(new Set(hits.slice(3, 6)).size, 1);
});
