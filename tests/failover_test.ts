/**
 * Failover through a real proxy over a pool of in-process upstreams: an upstream killed and
 * restarted under a client loop, backups, drains, and how hard a connect tries.
 */

import assert from "node:assert/strict";
import {
  type Balancer,
  type ConnectionReport,
  forward,
  Pool,
  type PoolOptions,
  serve,
  ServiceBuilder,
  tcpCheck,
} from "../mod.ts";
import { echoes, probe } from "./_echo.ts";
import { clientLoop } from "./_loop.ts";
import { recorder, startEcho, type TestServer, until, within } from "./_helpers.ts";

/** A proxy over `pool`, recording every report, counting connect failures by upstream state. */
function proxyOver(pool: Pool) {
  const record = recorder();
  const failures: { upstream: string; state: string }[] = [];
  const balancer: Balancer = {
    pick: (connection) => pool.pick(connection),
    onConnect: (address, connection) => pool.onConnect(address, connection),
    onConnectFailure(address) {
      const upstream = pool.get(address)!;
      failures.push({ upstream: upstream.name, state: upstream.state });
      pool.onConnectFailure(address);
    },
  };
  const proxy = serve({
    listen: "127.0.0.1:0",
    service: new ServiceBuilder().layer(record.layer).service(forward({ balancer })),
  });
  return { proxy, record, failures, [Symbol.asyncDispose]: () => proxy.shutdown() };
}

/** The reports of connections that `server` served. */
function servedBy(reports: ConnectionReport[], server: TestServer): ConnectionReport[] {
  const name = `127.0.0.1:${server.address.port}`;
  return reports.filter(({ upstream }) => upstream === name);
}

const checked = (upstreams: TestServer[], options: Partial<PoolOptions> = {}) =>
  new Pool({
    upstreams: upstreams.map(({ address }) => address),
    healthCheck: tcpCheck(),
    health: { interval: 100, timeout: 500, rise: 2, fall: 2 },
    maxFails: 0,
    ...options,
  });

Deno.test("killing one of three upstreams under a client loop fails no new connection, ends only its own, and it is back after rise", async () => {
  const servers = [startEcho(), startEcho(), startEcho()];
  const victim = servers[1];
  const port = victim.address.port;
  await using pool = checked(servers);
  await using proxied = proxyOver(pool);
  const { proxy, record, failures } = proxied;
  // One long-lived connection on each upstream (round-robin hands them out in turn).
  const held = await Promise.all(servers.map(() => Deno.connect(proxy.address)));
  await Promise.all(held.map(probe));
  const loop = clientLoop(proxy.address, 4, 4_096);
  try {
    await until(5_000, "traffic", () => loop.done >= 50);
    await victim.close(); // its listener and every connection on it go away
    const killedAt = performance.now();
    // Of the long-lived connections, the one on the killed upstream ends (its end of stream
    // arrives as a half-close); the others keep working.
    const end = await within(2_000, "the end", held[1].read(new Uint8Array(1)));
    assert.equal(end, null);
    await until(5_000, "the fall threshold", () => pool.get(victim.address)!.state === "down");
    // Connects picked just before the fall may still fail after it: at most one per client.
    const doneAtFall = loop.done;
    await until(10_000, "traffic after the fall", () => loop.done >= doneAtFall + 50);
    const failuresAfterFall = failures.length;
    await until(10_000, "more traffic after the fall", () => loop.done >= doneAtFall + 150);
    assert.equal(failures.length, failuresAfterFall, "a down upstream is not tried");
    assert.ok(failures.every(({ upstream }) => upstream === victim.address.hostname + ":" + port));

    const revived = startEcho(port);
    try {
      await until(5_000, "the rise threshold", () => pool.get(victim.address)!.state === "up");
      const doneAtRise = loop.done;
      const servedAtRise = servedBy(record.reports, victim).length;
      await until(10_000, "traffic after the rise", () => loop.done >= doneAtRise + 60);
      // Counted from the reports: the health checks' connections are accepted too.
      const onRevived = servedBy(record.reports, victim).length - servedAtRise;
      assert.ok(onRevived >= 10, `the revived upstream took ${onRevived} connections`);
    } finally {
      await loop.stop();
      await revived.close();
    }
    // Only connections already open on the killed upstream may fail: at most one per loop.
    const late = loop.errors.filter(({ startedAt }) => startedAt >= killedAt);
    assert.deepEqual(late, [], "no client connection started after the kill failed");
    assert.ok(loop.errors.length <= 4, `${loop.errors.length} connections open at the kill failed`);
    for (const [i, client] of held.entries()) {
      if (servers[i] !== victim) await echoes(client, 100_000, i);
    }
  } finally {
    await loop.stop();
    for (const client of held) client.close();
    await Promise.all(servers.map((server) => server.close()));
  }
});

