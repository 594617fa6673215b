/**
 * Resets from every side: upstreams that reset mid-stream while sending and while reading, and
 * clients that reset before accept(), while the proxy is still connecting, and mid-transfer.
 * 1,000 of each kind go through one CLI process while healthy clients keep echoing through it,
 * every healthy byte checked by hash; then the same resets through the library in this process,
 * whose heap can be read after a GC.
 *
 * The resets are bare RSTs from `node:net`'s `resetAndDestroy()` (SO_LINGER 0). A `Deno.Conn`
 * closed with unread bytes is not a bare reset: Deno shuts its write side down first (FIN) and
 * then closes (RST), and a proxy that reads the FIN before the RST arrives rightly sees a clean
 * end; that would make the reasons checked below a matter of timing.
 */

import assert from "node:assert/strict";
import { configure, reset } from "@logtape/logtape";
import {
  type Address,
  type Connection,
  type ConnectionReport,
  forward,
  type Layer,
  serve,
  ServiceBuilder,
  timeout,
} from "../../mod.ts";
import { clientLoop } from "../_loop.ts";
import { randomBytes, sha256, startBlackhole, startEcho, until, within } from "../_helpers.ts";
import { fdCount, heapAfterGc, settlesTo } from "./_harness.ts";
import {
  accessReports,
  assertPrefix,
  assertRecoveredExactly,
  chaosServers,
  figures,
  inParallel,
  type LoggedReport,
  mib,
  nodeUpstream,
  readUntilGone,
  resetAfterReceiving,
  resettingClient,
  RSS_KEPT,
  stopAndCountLost,
  tally,
  to,
} from "./_attacks.ts";

const EACH = 1_000;
const ROUNDS = 10;
const PER_ROUND = EACH / ROUNDS;

/** What the upstream that resets while sending would send; it resets after the first 64 KiB. */
const DOWN = randomBytes(256 * 1024, 11);
/** What clients send upstream; the upstream that resets while reading checks its first 16 KiB. */
const UP = randomBytes(256 * 1024, 12);
const UP_CHECKED = 16 * 1024;
/** An upstream connect that never completes gives up after this long. */
const CONNECT_MS = 1_000;

/** The two upstreams that reset, and what the one that reads checked. */
async function resettingUpstreams() {
  // Once the client's first bytes arrive, writes 64 KiB at a time, and resets once the first
  // 64 KiB are handed to the kernel: what was not yet sent is dropped with the reset.
  const whileSending = await nodeUpstream((socket) => {
    socket.once("data", () => {
      socket.write(DOWN.subarray(0, 64 * 1024), () => socket.resetAndDestroy());
      for (let off = 64 * 1024; off < DOWN.length; off += 64 * 1024) {
        socket.write(DOWN.subarray(off, off + 64 * 1024));
      }
    });
  });
  // Reads 16 KiB of what the client sends, checks them, and resets while more keeps coming.
  const checked = { ok: 0, bad: 0 };
  const whileReading = await nodeUpstream((socket) => {
    const chunks: Uint8Array[] = [];
    let received = 0;
    socket.on("data", (chunk: Uint8Array) => {
      if (received >= UP_CHECKED) return;
      chunks.push(chunk);
      received += chunk.length;
      if (received < UP_CHECKED) return;
      const head = new Uint8Array(received);
      chunks.reduce((off, part) => (head.set(part, off), off + part.length), 0);
      if (sha256(head.subarray(0, UP_CHECKED)) === sha256(UP.subarray(0, UP_CHECKED))) {
        checked.ok++;
      } else checked.bad++;
      socket.resetAndDestroy();
    });
  });
  return {
    whileSending,
    whileReading,
    checked,
    async [Symbol.asyncDispose]() {
      await whileSending[Symbol.asyncDispose]();
      await whileReading[Symbol.asyncDispose]();
    },
  };
}

/**
 * How a connect to the blackhole ends: its one try times out (`no_upstream`), or, in a process
 * too busy to run that timer first, the overall deadline does (`connect_timeout`).
 */
