/**
 * tests/_dnsmasq.ts against Deno.resolveDns: a real dnsmasq on 127.0.0.1 serves the records
 * given, replaces them, stops and comes back on its port. Ignored when dnsmasq is not installed.
 */

import assert from "node:assert/strict";
import { dnsmasqMissing, startDnsmasq } from "./_dnsmasq.ts";
import { within } from "./_helpers.ts";
import { testName } from "./_peers.ts";

const MISSING = dnsmasqMissing();
if (MISSING) console.log(`dnsmasq tests ignored: ${MISSING}`);

type NameServer = { ipAddr: string; port: number };

function a(nameServer: NameServer, name: string, type: "A" | "AAAA" = "A") {
  return Deno.resolveDns(name, type, { nameServer, signal: AbortSignal.timeout(2_000) })
    .then((addresses) => addresses.sort());
}

/** SRV records as plain objects: Deno returns them with a null prototype. */
function srv(nameServer: NameServer, name: string) {
  return Deno.resolveDns(name, "SRV", { nameServer, signal: AbortSignal.timeout(2_000) })
    .then((records) => records.map((r) => ({ ...r })).sort((x, y) => x.port - y.port));
}

Deno.test({
  name: testName(
    "startDnsmasq() serves A, AAAA and SRV records that Deno.resolveDns reads, on UDP and TCP, " +
      "and answers NXDOMAIN for any other name",
    MISSING,
  ),
  ignore: MISSING !== undefined,
  async fn() {
    await using dns = await within(
      10_000,
      "dnsmasq to start",
      startDnsmasq({
        a: { "api.test": ["127.0.0.2", "127.0.0.3", "::1"], "v4only.test": ["127.0.0.4"] },
        srv: [
          { name: "_api._tcp.test", target: "api.test", port: 8080, priority: 10, weight: 5 },
          { name: "_api._tcp.test", target: "v4only.test", port: 8081, priority: 20, weight: 1 },
        ],
      }),
    );
    assert.deepEqual(dns.nameServer, { ipAddr: "127.0.0.1", port: dns.port });
    const ns = dns.nameServer;
    assert.deepEqual(await a(ns, "api.test"), ["127.0.0.2", "127.0.0.3"]);
    assert.deepEqual(await a(ns, "api.test", "AAAA"), ["::1"]);
    assert.deepEqual(await srv(ns, "_api._tcp.test"), [
      { priority: 10, weight: 5, port: 8080, target: "api.test." },
      { priority: 20, weight: 1, port: 8081, target: "v4only.test." },
    ]);
    // NODATA, NXDOMAIN and names outside any local zone all come back as NotFound.
    await assert.rejects(a(ns, "v4only.test", "AAAA"), Deno.errors.NotFound);
    await assert.rejects(a(ns, "unknown.test"), Deno.errors.NotFound);
    await assert.rejects(a(ns, "example.com"), Deno.errors.NotFound);
    await assert.rejects(srv(ns, "api.test"), Deno.errors.NotFound);
    assert.match(dns.output, /config example\.com is NXDOMAIN/);
    (await Deno.connect({ hostname: "127.0.0.1", port: dns.port })).close();
  },
});

