/**
 * The JSON access log, field by field, for every close reason. The CLI runs one config file with a
 * server for each way a connection can end, with `--log-format json --access-log FILE`, and each
 * reason is provoked on real sockets against in-process upstreams; `drained` comes from a SIGHUP
 * reload and `shutdown` from SIGTERM. `error`, a bug in a layer, is proved in-process.
 */

import assert from "node:assert/strict";
import { reset } from "@logtape/logtape";
import { configureLogging } from "../lib/cli/logging.ts";
import { accessLog, type CloseReason, forward, serve, ServiceBuilder } from "../mod.ts";
import { freePorts } from "./_cli.ts";
import { probe } from "./_echo.ts";
import { readToEnd, startBlackhole, startEcho, until, within, writeAll } from "./_helpers.ts";
import * as R from "./_reasons.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const title = (name: string) =>
  `the JSON access log gives the fields of a${/^[aeiou]/.test(name) ? "n" : ""} ${name} connection`;
const temporaryDir = async () => {
  const path = await Deno.makeTempDir({ prefix: "minginx-reasons-" });
  return { path, [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }) };
};
type Want = Omit<R.Expected, "reason" | "listener" | "client">;
/** The error each reason gives here, by the settings of its server below. */
const ERRORS: Partial<Record<CloseReason, RegExp>> = {
  client_reset: /^Cannot read from client: Connection reset by peer/,
  upstream_reset: /^Cannot read from upstream: Connection reset by peer/,
  no_upstream: /^Cannot connect to 127\.0\.0\.1:\d+: Connection refused \(os error 111\)$/,
  dns_failed: /^Cannot connect to upstream\.invalid:80: Cannot resolve "upstream\.invalid": /,
  connect_timeout: /^No upstream accepted the connection within 300ms$/,
  idle_timeout: /^Nothing moved in either direction for 300ms$/,
  over_limit: /^Client 127\.0\.0\.1 already has 1 connection open, the most allowed$/,
  rate_limited: /^Client 127\.0\.0\.1 opened connections faster than 1\/m with a burst of 1$/,
  denied: /^Client 192\.0\.2\.7 is denied by "deny 192\.0\.2\.0\/24"$/,
  fault: /^Reset after 10 bytes upstream, as a fault$/,
  drained: /^Upstream 127\.0\.0\.1:\d+ was drained and its 200ms ran out$/,
  shutdown: /^The proxy shut down and its 300ms drain period ran out$/,
  proxy_header: /^Cannot parse PROXY header "PROXY TCP4 1\.2\.3 4\.5\.6\.7 1 2\\r\\n": /,
  client_hello: /^Cannot parse ClientHello: the connection ended after 6 bytes, /,
  not_tls: /^Cannot parse ClientHello: expected a TLS handshake record \(content type 22\)/,
  tls_handshake: /^TLS handshake failed: .*InvalidContentType/,
  handshake_timeout: /^No TLS handshake within 300 ?ms$/,
  upstream_tls: /^TLS handshake with 127\.0\.0\.1:\d+ as "127\.0\.0\.1" failed: .*UnknownIssuer/,
  error: /^a bug in a layer$/,
};
type More = Partial<Want>;
/** A connection that ended with no upstream connected, after `connectAttempts` tries. */
const away = (connectAttempts: number, more: More = {}): Want => ({
  ...{ upstream: null, bytesUp: 0, bytesDown: 0, closedFirst: [null], connectAttempts },
  ...more,
});
/** A connection through upstream `at` of pool `pool`, on the first try, with these byte counts. */
const via = (pool: string, at: string, up: R.Count, down: R.Count, more: More = {}): Want => ({
  ...{ ...away(1, more), upstream: { address: at, pool }, bytesUp: up, bytesDown: down },
});
const CLIENT_FIRST = { closedFirst: ["client"] } as const;
const UP_FIRST = { closedFirst: ["upstream"] } as const;
const HELLO = "hello from upstream";
/** Gives `client` as the client's address, which a PROXY header said. */
const from = (client: string, act: Act): Act => async (conn) => (await act(conn), client);

/** What a client does, until the proxy has closed; resolves with its address if not the socket's. */
type Act = (conn: Deno.TcpConn) => Promise<string | void>;
/** Sends `data` and, if `end`, ends sending (any write error ignored); waits for the close. */
const ends = (data: string | Uint8Array = "", end = true): Act => async (conn) => {
  const bytes = typeof data === "string" ? encode(data) : data;
  if (bytes.length > 0) {
    await writeAll(conn, bytes).then(() => end ? conn.closeWrite() : undefined).catch(() => {});
  }
  await R.closedByProxy(conn);
};
/** Reads to the end of what comes back. */
const reply = async (conn: Deno.Conn) =>
  new TextDecoder().decode(await within(5_000, "the reply", readToEnd(conn)));