const CONNECT_FAILED = ["no_upstream", "connect_timeout"];

const str = (reports: LoggedReport[]) => JSON.stringify(tally(reports));

/** Where each kind of reset is sent: a proxy port in front of the matching upstream. */
interface Targets {
  whileSending: number;
  whileReading: number;
  mid: number;
  blackhole: number;
}

/** Bytes checked as true prefixes of what was sent, before the resets cut the streams. */
const verified = { down: 0, mid: 0 };

/**
 * One round of four kinds of reset, `count` of each, all at once: the upstream resets while
 * sending, the upstream resets while reading, the client resets while the proxy is connecting,
 * and the client resets mid-transfer.
 */
function resetRound(ports: Targets, count: number): Promise<unknown> {
  return Promise.all([
    // The upstream resets mid-stream while sending: what reached the client is a true prefix.
    inParallel(count, 50, async () => {
      using client = await Deno.connect({ hostname: "127.0.0.1", port: ports.whileSending });
      await writeAllOrFail(client, UP.subarray(0, 1024));
      const received = await within(10_000, "the reset", readUntilGone(client));
      verified.down += assertPrefix(received, DOWN, "bytes before an upstream reset");
    }),
    // The upstream resets while reading: the client's writes fail, and nothing comes back.
    inParallel(count, 50, async () => {
      using client = await Deno.connect({ hostname: "127.0.0.1", port: ports.whileReading });
      const writing = writeAllOrFail(client, UP);
      assert.equal((await within(10_000, "the reset", readUntilGone(client))).length, 0);
      await writing;
    }),
    // The client resets while the proxy is still connecting to an upstream that never answers:
    // 250 to 450 ms after its connect, long after the accept even on a busy machine, and well
    // before the connect's 1 s timeout.
    inParallel(count, count, (i) => resettingClient(ports.blackhole, 250 + (i * 37) % 200)),
    // The client resets mid-transfer, once 32 KiB of its 256 KiB have come back.
    inParallel(count, 50, async () => {
      const head = await resetAfterReceiving(ports.mid, UP, 32 * 1024);
      verified.mid += assertPrefix(head, UP, "echo before a client reset");
    }),
  ]);
}

