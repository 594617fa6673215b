/** The resets of resets_test.ts, through the library in this process: its heap is read after GC. */

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
import { startBlackhole, startEcho, until } from "../_helpers.ts";
import { fdCount, heapAfterGc, settlesTo } from "./_harness.ts";
import { inParallel, resettingClient } from "./_attacks.ts";
import { mib } from "./_chaos_servers.ts";
import {
  CONNECT_FAILED,
  CONNECT_MS,
  EACH,
  PER_ROUND,
  resetRound,
  resettingUpstreams,
  ROUNDS,
  verified,
} from "./_resets.ts";

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