Deno.test({
  name: testName(
    "Dnsmasq.set() replaces the records: A records with SIGHUP, SRV records with a restart on " +
      "the same port, and names dropped stop resolving",
    MISSING,
  ),
  ignore: MISSING !== undefined,
  async fn() {
    await using dns = await within(
      10_000,
      "dnsmasq to start",
      startDnsmasq({
        a: { "one.test": ["127.0.0.1"], "gone.test": ["127.0.0.9"] },
        srv: [{ name: "_svc._tcp.test", target: "one.test", port: 9001, priority: 1, weight: 1 }],
      }),
    );
    const ns = dns.nameServer;
    assert.deepEqual(await a(ns, "gone.test"), ["127.0.0.9"]);

    const reloaded = await within(
      10_000,
      "set() of A records",
      dns.set({
        a: { "one.test": ["127.0.0.5", "fd00::5"], "two.test": ["127.0.0.6"] },
        srv: [{ name: "_svc._tcp.test", target: "one.test", port: 9001, priority: 1, weight: 1 }],
      }),
    );
    assert.equal(reloaded, "reloaded");
    assert.deepEqual(await a(ns, "one.test"), ["127.0.0.5"]);
    assert.deepEqual(await a(ns, "one.test", "AAAA"), ["fd00::5"]);
    assert.deepEqual(await a(ns, "two.test"), ["127.0.0.6"]);
    await assert.rejects(a(ns, "gone.test"), Deno.errors.NotFound);

    const restarted = await within(
      10_000,
      "set() of SRV records",
      dns.set({
        a: { "two.test": ["127.0.0.7"] },
        srv: [{ name: "_new._tcp.test", target: "two.test", port: 9002, priority: 3, weight: 4 }],
      }),
    );
    assert.equal(restarted, "restarted");
    assert.deepEqual(dns.nameServer, { ipAddr: "127.0.0.1", port: dns.port });
    assert.deepEqual(await srv(ns, "_new._tcp.test"), [
      { priority: 3, weight: 4, port: 9002, target: "two.test." },
    ]);
    assert.deepEqual(await a(ns, "two.test"), ["127.0.0.7"]);
    await assert.rejects(srv(ns, "_svc._tcp.test"), Deno.errors.NotFound);
    await assert.rejects(a(ns, "one.test"), Deno.errors.NotFound);
  },
});

Deno.test({
  name: testName(
    "Dnsmasq.stop() makes resolution fail (a query times out) and restart() brings it back on " +
      "the same port with the records set meanwhile",
    MISSING,
  ),
  ignore: MISSING !== undefined,
  async fn() {
    await using dns = await within(
      10_000,
      "dnsmasq to start",
      startDnsmasq({ a: { "svc.test": ["127.0.0.2"] } }),
    );
    const { port, nameServer } = dns;
    assert.deepEqual(await a(nameServer, "svc.test"), ["127.0.0.2"]);

    await within(10_000, "stop()", dns.stop());
    assert.equal(dns.running, false);
    // Nothing answers: Deno's resolver waits (15 s without a signal) rather than seeing a refusal.
    const query = Deno.resolveDns("svc.test", "A", {
      nameServer,
      signal: AbortSignal.timeout(500),
    });
    await assert.rejects(query, (error: Error) => error.name === "TimeoutError");
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port }),
      Deno.errors.ConnectionRefused,
    );

    assert.equal(await dns.set({ a: { "svc.test": ["127.0.0.3"] } }), "stopped");
    await within(10_000, "restart()", dns.restart());
    assert.equal(dns.running, true);
    assert.equal(dns.port, port);
    assert.deepEqual(await a(nameServer, "svc.test"), ["127.0.0.3"]);
  },
});

Deno.test({
  name: testName(
    "startDnsmasq() tries another port when dnsmasq says its first is in use",
    MISSING,
  ),
  ignore: MISSING !== undefined,
  async fn() {
    // Hold a TCP port in the range the harness draws from, and make that its first draw.
    let taken: Deno.TcpListener | undefined;
    for (let port = 31_999; !taken; port--) {
      try {
        taken = Deno.listen({ hostname: "127.0.0.1", port });
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      }
    }
    using _taken = taken;
    const random = Math.random;
    let draws = 0;
    Math.random = () => draws++ === 0 ? (taken.addr.port - 20_000 + 0.5) / 12_000 : random();
    try {
      await using dns = await within(10_000, "dnsmasq to start", startDnsmasq({}));
      assert.equal(draws, 2);
      assert.notEqual(dns.port, taken.addr.port);
      await assert.rejects(a(dns.nameServer, "any.test"), Deno.errors.NotFound);
    } finally {
      Math.random = random;
    }
  },
});
