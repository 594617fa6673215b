/**
 * Connection churn: 20,000 short connections back to back, each echoing bytes checked by hash,
 * then the proxy's descriptors and heap back to their baseline. Once through the CLI in a child
 * process (its descriptors, its heap after a full GC, its RSS), once through the library in this
 * process (this process's descriptors, and its heap after a full GC).
 */

import assert from "node:assert/strict";
import { serve } from "../../mod.ts";
import { echoes } from "../_echo.ts";
import { startEcho, until } from "../_helpers.ts";
import { fdCount, heapAfterGc, settlesTo } from "./_harness.ts";
import { accessReports, stopAndCountLost, tally } from "./_access_log.ts";
import { inParallel } from "./_attacks.ts";
import { assertRecoveredExactly, chaosServers, figures, mib, RSS_KEPT } from "./_chaos_servers.ts";

const CONNECTIONS = 20_000;
const PARALLEL = 8;
const SIZE = 1_024;

/** `count` connections to `port`, `PARALLEL` at a time, each echoing `SIZE` checked bytes. */
async function churn(port: number, count: number, seed: number): Promise<number> {
  let verified = 0;
  await inParallel(count, PARALLEL, async (i) => {
    using client = await Deno.connect({ hostname: "127.0.0.1", port });
    await echoes(client, SIZE, seed + i);
    verified++;
  });
  return verified;
}

Deno.test("CLI comes back to its baseline descriptors and heap after 20,000 short connections", async () => {
  await using echo = startEcho();
  await using cli = await chaosServers(echo, []);
  const started = performance.now();
  const verified = await churn(cli.port, CONNECTIONS, 1);
  const seconds = (performance.now() - started) / 1_000;
  assert.equal(verified, CONNECTIONS);

  // The RSS keeps what V8 and the allocator grew into (RSS_KEPT says how much and why).
  const after = await assertRecoveredExactly(cli, { rssGrowth: RSS_KEPT });
  const lost = await stopAndCountLost(cli.proxy);
  const reports = accessReports(cli.proxy.lines);
  assert.equal(reports.length + lost, CONNECTIONS + 2, "access log lines, with the lost");
  assert.deepEqual(tally(reports), { client_closed: reports.length });
  assert.ok(reports.every(({ bytesUp, bytesDown }) => bytesUp === bytesDown));
  console.log(
    `CLI: ${CONNECTIONS} connections in ${seconds.toFixed(1)}s ` +
      `(${(CONNECTIONS / seconds).toFixed(0)}/s, ${PARALLEL} at a time), ${
        mib(CONNECTIONS * SIZE)
      } ` +
      `each way verified; ${lost} log lines lost; ${figures(cli, after)}`,
  );
});

Deno.test("library comes back to its baseline descriptors and heap after 20,000 short connections", async () => {
  await using echo = startEcho();
  // The default stack (access log, timeouts, forward over a pool), logging nowhere.
  await using proxy = serve({ listen: "127.0.0.1:0", upstreams: [echo.address], drainTimeout: 0 });
  const { port } = proxy.address;
  const settled = () =>
    until(10_000, `connections to end (${proxy.connections} open)`, () => proxy.connections === 0);
  // A first 1,000 warm up what is made once: compiled code, the buffer pool's free list.
  await churn(port, 1_000, 1_000_000);
  await settled();
  const baseline = { fds: fdCount(), heap: heapAfterGc() };

  const started = performance.now();
  const verified = await churn(port, CONNECTIONS, 1);
  const seconds = (performance.now() - started) / 1_000;
  await settled();
  assert.equal(verified, CONNECTIONS);
  assert.equal(proxy.accepted, 1_000 + CONNECTIONS);

  // This process holds both ends of every connection, and the echo's: all closed again.
  const fds = await settlesTo(5_000, "descriptors", () => fdCount(), baseline.fds);
  // 20,000 connections leaking even 50 bytes each would add 1 MiB, the tolerance (measured:
  // the heap after a GC comes back within 0.1 MiB).
  const heap = heapAfterGc();
  assert.ok(
    heap - baseline.heap < 2 ** 20,
    `heap after GC ${mib(baseline.heap)} -> ${mib(heap)} after ${CONNECTIONS} connections`,
  );
  console.log(
    `library: ${CONNECTIONS} connections in ${seconds.toFixed(1)}s ` +
      `(${(CONNECTIONS / seconds).toFixed(0)}/s), verified; fds ${baseline.fds} -> ${fds}, ` +
      `heap after GC ${mib(baseline.heap)} -> ${mib(heap)}`,
  );
});