/** Sends `text`, ends sending, and reads what comes back to its end. */
const roundTrip = async (conn: Deno.Conn, text: string) => {
  await writeAll(conn, encode(text));
  await conn.closeWrite();
  return await reply(conn);
};
/** Sends `text` through, and checks that `back` comes back. */
const echoes = (text: string, back = text): Act => async (conn) => {
  assert.equal(await roundTrip(conn, text), back);
};
/** Reads `text` to its end before it ends sending. */
const hears = (text: string): Act => async (conn) => {
  assert.equal(await reply(conn), text);
  await conn.closeWrite();
};
/** Checks the connection is through (one byte each way), does `then`, and waits for the close. */
const held = (then: () => unknown): Act => async (conn) => {
  await probe(conn);
  await then();
  await R.closedByProxy(conn);
};
/** Sends "ping" over TLS to `a.test`, offering `alpn`, and checks that it comes back. */
const echoesOverTls = (alpn: string[]): Act => async (tcp) => {
  const options = { hostname: "a.test", caCerts: [R.TLS_FILES.ca], alpnProtocols: alpn };
  using conn = await Deno.startTls(tcp, options);
  assert.equal(await roundTrip(conn, "ping"), "ping");
};

Deno.test("the JSON access log gives the fields of every close reason the CLI can reach", async (t) => {
  const since = Date.now();
  await using dir = await temporaryDir();
  await using echo = startEcho();
  await using echo2 = startEcho();
  await using greeter = R.startGreeter(HELLO);
  await using resetter = await R.startResetter();
  await using hole = await startBlackhole();
  const [ECHO, ECHO2, GREETER, HOLE] = [echo, echo2, greeter, hole]
    .map(({ address }) => `127.0.0.1:${address.port}`);
  const RESETTER = resetter.address;
  const names = ("plain greeter resetter refused unresolved blackhole idle limited rated faulty " +
    "proxied tls router upstream-tls drain").split(" ");
  const [dead, ...free] = freePorts(names.length + 1);
  const DEAD = `127.0.0.1:${dead}`;
  const ports = Object.fromEntries(names.map((name, i) => [name, free[i]]));
  const TLS = `127.0.0.1:${ports.tls}`;
  const tls = { certificates: [{ cert: R.TLS_FILES.cert, key: R.TLS_FILES.key }], alpn: ["h2"] };
  // No passive ejection where the one upstream fails: the pool would offer it again, as the last
  // one left, within the same connection.
  const once = { maxFails: 0 };
  const servers = (drainTo: string): R.Servers => ({
    plain: { upstreams: [ECHO] },
    greeter: { upstreams: [GREETER] },
    resetter: { upstreams: [RESETTER] },
    refused: { upstreams: [DEAD], passive: once },
    unresolved: { upstreams: ["upstream.invalid:80"], passive: once }, // never resolves: RFC 2606
    blackhole: { upstreams: [HOLE], connect: { deadline: "300ms" } },
    idle: { upstreams: [ECHO], idleTimeout: "300ms" },
    limited: { upstreams: [ECHO], maxConnectionsPerIp: 1 },
    rated: { upstreams: [ECHO], rateLimit: { rate: "1/m", burst: 1 } },
    faulty: { upstreams: [ECHO], faults: ["upstream:reset-after-bytes=10"] },
    proxied: { upstreams: [ECHO], acceptProxy: ["127.0.0.1"], access: [{ deny: "192.0.2.0/24" }] },
    tls: { upstreams: [ECHO], tls, handshakeTimeout: "300ms" },
    router: { upstreams: [ECHO], sni: { "a.test": [TLS] } }, // on to the tls server, through
    "upstream-tls": { upstreams: [TLS], upstreamTls: true }, // whose CA is not the system's
    drain: { upstreams: [drainTo], onUpstreamRemoved: { action: "close", after: "200ms" } },
  });
  const allowNet = "127.0.0.1,upstream.invalid";
  await using cli = await R.startConfigCli(dir.path, ports, servers(ECHO), allowNet);
  const check = async (server: string, client: string, reason: CloseReason, want: Want) => {
    const listener = cli.listener(server);
    const expected = { reason, listener, client, error: ERRORS[reason], ...want };
    R.assertRecord(await cli.log.find(client, listener), expected, since);
  };
  /** A second connection, turned away while the first is held. */
  const second = (server: string): Act => async (first) => {
    await probe(first);
    using conn = await cli.connect(server);
    await R.closedByProxy(conn);
    return R.clientOf(conn);
  };
  const proxy = (ip: string) => `PROXY TCP4 ${ip} 198.51.100.1 5555 443\r\n`;
  const TLS_HELLO = { ...CLIENT_FIRST, serverName: "a.test" };
  const TERMINATED = via("tls", ECHO, 4, 4, { ...TLS_HELLO, alpn: "h2" });
  // The router passes the ClientHello on to the tls server: its bytes are TLS records.
  const ROUTED = [[100, 9_999], [100, 9_999], { ...TLS_HELLO, alpn: "h2,http/1.1" }] as const;
  const stop = () => cli.proxy.child.kill("SIGTERM");
  const reload = async () => {
    cli.write(servers(ECHO2)); // the drain server's upstream is removed
    cli.proxy.child.kill("SIGHUP");
    await cli.proxy.waitFor(/Reloaded /);
  };
  const cases: [string, string, Act, Want][] = [
    ["client_closed", "plain", echoes("twelve bytes"), via("plain", ECHO, 12, 12, CLIENT_FIRST)],
    ["upstream_closed", "greeter", hears(HELLO), via("greeter", GREETER, 0, 19, UP_FIRST)],
    ["upstream_reset", "resetter", ends(new Uint8Array(2), false), via("resetter", RESETTER, 2, 0)],
    ["no_upstream", "refused", ends(), away(1)],
    ["dns_failed", "unresolved", ends(), away(1)],
    ["connect_timeout", "blackhole", ends(), away(1, { minDurationMs: 300 })],
    ["idle_timeout", "idle", held(() => {}), via("idle", ECHO, 1, 1, { minDurationMs: 300 })],
    ["over_limit", "limited", second("limited"), away(0)],
    ["rate_limited", "rated", second("rated"), away(0)],
    // A PROXY header says who the client is: the record gives that, with the real listener.
    ["denied", "proxied", from("192.0.2.7:5555", ends(proxy("192.0.2.7"))), away(0)],
    ["proxy_header", "proxied", ends("PROXY TCP4 1.2.3 4.5.6.7 1 2\r\n"), away(0)],
    [
      "client_closed (PROXY protocol)",
      "proxied",
      from("203.0.113.7:5555", echoes(`${proxy("203.0.113.7")}payload`, "payload")),
      via("proxied", ECHO, 7, 7, CLIENT_FIRST),
    ],
    ["fault", "faulty", ends(new Uint8Array(100)), via("faulty", ECHO, 10, [0, 10])],
    ["tls_handshake", "tls", ends("GET / HTTP/1.1\r\n\r\n"), away(0)],
    ["handshake_timeout", "tls", ends(), away(0, { minDurationMs: 300 })],
    ["client_closed (TLS terminated)", "tls", echoesOverTls(["h2"]), TERMINATED],
    ["not_tls", "router", ends("hello, not TLS\r\n"), away(0)],
    ["client_hello", "router", ends(Uint8Array.of(22, 3, 1, 0, 100, 1)), away(0)], // cut short
    [
      "client_closed (routed by SNI)",
      "router",
      echoesOverTls(["h2", "http/1.1"]),
      via("router/sni/a.test", TLS, ...ROUTED),
    ],
    ["upstream_tls", "upstream-tls", ends(), via("upstream-tls", TLS, 0, 0)],
    ["drained", "drain", held(reload), via("drain", ECHO, 1, 1, { minDurationMs: 200 })],
    // It gets --drain-timeout 300ms to finish, and does not.
    ["shutdown", "plain", held(stop), via("plain", ECHO, 1, 1, { minDurationMs: 300 })],
  ];
  for (const [name, server, act, want] of cases) {
    await t.step(title(name), async () => {
      using conn = await cli.connect(server);
      const client = await act(conn) ?? R.clientOf(conn);
      await check(server, client, name.split(" ")[0] as CloseReason, want);
    });
    if (name !== "client_closed") continue;
    await t.step(title("client_reset"), async () => {
      const client = await R.resetOnEcho(ports.plain, 10);
      await check("plain", client, "client_reset", via("plain", ECHO, 10, 10));
    });
  }
  assert.equal((await within(10_000, "the exit", cli.proxy.exit())).code, 0);
  const records = cli.log.read();
  assert.ok(records.every((record) => record.logger === "minginx.access"), "only access records");
  const reasons = new Set(records.map((record) => record.properties.reason));
  assert.equal(reasons.size, 20, [...reasons].join(", ")); // all but error
});

