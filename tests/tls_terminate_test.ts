/** TLS termination: handshakes per server name, half-close through TLS, failures and timeouts. */

import assert from "node:assert/strict";
import type { Address } from "../lib/address.ts";
import { forward, routeBySni, serve, ServiceBuilder } from "../mod.ts";
import { readCertificateFiles, TlsCertificates } from "../lib/tls/certificates.ts";
import { terminateTls } from "../lib/tls/terminate.ts";
import {
  drain,
  randomBytes,
  readToEnd,
  recorder,
  sha256,
  startEcho,
  startServer,
  writeAll,
} from "./_helpers.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const CA = Deno.readTextFileSync(new URL("ca.crt", FIXTURES));
const file = (name: string) => new URL(name, FIXTURES).pathname;
const CERTIFICATES = new TlsCertificates(readCertificateFiles([
  { cert: file("a.test.crt"), key: file("a.test.key") },
  { cert: file("b.test.crt"), key: file("b.test.key") },
]));

function tlsProxy(upstream: Address, timeout = 5_000) {
  const record = recorder();
  const service = new ServiceBuilder()
    .layer(record.layer)
    .layer(terminateTls({ certificates: CERTIFICATES, alpn: ["h2", "http/1.1"], timeout }))
    .service(forward({ upstreams: [upstream] }));
  const proxy = serve({ listen: "127.0.0.1:0", service });
  return { proxy, record, [Symbol.asyncDispose]: () => proxy.shutdown() };
}

async function connectAs(port: number, hostname: string, alpn?: string[]) {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  const conn = await Deno.startTls(tcp, { hostname, caCerts: [CA], alpnProtocols: alpn });
  return { conn, handshake: await conn.handshake() };
}

Deno.test("terminateTls() echoes 1 MiB through TLS and keeps the half-close", async () => {
  await using echo = startEcho();
  await using proxy = tlsProxy(echo.address);
  const { conn, handshake } = await connectAs(proxy.proxy.address.port, "a.test", ["http/1.1"]);
  assert.equal(handshake.alpnProtocol, "http/1.1");
  const sent = randomBytes(1 << 20);
  const [, received] = await Promise.all([
    writeAll(conn, sent).then(() => conn.closeWrite()),
    drain(conn),
  ]);
  conn.close();
  assert.deepEqual(received, { bytes: sent.length, sha256: sha256(sent) });
  const report = await proxy.record.next();
  assert.equal(report.reason, "client_closed");
  assert.equal(report.serverName, "a.test");
  assert.equal(report.bytesUp, sent.length);
  assert.equal(report.bytesDown, sent.length);
});

Deno.test("terminateTls() presents the certificate of the name asked for, wildcards included", async () => {
  await using echo = startEcho();
  await using proxy = tlsProxy(echo.address);
  for (const name of ["b.test", "x.b.test", "a.test"]) {
    // Verification against the CA and the name proves which certificate was presented.
    const { conn } = await connectAs(proxy.proxy.address.port, name);
    conn.close();
  }
  // An unknown name gets the first certificate, which does not name it: the client refuses.
  await assert.rejects(connectAs(proxy.proxy.address.port, "c.test"), /certificate/i);
  const reasons = [];
  for (let i = 0; i < 4; i++) reasons.push((await proxy.record.next()).reason);
  assert.equal(reasons.at(-1), "tls_handshake");
});

Deno.test("terminateTls() ends plain text with tls_handshake and the TLS library's message", async () => {
  await using echo = startEcho();
  await using proxy = tlsProxy(echo.address);
  using client = await Deno.connect(proxy.proxy.address);
  await writeAll(client, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  const report = await proxy.record.next();
  assert.equal(report.reason, "tls_handshake");
  assert.match(report.error ?? "", /^TLS handshake failed: /);
  assert.equal(report.upstream, null);
});

Deno.test("terminateTls() ends a silent client with handshake_timeout", async () => {
  await using echo = startEcho();
  await using proxy = tlsProxy(echo.address, 200);
  using client = await Deno.connect(proxy.proxy.address);
  const report = await proxy.record.next();
  assert.equal(report.reason, "handshake_timeout");
  assert.equal(await client.read(new Uint8Array(1)), null);
});

Deno.test("terminateTls() then routeBySni({ peek: false }) routes plaintext by the handshake's name", async () => {
  const named = (name: string) =>
    startServer(async (conn) => {
      await writeAll(conn, new TextEncoder().encode(name));
    });
  await using a = named("upstream a");
  await using b = named("upstream b");
  const service = new ServiceBuilder()
    .layer(terminateTls({ certificates: CERTIFICATES }))
    .service(routeBySni({
      routes: { "*.b.test": forward({ upstreams: [b.address] }) },
      default: forward({ upstreams: [a.address] }),
      peek: false,
    }));
  await using proxy = serve({ listen: "127.0.0.1:0", service });
  for (const [name, expected] of [["x.b.test", "upstream b"], ["a.test", "upstream a"]]) {
    const { conn } = await connectAs(proxy.address.port, name);
    const reply = new TextDecoder().decode(await readToEnd(conn));
    conn.close();
    assert.equal(reply, expected);
  }
});