Deno.test("CLI survives 1,000 resets of each kind, upstream and client side, and the healthy traffic around them loses no byte", async () => {
  await using upstreams = await resettingUpstreams();
  const { whileSending, whileReading, checked } = upstreams;
  await using midEcho = startEcho();
  await using blackhole = await startBlackhole();
  await using echo = startEcho();
  await using cli = await chaosServers(echo, [
    { name: "whileSending", upstream: whileSending.address },
    { name: "whileReading", upstream: whileReading.address },
    { name: "mid", upstream: midEcho.address },
    {
      name: "blackhole",
      upstream: blackhole.address,
      // One try that hangs for 1 s; no passive ejection, so every connection really connects.
      settings: {
        connect: { tries: 1, timeout: CONNECT_MS, deadline: 3 * CONNECT_MS },
        passive: { maxFails: 0 },
      },
    },
  ], { logLevel: "debug" });
  const beforeAccept = () =>
    cli.proxy.lines.filter((line) => line.includes("left before accept")).length;
  verified.down = verified.mid = 0;
  const started = performance.now();
  const healthy = clientLoop({ hostname: "127.0.0.1", port: cli.port }, 4, 16 * 1024);

  for (let round = 0; round < ROUNDS; round++) {
    // Before accept(): with the proxy stopped, each client's handshake completes in the kernel
    // and its reset lands while the connection waits in the accept queue, so every accept()
    // meets a peer that is gone (the NotConnected race of deno-net.md, every time, not 18%).
    Deno.kill(cli.pid, "SIGSTOP");
    try {
      await inParallel(PER_ROUND, PER_ROUND, () => resettingClient(cli.port));
    } finally {
      Deno.kill(cli.pid, "SIGCONT");
    }
    // The accept loop logs each one (at debug); wait for all, so the accept queue is empty
    // before the next stop fills it again.
    const expected = (round + 1) * PER_ROUND;
    await until(
      10_000,
      `${expected} failed accepts (have ${beforeAccept()})`,
      () => beforeAccept() >= expected,
    );
    await resetRound(cli.ports as unknown as Targets, PER_ROUND);
  }
  await healthy.stop();
  const seconds = ((performance.now() - started) / 1_000).toFixed(1);
  assert.deepEqual(healthy.errors, [], "healthy connections failed among the resets");
  assert.ok(healthy.done > 100, `only ${healthy.done} healthy connections ran`);
  assert.deepEqual(checked, { ok: EACH, bad: 0 }, "bytes the upstream read before its reset");
  // A client meant to reset during the connect whose connection the proxy had not yet accepted
  // 250 ms on (a machine busy with other work) has reset before accept() instead: it is counted
  // there, and the accounting below allows for it; at least 90% must be what they were meant.
  const early = beforeAccept() - EACH;
  assert.ok(early >= 0 && early <= EACH / 10, `${beforeAccept()} resets before accept()`);

  // Descriptors exactly back, the heap after a full GC back (RSS stays higher: RSS_KEPT).
  const after = await assertRecoveredExactly(cli, { rssGrowth: RSS_KEPT });

  // Every accepted connection ends with one access log line giving its reason; the CLI drops
  // lines rather than block when its standard error falls behind, and counts them at exit.
  const lost = await stopAndCountLost(cli.proxy);
  const reports = accessReports(cli.proxy.lines);
  const healthyCount = healthy.done + 2; // and the harness's two checks
  const accepted = 4 * EACH - early + healthyCount;
  assert.equal(reports.length + lost, accepted, "access log lines, with the lost");
  // Each kind ends with its one reason; only lost lines may make a count short.
  const expect = (some: LoggedReport[], reason: string, count: number) => {
    assert.deepEqual(tally(some), { [reason]: some.length }, `expected only ${reason}`);
    assert.ok(some.length >= count - lost, `${some.length} ${reason}, expected ${count}`);
  };
  expect(to(reports, echo.address), "client_closed", healthyCount);
  expect(to(reports, whileSending.address), "upstream_reset", EACH);
  expect(to(reports, whileReading.address), "upstream_reset", EACH);
  expect(to(reports, midEcho.address), "client_reset", EACH);
  const connecting = reports.filter((report) => report.upstream === null);
  assert.ok(connecting.every(({ reason }) => CONNECT_FAILED.includes(reason)), str(connecting));
  assert.ok(
    connecting.length >= EACH - early - lost,
    `${connecting.length} reset while connecting`,
  );

  console.log(
    `CLI: ${5 * EACH} resets in ${seconds}s (${EACH} each: upstream while sending, upstream ` +
      `while reading, client before accept(), during connect, mid-transfer); ${healthy.done} ` +
      `healthy connections verified (${mib(healthy.done * 16 * 1024)} each way); prefixes ` +
      `verified: ${mib(verified.down)} before upstream resets, ${mib(verified.mid)} before ` +
      `client resets; ${early} meant for the connect came before accept(); ` +
      `${str(connecting)}; ${lost} log lines lost; ${figures(cli, after)}`,
  );
});