Deno.test("the JSON access log gives the fields of an error connection: a layer that throws", async () => {
  // No setting makes the CLI's stack throw: a bug cannot be provoked from outside. So this sets
  // up the CLI's logging in-process, with its own configureLogging (json, the access log in a
  // file, as main.ts calls it), and the CLI's accessLog() layer around a layer that throws, over
  // forward() to a real echo upstream, on a real socket; reset() flushes the file and closes it.
  const since = Date.now();
  await using dir = await temporaryDir();
  const path = `${dir.path}/access.log`;
  await using echo = startEcho();
  let client = "", listener = "";
  await configureLogging("warning", "json", path);
  try {
    const service = new ServiceBuilder().layer(accessLog())
      .layer(() => () => Promise.reject(new RangeError("a bug in a layer")))
      .service(forward({ upstreams: [echo.address] }));
    await using proxy = serve({ listen: "127.0.0.1:0", service });
    listener = `127.0.0.1:${proxy.address.port}`;
    using conn = await Deno.connect(proxy.address);
    client = R.clientOf(conn);
    await R.closedByProxy(conn);
    await until(5_000, "the connection to end", () => proxy.connections === 0);
  } finally {
    await reset();
  }
  const want = { reason: "error", listener, client, error: ERRORS.error, ...away(0) } as const;
  R.assertRecord(await R.accessLogAt(path).find(client, listener), want, since);
  assert.equal(echo.accepted, 0);
});
