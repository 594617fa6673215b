/**
 * Reload and shutdown under traffic: 50 SIGHUP reloads of `--config` in 5 s, alternating
 * upstream sets and balancing algorithms, lose no connection; and a SIGTERM drain loses exactly
 * the connections the README says it does (Stopping): those open at SIGTERM that finish within
 * --drain-timeout are not lost, those still open at the deadline are closed with reason
 * `shutdown` and counted in the last log line, and new connects are refused, never accepted and
 * then dropped.
 */

import assert from "node:assert/strict";
import { freePort } from "../_cli.ts";
import { echoes, probe } from "../_echo.ts";
import {
  delay,
  randomBytes,
  readToEnd,
  sha256,
  startEcho,
  until,
  within,
  writeAll,
} from "../_helpers.ts";
import { assertRecovered } from "./_harness.ts";
import {
  type AccessLine,
  accessLines,
  configCli,
  gcCli,
  HEAP_KEPT,
  jsonLines,
  reasons,
  RSS_KEPT,
  type TrafficLoop,
  trafficLoop,
} from "./_trouble.ts";

const MiB = 2 ** 20;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

const RELOADS = 50;
const STORM_MS = 5_000;
const SETS = [[0, 1], [1, 2], [2], [0, 1, 2], [0, 2]];
const BALANCE = ["round-robin", "least-conn", "p2c", "random", "first", "hash"];

Deno.test(`${RELOADS} SIGHUP reloads in ${STORM_MS / 1_000} s under traffic, alternating upstreams and balancing: no connection lost, the listener keeps its socket`, async () => {
  const upstreams = [startEcho(), startEcho(), startEcho()];
  const dir = await Deno.makeTempDir({ prefix: "minginx_storm_" });
  const path = `${dir}/minginx.jsonc`;
  const port = freePort();
  const write = async (n: number) => {
    const set = SETS[n % SETS.length].map((i) => `"127.0.0.1:${upstreams[i].address.port}"`);
    await Deno.writeTextFile(
      `${path}.tmp`,
      `{ "logFormat": "json", "drainTimeout": "5s", "servers": [{ "name": "web", ` +
        `"listen": "127.0.0.1:${port}", "upstreams": [${set}], ` +
        `"balance": "${BALANCE[n % BALANCE.length]}" }] }`,
    );
    await Deno.rename(`${path}.tmp`, path); // whole files only: a reload never reads half of one
  };
  try {
    await write(0);
    await using cli = await configCli(path, port, upstreams);
    const { proxy } = cli;
    const before = await cli.collect();
    const address = { hostname: "127.0.0.1", port };
    const reloaded = () =>
      jsonLines(proxy.lines).filter(({ message }) => message.startsWith("Reloaded "));

    // Long-lived connections opened before the first reload, checked after the last.
    const held = await Promise.all([0, 1, 2, 3].map(() => Deno.connect(address)));
    let traffic: TrafficLoop | undefined;
    try {
      await Promise.all(held.map(probe));
      traffic = trafficLoop(address, 8, { size: 4_096 });
      const started = performance.now();
      for (let n = 1; n <= RELOADS; n++) {
        await write(n);
        proxy.child.kill("SIGHUP");
        // One every 100 ms, and each only once the last was applied: a signal that comes while
        // the last one is still pending is merged with it by the OS, and would make one reload
        // of two (a busy machine can take more than 50 ms to get to it).
        await until(5_000, `reload ${n}`, () => reloaded().length >= n);
        await delay(Math.max(0, started + n * (STORM_MS / RELOADS) - performance.now()));
      }
      const stormMs = performance.now() - started;
      await until(10_000, `${RELOADS} reloads`, () => reloaded().length >= RELOADS);
      const doneAtLast = traffic.done;
      await until(5_000, "traffic after the last reload", () => traffic!.done >= doneAtLast + 50);
      await traffic.stop();

      const lines = accessLines(proxy.lines).filter(({ bytesUp }) => bytesUp === 4_096);
      console.log(
        `reload storm: ${reloaded().length} reloads in ${(stormMs / 1_000).toFixed(1)} s; ` +
          `${traffic.done} connections echoed byte for byte, ${traffic.failed.length} failed; ` +
          `access log ${JSON.stringify(reasons(lines))}`,
      );
      assert.deepEqual(
        traffic.failed.map(({ error }) => String(error)),
        [],
        "client connections that failed during the storm",
      );
      assert.ok(traffic.done >= 300, `only ${traffic.done} connections during the storm`);
      assert.equal(reloaded().length, RELOADS, "every SIGHUP made one reload");
      // The schedule is 100 ms a reload; a loaded machine may stretch it a little.
      assert.ok(stormMs < STORM_MS * 1.5, `the storm took ${Math.round(stormMs)} ms`);
      const refusedReloads = jsonLines(proxy.lines).filter(({ level }) => level === "ERROR");
      assert.deepEqual(refusedReloads, [], "refused reloads or errors");
      // The listener stayed: no reload opened or drained one.
      for (const { properties } of reloaded()) {
        assert.equal(properties.opened, "none");
        assert.equal(properties.removed, "none");
      }
      // Opened before the first reload, still open and correct after the last.
      await Promise.all(held.map((client, i) => echoes(client, 100_000, 100 + i)));
    } finally {
      await traffic?.stop();
      for (const client of held) client.close();
    }

    // 50 pools built and dropped: their health state, timers and counters must not pile up.
    // The RSS does not go back to a cold start (RSS_KEPT says why); the heap after GC does.
    const { fds, rss } = await assertRecovered(cli, { rssGrowth: RSS_KEPT });
    // No connection was ended by anything but its own client (every line is written by now).
    assert.deepEqual(Object.keys(reasons(accessLines(proxy.lines))), ["client_closed"]);
    const after = await cli.collect();
    console.log(
      `reload storm: descriptors ${cli.baseline.fds} -> ${fds}, RSS ${mib(cli.baseline.rss)} -> ` +
        `${mib(rss)}, heap after a full GC ${mib(before.heap)} -> ${mib(after.heap)}`,
    );
    assert.ok(
      after.heap - before.heap < HEAP_KEPT,
      `the heap after a full GC grew from ${mib(before.heap)} to ${mib(after.heap)} over ` +
        `${RELOADS} reloads`,
    );
  } finally {
    await Promise.all(upstreams.map((echo) => echo.close()));
    await Deno.remove(dir, { recursive: true });
  }
});