Deno.test("library frees every connection that ends in a reset: descriptors and heap after GC back to baseline", async () => {
  // The accept loop logs each client that reset before accept() completed, at debug: count them.
  let failedAccepts = 0;
  await configure({
    sinks: { count: () => failedAccepts++ },
    loggers: [
      { category: ["minginx", "server"], lowestLevel: "debug", sinks: ["count"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  try {
    await libraryResets(() => failedAccepts);
  } finally {
    await reset();
  }
});

async function libraryResets(failedAccepts: () => number): Promise<void> {
  await using upstreams = await resettingUpstreams();
  const { whileSending, whileReading, checked } = upstreams;
  await using midEcho = startEcho();
  await using blackhole = await startBlackhole();
  const reasons: Record<string, number> = {};
  const count: Layer<Connection, ConnectionReport> = (inner) => async (connection) => {
    const report = await inner(connection);
    reasons[report.reason] = (reasons[report.reason] ?? 0) + 1;
    return report;
  };
  // The short connect timeout is for the blackhole only: this process runs the clients, the
  // upstreams and the proxies, and is at times too busy to see a loopback connect in 1 s.
  const proxyTo = (upstream: Address, connectMs = 10_000) =>
    serve({
      listen: "127.0.0.1:0",
      drainTimeout: 0,
      service: new ServiceBuilder<Connection, ConnectionReport>()
        .layer(count)
        .layer(timeout({ connect: 3 * connectMs, idle: 0 }))
        .service(forward({
          balancer: { pick: () => [upstream] },
          connect: { tries: 1, timeout: connectMs },
        })),
    });
  await using sending = proxyTo(whileSending.address);
  await using reading = proxyTo(whileReading.address);
  await using mid = proxyTo(midEcho.address);
  await using connecting = proxyTo(blackhole.address, CONNECT_MS);
  const proxies = [sending, reading, mid, connecting];
  const ports = {
    whileSending: sending.address.port,
    whileReading: reading.address.port,
    mid: mid.address.port,
    blackhole: connecting.address.port,
  };
  const open = () => proxies.reduce((sum, proxy) => sum + proxy.connections, 0);
  const settle = () => until(10_000, `connections to end (${open()} open)`, () => open() === 0);

  // A first round warms up what is made once (compiled code, the buffer pool's free list).
  await resetRound(ports, 50);
  await settle();
  const baseline = { fds: fdCount(), heap: heapAfterGc(), failedAccepts: failedAccepts() };
  for (const key of Object.keys(reasons)) delete reasons[key];
  checked.ok = checked.bad = 0;
  verified.down = verified.mid = 0;

  const started = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    // Resets right after connecting: some land before accept() completes, the rest just after.
    await inParallel(PER_ROUND, PER_ROUND, () => resettingClient(ports.mid));
    await resetRound(ports, PER_ROUND);
  }
  await settle();
  const seconds = ((performance.now() - started) / 1_000).toFixed(1);
  assert.deepEqual(checked, { ok: EACH, bad: 0 }, "bytes the upstream read before its reset");
  // Every client is either a report or a failed accept; each kind ends with its own reasons.
  const beforeAccept = failedAccepts() - baseline.failedAccepts;
  const { client_reset = 0, upstream_reset = 0, ...connectFailed } = reasons;
  const connectFailures = Object.values(connectFailed).reduce((sum, n) => sum + n, 0);
  const all = JSON.stringify({ ...reasons, beforeAccept });
  assert.equal(client_reset + upstream_reset + connectFailures + beforeAccept, 5 * EACH, all);
  assert.equal(upstream_reset, 2 * EACH, all);
  assert.ok(Object.keys(connectFailed).every((reason) => CONNECT_FAILED.includes(reason)), all);
  assert.ok(connectFailures >= 0.9 * EACH && client_reset >= EACH, all);

  // Descriptors of this process: the proxies' and the clients' sockets, all closed again.
  const fds = await settlesTo(5_000, "descriptors", () => fdCount(), baseline.fds);
  // 5,000 connections leaking even 200 bytes each would add 1 MiB; 1 MiB is the tolerance
  // (measured: the heap after a GC comes back within 0.3 MiB of the baseline).
  const heap = heapAfterGc();
  assert.ok(
    heap - baseline.heap < 2 ** 20,
    `heap after GC ${mib(baseline.heap)} -> ${mib(heap)} after ${5 * EACH} resets`,
  );
  console.log(
    `library: ${5 * EACH} resets in ${seconds}s (${EACH} each: upstream while sending, ` +
      `upstream while reading, during connect, mid-transfer, right after connect); ${all}; ` +
      `fds ${baseline.fds} -> ${fds}, heap after GC ${mib(baseline.heap)} -> ${mib(heap)}`,
  );
}

/** Writes all of `bytes`, and resolves either way: the peer is expected to reset. */
async function writeAllOrFail(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  try {
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  } catch { /* reset */ }
}
