import assert from "node:assert/strict";
import { allow, assertDenied, deny } from "./_ip_filter.ts";
import { ipFilter } from "../mod.ts";
import {
  closeQuietly,
  drain,
  randomBytes,
  recordedProxy,
  sha256,
  startEcho,
  within,
  writeAll,
} from "./_helpers.ts";

// End to end: real sockets, a real echo upstream.

/** Sends `bytes` through `conn` to an echo upstream and returns what came back. */
async function echoThrough(conn: Deno.TcpConn, bytes: Uint8Array) {
  const received = drain(conn);
  await writeAll(conn, bytes);
  await conn.closeWrite();
  return await within(5_000, "the echo to end", received);
}

async function assertClosedUnheard(conn: Deno.TcpConn): Promise<void> {
  const read = await within(5_000, "the denied client to be closed", drain(conn));
  assert.equal(read.bytes, 0);
}

Deno.test('ipFilter() closes a real client denied by "deny 127.0.0.1" before any upstream', async () => {
  await using echo = startEcho();
  const loopback = { hostname: "127.0.0.1", port: 0 };
  const { proxy, record } = recordedProxy([echo.address], [
    ipFilter({ rules: [deny("127.0.0.1")] }),
  ], { listen: loopback });
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  await assertClosedUnheard(client);
  const report = await record.next();
  assertDenied(report, 'Client 127.0.0.1 is denied by "deny 127.0.0.1"');
  assert.deepEqual([report.bytesUp, report.bytesDown], [0, 0]);
  assert.equal(echo.accepted, 0);
});

Deno.test('ipFilter() forwards a real client allowed by "allow 127.0.0.0/8" byte for byte', async () => {
  await using echo = startEcho();
  const loopback = { hostname: "127.0.0.1", port: 0 };
  const { proxy, record } = recordedProxy([echo.address], [
    ipFilter({ rules: [allow("127.0.0.0/8")] }),
  ], { listen: loopback });
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  const sent = randomBytes(512 * 1024, 7);
  const echoed = await echoThrough(client, sent);
  assert.deepEqual(echoed, { bytes: sent.length, sha256: sha256(sent) });
  const report = await record.next();
  assert.equal(report.reason, "client_closed");
  assert.equal(report.bytesUp, sent.length);
  assert.equal(echo.accepted, 1);
});

/** Whether a listener on `hostname` works here, and what a client from `from` shows up as. */
async function probe(hostname: string, from: string): Promise<string | undefined> {
  let listener: Deno.TcpListener | undefined;
  let client: Deno.TcpConn | undefined;
  try {
    listener = Deno.listen({ hostname, port: 0 });
    client = await Deno.connect({ hostname: from, port: listener.addr.port });
    const accepted = await listener.accept();
    accepted.close();
    return accepted.remoteAddr.hostname;
  } catch {
    return undefined;
  } finally {
    if (client) closeQuietly(client);
    listener?.close();
  }
}

const ipv6 = await probe("::1", "::1") === "::1";
const dualStack = ipv6 && await probe("::", "127.0.0.1") === "::ffff:127.0.0.1";

Deno.test({
  name: 'ipFilter() forwards an IPv6 client allowed by "allow ::1" before "deny all"' +
    (ipv6 ? "" : " (ignored: cannot listen on ::1 here)"),
  ignore: !ipv6,
  async fn() {
    await using echo = startEcho();
    const rules = [allow("::1"), deny("all")];
    const { proxy, record } = recordedProxy([echo.address], [ipFilter({ rules })], {
      listen: { hostname: "::1", port: 0 },
    });
    await using _proxy = proxy;
    using client = await Deno.connect({ hostname: "::1", port: proxy.address.port });
    const sent = randomBytes(64 * 1024, 11);
    assert.deepEqual(await echoThrough(client, sent), { bytes: sent.length, sha256: sha256(sent) });
    const report = await record.next();
    assert.equal(report.reason, "client_closed");
    assert.match(report.client, /^\[::1\]:\d+$/);
    assert.equal(echo.accepted, 1);
  },
});

Deno.test({
  name: "ipFilter() matches an IPv4 client on a dual-stack listener against IPv4 rules" +
    (dualStack ? "" : " (ignored: no dual-stack listener on :: here)"),
  ignore: !dualStack,
  async fn() {
    await using echo = startEcho();
    const rules = [allow("127.0.0.1"), deny("all")];
    const { proxy, record } = recordedProxy([echo.address], [ipFilter({ rules })], {
      listen: { hostname: "::", port: 0 },
    });
    await using _proxy = proxy;
    const port = proxy.address.port;

    using v4 = await Deno.connect({ hostname: "127.0.0.1", port });
    const sent = randomBytes(64 * 1024, 13);
    assert.deepEqual(await echoThrough(v4, sent), { bytes: sent.length, sha256: sha256(sent) });
    const allowed = await record.next();
    assert.equal(allowed.reason, "client_closed");
    assert.match(allowed.client, /^\[::ffff:127\.0\.0\.1\]:\d+$/);

    using v6 = await Deno.connect({ hostname: "::1", port });
    await assertClosedUnheard(v6);
    assertDenied(await record.next(), 'Client ::1 is denied by "deny all"');
    assert.equal(echo.accepted, 1);
  },
});