Deno.test("backups take connections only when every primary is down", async () => {
  const [a, b, backup] = [startEcho(), startEcho(), startEcho()];
  await using pool = new Pool({
    upstreams: [a.address, b.address, { address: backup.address, backup: true }],
    healthCheck: tcpCheck(),
    health: { interval: 50, rise: 1, fall: 1 },
  });
  await using proxied = proxyOver(pool);
  const onBackup = () => servedBy(proxied.record.reports, backup).length;
  const roundTrips = async (n: number) => {
    for (let i = 0; i < n; i++) {
      using client = await Deno.connect(proxied.proxy.address);
      await echoes(client, 1024, i);
      client.close();
      await proxied.record.next();
    }
  };
  try {
    await roundTrips(20);
    assert.equal(onBackup(), 0);
    await a.close();
    await roundTrips(10);
    assert.equal(onBackup(), 0, "one primary left is enough");
    await b.close();
    await roundTrips(10);
    assert.equal(onBackup(), 10, "with both primaries down, the backup takes every client");
    const revived = startEcho(a.address.port);
    const onA = servedBy(proxied.record.reports, a).length;
    try {
      await until(2_000, "a back up", () => pool.get(a.address)!.state === "up");
      await roundTrips(10);
      assert.equal(onBackup(), 10, "a primary is back: the backup is idle again");
      assert.equal(servedBy(proxied.record.reports, revived).length - onA, 10);
    } finally {
      await revived.close();
    }
  } finally {
    await Promise.all([a, b, backup].map((server) => server.close()));
  }
});

Deno.test("drain: the upstream takes no new connections, open ones finish, then it leaves the pool", async () => {
  const [a, b] = [startEcho(), startEcho()];
  await using pool = new Pool({ upstreams: [a.address, b.address] });
  await using proxied = proxyOver(pool);
  try {
    const onA = await Deno.connect(proxied.proxy.address);
    await probe(onA);
    assert.equal(a.accepted, 1);
    let drained = false;
    const draining = pool.drain(a.address).then(() => drained = true);
    for (let i = 0; i < 10; i++) {
      using client = await Deno.connect(proxied.proxy.address);
      await echoes(client, 1024, i);
    }
    assert.equal(a.accepted, 1, "no new connection reached the draining upstream");
    assert.equal(pool.get(a.address)?.state, "draining");
    await echoes(onA, 1_000_000, 7); // the open one keeps working, byte for byte
    onA.close();
    await within(5_000, "the drain to end", draining);
    assert.equal(drained, true);
    assert.deepEqual(pool.upstreams.map(({ name }) => name), [`127.0.0.1:${b.address.port}`]);
  } finally {
    await Promise.all([a, b].map((server) => server.close()));
  }
});

Deno.test("drain with a timeout closes the connections left with the reason drained", async () => {
  const a = startEcho();
  await using pool = new Pool({ upstreams: [a.address] });
  await using proxied = proxyOver(pool);
  try {
    using client = await Deno.connect(proxied.proxy.address);
    await probe(client);
    const started = performance.now();
    await within(5_000, "the drain", pool.drain(a.address, { timeout: 200 }));
    assert.ok(performance.now() - started >= 190);
    const report = await proxied.record.next();
    assert.equal(report.reason, "drained");
    assert.match(report.error ?? "", /was drained and its 200ms ran out/);
    assert.equal(pool.upstreams.length, 0);
  } finally {
    await a.close();
  }
});