const FINISHING = 20; // open at SIGTERM, and done within the drain time
const STUCK = 7; // open at SIGTERM, and still open at the deadline
const DRAIN_MS = 2_000;

/** How a connection the proxy closed at the deadline ended, and when (`performance.now()`). */
async function closedByProxy(client: Deno.TcpConn): Promise<number> {
  await readToEnd(client).catch((error) => {
    if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
  });
  return performance.now();
}

Deno.test(`SIGTERM under traffic with --drain-timeout 2s: ${FINISHING} connections that finish in time and every one in flight are not lost, the ${STUCK} still open are closed with reason shutdown and counted, new connects are refused`, async () => {
  await using cli = await gcCli(["--drain-timeout", "2s", "--log-format", "json"]);
  const { proxy, port } = cli;
  const address = { hostname: "127.0.0.1", port };
  const opened = async () => {
    const client = await Deno.connect(address);
    await probe(client);
    return client;
  };
  const finishing = await Promise.all(Array.from({ length: FINISHING }, opened));
  const stuck = await Promise.all(Array.from({ length: STUCK }, opened));
  const traffic = trafficLoop(address, 4, { size: 16 * 1024 });
  try {
    await until(5_000, "traffic", () => traffic.done >= 100);
    const exited = proxy.exit();
    proxy.child.kill("SIGTERM");
    const sigterm = performance.now();

    // Within the drain: each finishing connection sends 64 KiB more, half-closes, and gets it all
    // back; a stuck one is still served (1 KiB each way), then idles past the deadline.
    const [finished, stuckEnds] = await within(
      10_000,
      "the drain",
      Promise.all([
        Promise.all(finishing.map(async (client, i) => {
          await delay(100 + i * 20);
          await echoes(client, 64 * 1024, 1_000 + i);
          return performance.now() - sigterm;
        })),
        Promise.all(stuck.map(async (client, i) => {
          await delay(200);
          await writeAndRead(client, 1_024, 2_000 + i);
          return (await closedByProxy(client)) - sigterm;
        })),
      ]),
    );
    // New connects keep being tried, and refused, until the process is gone.
    const status = await within(10_000, "the exit", exited);
    await traffic.stop();
    const exitedAfter = performance.now() - sigterm;
    const lines = jsonLines(proxy.lines);
    const access = accessLines(proxy.lines);

    // Match each client connection with its access-log line by its port.
    const byPort = new Map<string, AccessLine[]>();
    for (const line of access) byPort.set(line.client, [...byPort.get(line.client) ?? [], line]);
    const accepted = (trip: { port?: number }) =>
      trip.port !== undefined && (byPort.get(`127.0.0.1:${trip.port}`) ?? []).length > 0;
    const refused = traffic.failed.filter(({ error }) =>
      error instanceof Deno.errors.ConnectionRefused
    );
    const stopping = lines.find(({ message }) => message.startsWith("Stopping: "));
    const closed = lines.find(({ message }) => message.startsWith("Closed "));
    console.log(
      `drain: ${stopping?.properties.open} open at SIGTERM (${FINISHING} finishing, ${STUCK} ` +
        `stuck, the rest in flight); finishing done ${Math.round(Math.max(...finished))} ms ` +
        `after SIGTERM, stuck closed after ${Math.round(Math.min(...stuckEnds))}-` +
        `${Math.round(Math.max(...stuckEnds))} ms; ${traffic.done} traffic connections echoed, ` +
        `${refused.length} refused after SIGTERM, ${traffic.failed.length - refused.length} ` +
        `other failures; exit ${status.code} after ${Math.round(exitedAfter)} ms; access log ` +
        JSON.stringify(reasons(access)),
    );

    assert.equal(status.code, 0, "exit code");
    assert.equal(lines.at(-1)?.message, "Stopped");
    // Open at SIGTERM: the finishing and stuck ones, and at most one per traffic client.
    const open = Number(stopping?.properties.open);
    assert.ok(open >= FINISHING + STUCK && open <= FINISHING + STUCK + 4, `${open} open`);
    assert.equal(stopping?.properties.drain, "2s");
    // Those still open at the deadline: closed then, with reason shutdown, and counted.
    for (const ms of stuckEnds) {
      assert.ok(ms >= DRAIN_MS - 100 && ms < DRAIN_MS + 2_000, `a stuck one closed after ${ms} ms`);
    }
    assert.equal(
      closed?.properties.closed,
      STUCK,
      `the last lines:\n${proxy.lines.slice(-3).join("\n")}`,
    );
    assert.match(closed?.message ?? "", /still open after "?2s"? \(shutdown\)/);
    assert.equal(reasons(access).shutdown, STUCK, "access-log lines with reason shutdown");
    // Everything else the proxy accepted ended well: its client finished it. That is every
    // finishing connection, every traffic connection that succeeded, and the harness's probe.
    assert.deepEqual(Object.keys(reasons(access)).sort(), ["client_closed", "shutdown"]);
    assert.equal(
      reasons(access).client_closed,
      FINISHING + traffic.done + 1,
      "client_closed lines: the finishing connections, the traffic's, the harness's probe",
    );
    // Every traffic connection that failed was never accepted: refused, or reset in the backlog
    // as the listener closed, before it could be accepted (it then has no access-log line).
    assert.ok(refused.length >= 1, "no connect after SIGTERM was refused");
    const droppedAfterAccept = traffic.failed.filter(accepted);
    assert.deepEqual(droppedAfterAccept, [], "connections accepted and then dropped");
    assert.ok(
      traffic.failed.every(({ endedAt }) => endedAt >= sigterm),
      "a traffic connection failed before SIGTERM",
    );
  } finally {
    try {
      proxy.child.kill("SIGKILL"); // if something above failed, so that the traffic stops
    } catch { /* exited already, as it should */ }
    await traffic.stop();
    for (const client of [...finishing, ...stuck]) client.close();
  }
});

/** Sends `size` seeded bytes and reads exactly them back, leaving the connection open. */
async function writeAndRead(client: Deno.TcpConn, size: number, seed: number): Promise<void> {
  const bytes = randomBytes(size, seed);
  await writeAll(client, bytes);
  const back = new Uint8Array(size);
  for (let got = 0; got < size;) {
    const n = await client.read(back.subarray(got));
    assert.notEqual(n, null, "the echo ended early");
    got += n!;
  }
  assert.equal(sha256(back), sha256(bytes));
}
