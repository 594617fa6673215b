/** TLS origination: forward() speaks TLS to the upstream, verifies it, and reports failures. */

import assert from "node:assert/strict";
import { forward, serve, ServiceBuilder } from "../mod.ts";
import { drain, echoToEnd, randomBytes, recorder, sha256, writeAll } from "./_helpers.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const read = (name: string) => Deno.readTextFileSync(new URL(name, FIXTURES));
const CA = read("ca.crt");

/** A TLS echo upstream with the a.test certificate; it answers each ALPN with its choice. */
function startTlsEcho() {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: read("a.test.crt"),
    key: read("a.test.key"),
    alpnProtocols: ["http/1.1"],
  });
  const handlers: Promise<void>[] = [];
  (async () => {
    for (;;) {
      let conn: Deno.TlsConn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      handlers.push((async () => {
        try {
          await echoToEnd(conn);
        } catch {
          // A failed handshake: the test checks the proxy's report.
        } finally {
          try {
            conn.close();
          } catch { /* closed */ }
        }
      })());
    }
  })();
  return {
    address: { hostname: "127.0.0.1", port: listener.addr.port },
    async [Symbol.asyncDispose]() {
      listener.close();
      await Promise.allSettled(handlers);
    },
  };
}

function proxyTo(
  upstream: { hostname: string; port: number },
  tls: Parameters<typeof forward>[0]["tls"],
) {
  const record = recorder();
  const service = new ServiceBuilder()
    .layer(record.layer)
    .service(forward({ upstreams: [upstream], tls }));
  const proxy = serve({ listen: "127.0.0.1:0", service });
  return { proxy, record, [Symbol.asyncDispose]: () => proxy.shutdown() };
}

Deno.test("forward() with tls echoes 1 MiB through a verified TLS upstream, half-close kept", async () => {
  await using upstream = startTlsEcho();
  await using proxy = proxyTo(upstream.address, { caCerts: [CA], serverName: "a.test" });
  using client = await Deno.connect(proxy.proxy.address);
  const sent = randomBytes(1 << 20, 7);
  const [, received] = await Promise.all([
    writeAll(client, sent).then(() => client.closeWrite()),
    drain(client),
  ]);
  assert.deepEqual(received, { bytes: sent.length, sha256: sha256(sent) });
  const report = await proxy.record.next();
  assert.equal(report.reason, "client_closed");
  assert.equal(report.bytesUp, sent.length);
});

Deno.test("forward() with tls ends with upstream_tls when the name does not match", async () => {
  await using upstream = startTlsEcho();
  await using proxy = proxyTo(upstream.address, { caCerts: [CA], serverName: "b.test" });
  using client = await Deno.connect(proxy.proxy.address);
  assert.equal(await client.read(new Uint8Array(1)), null);
  const report = await proxy.record.next();
  assert.equal(report.reason, "upstream_tls");
  assert.match(report.error ?? "", /as "b\.test" failed: .*certificate/i);
});

Deno.test("forward() with tls ends with upstream_tls when the CA is not trusted", async () => {
  await using upstream = startTlsEcho();
  await using proxy = proxyTo(upstream.address, { serverName: "a.test" });
  using client = await Deno.connect(proxy.proxy.address);
  assert.equal(await client.read(new Uint8Array(1)), null);
  const report = await proxy.record.next();
  assert.equal(report.reason, "upstream_tls");
  assert.match(report.error ?? "", /UnknownIssuer|unknown issuer|certificate/i);
});

Deno.test("forward() with tls offers its ALPN list, and the upstream agrees on one", async () => {
  const cert = read("a.test.crt");
  const key = read("a.test.key");
  using listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert,
    key,
    alpnProtocols: ["h2", "http/1.1"],
  });
  const agreed = listener.accept().then(async (conn) => {
    const { alpnProtocol } = await conn.handshake();
    conn.close();
    return alpnProtocol;
  });
  const address = { hostname: "127.0.0.1", port: listener.addr.port };
  await using proxy = proxyTo(address, { caCerts: [CA], serverName: "a.test", alpn: ["http/1.1"] });
  using client = await Deno.connect(proxy.proxy.address);
  assert.equal(await agreed, "http/1.1");
  assert.equal(await client.read(new Uint8Array(1)), null);
});
