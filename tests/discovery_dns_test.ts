/**
 * Discovery from DNS through the CLI, against a real dnsmasq on 127.0.0.1: upstreams that appear
 * in A records join and those that disappear drain while a client loop runs and no connection
 * fails; a dead DNS server keeps the last good set; SRV priority and weight decide the tiers and
 * the distribution. Ignored when dnsmasq is not installed.
 */

import assert from "node:assert/strict";
import { CliProcess, freePorts } from "./_cli.ts";
import { echoes } from "./_echo.ts";
import { dnsmasqMissing, startDnsmasq } from "./_dnsmasq.ts";
import { endsClean, moreTraffic, poolUpstreams, status, waitForPool } from "./_discovery.ts";
import { startEcho, type TestServer, within } from "./_helpers.ts";
import { clientLoop } from "./_loop.ts";
import { testName } from "./_peers.ts";

const MISSING = dnsmasqMissing();
if (MISSING) console.log(`DNS discovery tests ignored: ${MISSING}`);

Deno.test({
  name: testName(
    "dns: discovery adds and drains upstreams as the A records change under a client loop, " +
      "keeps the last good set while the DNS server is down, and no connection fails",
    MISSING,
  ),
  ignore: MISSING !== undefined,
  async fn() {
    const first = startEcho();
    const { port } = first.address;
    const servers: TestServer[] = [
      first,
      startEcho(port, "127.0.0.2"),
      startEcho(port, "127.0.0.3"),
    ];
    const ip = (i: number) => `127.0.0.${i + 1}`;
    const names = (...ids: number[]) => ids.map((i) => `${ip(i)}:${port}`);
    await using dns = await startDnsmasq({ a: { "web.test": [ip(0)] } });
    const [listen, admin] = freePorts(2);
    const net = [listen, admin, dns.port].map((p) => `127.0.0.1:${p}`).concat(names(0, 1, 2));
    await using proxy = new CliProcess([
      ...["-l", `127.0.0.1:${listen}`, "-u", `dns:web.test:${port}`],
      ...["--resolver", `127.0.0.1:${dns.port}`, "--discovery-interval", "200ms"],
      ...["--admin", `127.0.0.1:${admin}`],
    ], net.join(","));
    try {
      await proxy.waitFor(/listening on/);
      await waitForPool(admin, names(0));
      const loop = clientLoop({ hostname: "127.0.0.1", port: listen }, 4, 4_096);
      try {
        const traffic = (what: string) => moreTraffic(loop, what);
        await traffic("traffic to the first upstream");
        await dns.set({ a: { "web.test": [ip(0), ip(1), ip(2)] } });
        await waitForPool(admin, names(0, 1, 2));
        const before = servers.map((s) => s.accepted);
        await traffic("traffic to three upstreams");
        assert.ok(servers.every((s, i) => s.accepted > before[i]), "all three take connections");
        // The first leaves the records: it drains, and once it has left it is shut down.
        await dns.set({ a: { "web.test": [ip(1), ip(2)] } });
        await waitForPool(admin, names(1, 2));
        await servers[0].close();
        await traffic("traffic after the first upstream left");
        // The DNS server goes away: the last good set stays, and the failures are counted.
        await dns.stop();
        await proxy.waitFor(/Discovery dns:web\.test:\d+ for pool default failed/);
        await traffic("traffic while the DNS server is down");
        assert.deepEqual(await poolUpstreams(admin), names(1, 2));
        const metrics = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
        const failures = metrics.match(/^minginx_discovery_failures_total\{[^}]*\} (\d+)$/m);
        assert.ok(Number(failures?.[1]) >= 1, `failures counted: ${failures?.[0]}`);
        const { pools } = await status(admin);
        assert.match(pools[0].discovery?.[0].lastError ?? "", /Cannot resolve "web\.test"/);
        await dns.restart();
        await traffic("traffic after the DNS server came back");
      } finally {
        await loop.stop();
      }
      await endsClean(loop, proxy);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  },
});

Deno.test({
  name: testName(
    "srv: discovery offers the lowest priority first, splits it by SRV weight, and fails over " +
      "to the next priority as backups",
    MISSING,
  ),
  ignore: MISSING !== undefined,
  async fn() {
    const servers = [startEcho(), startEcho(), startEcho()];
    const [heavy, light, backup] = servers.map((s) => s.address.port);
    await using dns = await startDnsmasq({
      a: { "up.test": ["127.0.0.1"] },
      srv: [
        { name: "_echo._tcp.web.test", target: "up.test", port: heavy, priority: 10, weight: 30 },
        { name: "_echo._tcp.web.test", target: "up.test", port: light, priority: 10, weight: 10 },
        { name: "_echo._tcp.web.test", target: "up.test", port: backup, priority: 20, weight: 5 },
      ],
    });
    const [listen, admin] = freePorts(2);
    const net = [listen, admin, dns.port, heavy, light, backup].map((p) => `127.0.0.1:${p}`);
    await using proxy = new CliProcess([
      ...["-l", `127.0.0.1:${listen}`, "-u", "srv:_echo._tcp.web.test"],
      ...["--resolver", `127.0.0.1:${dns.port}`, "--admin", `127.0.0.1:${admin}`],
    ], net.join(","));
    try {
      await proxy.waitFor(/listening on/);
      const { pools } = await status(admin);
      const byPort = Object.fromEntries(
        pools[0].upstreams.map((u) => [u.address.split(":")[1], [u.weight, u.backup]]),
      );
      assert.deepEqual(byPort, {
        [heavy]: [30, false],
        [light]: [10, false],
        [backup]: [5, true],
      });
      const address = { hostname: "127.0.0.1", port: listen };
      const connect = async (i: number) => {
        using client = await Deno.connect(address);
        await echoes(client, 1_024, i);
      };
      for (let i = 0; i < 400; i++) await connect(i);
      const counts = servers.map((s) => s.accepted);
      // Smooth weighted round-robin gives 3:1 exactly over whole cycles of 4.
      assert.deepEqual(counts, [300, 100, 0], `distribution ${counts}`);
      // Both primaries go: connects to them are refused, and the backup takes every client.
      await Promise.all([servers[0].close(), servers[1].close()]);
      for (let i = 0; i < 20; i++) await within(5_000, "a failover connection", connect(i));
      assert.equal(servers[2].accepted, 20);
      proxy.child.kill("SIGTERM");
      assert.equal((await proxy.exit()).code, 0);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
    }
  },
});
