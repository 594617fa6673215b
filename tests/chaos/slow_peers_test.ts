/**
 * Slow peers against the CLI: slowloris clients that connect and never send, clients that read
 * one byte a second, and an upstream that accepts and never reads, against which backpressure
 * must hold: the proxy must not buffer what the client pushes.
 */

import assert from "node:assert/strict";
import { delay, randomBytes, sendStream, sha256, startEcho, within } from "../_helpers.ts";
import { assertServes, rssBytes } from "./_harness.ts";
import { accessReports, type LoggedReport, stopAndCountLost, tally, to } from "./_access_log.ts";
import { pacedClients, readUntilGone, sampler, stalledUpstream } from "./_attacks.ts";
import { assertRecoveredExactly, chaosServers, figures, mib } from "./_chaos_servers.ts";

const MiB = 1024 * 1024;

Deno.test("CLI closes 200 slowloris clients with idle_timeout after 1s while healthy clients are served", async () => {
  await using echo = startEcho();
  await using cli = await chaosServers(echo, [], { healthy: { idleTimeout: "1s" } });
  const healthy = pacedClients(cli.port, 2, 16 * 1024, 10);
  // 200 clients connect and never send a byte: each waits for the proxy to close it.
  const closedAfter = await Promise.all(Array.from({ length: 200 }, async () => {
    using client = await Deno.connect({ hostname: "127.0.0.1", port: cli.port });
    const connected = performance.now();
    assert.equal((await within(10_000, "the idle close", readUntilGone(client))).length, 0);
    return performance.now() - connected;
  }));
  await healthy.stop();
  assert.deepEqual(healthy.errors, [], "healthy connections failed among the slowloris clients");
  assert.ok(healthy.done > 20, `only ${healthy.done} healthy connections ran`);
  // The idle clock starts once the upstream is connected, after the client's connect: none may
  // close sooner than 1 s; the check runs every 100 ms (so 1.2 s), and a busy CI machine gets
  // up to 5 s.
  const [first, last] = [Math.min(...closedAfter), Math.max(...closedAfter)];
  assert.ok(first >= 990 && last < 5_000, `closed after ${first.toFixed(0)}-${last.toFixed(0)}ms`);

  const after = await assertRecoveredExactly(cli);
  const lost = await stopAndCountLost(cli.proxy);
  const reports = accessReports(cli.proxy.lines);
  const idle = reports.filter((report) => report.reason === "idle_timeout");
  // One line a connection (the CLI counts any it had to drop): the slowloris clients idle,
  // having moved nothing, and every healthy one closed by its client.
  assert.equal(reports.length + lost, 200 + healthy.done + 2, "access log lines, with the lost");
  assert.deepEqual(Object.keys(tally(reports)).sort(), ["client_closed", "idle_timeout"]);
  assert.ok(idle.length >= 200 - lost, `${idle.length} idle_timeout`);
  assert.ok(idle.every(({ bytesUp, bytesDown }) => bytesUp + bytesDown === 0));
  console.log(
    `200 slowloris clients closed after ${first.toFixed(0)}-${last.toFixed(0)}ms; ` +
      `${healthy.done} healthy connections verified meanwhile; ${figures(cli, after)}`,
  );
});

Deno.test("CLI serves other clients while 4 clients read one byte a second, and the slow ones get every byte", async () => {
  await using echo = startEcho();
  await using cli = await chaosServers(echo, []);
  const healthy = pacedClients(cli.port, 2, 16 * 1024, 20);
  const slowSeconds = 4;
  const size = MiB;
  const doneBefore: number[] = [];
  const slow = await Promise.all(Array.from({ length: 4 }, async (_, i) => {
    using client = await Deno.connect({ hostname: "127.0.0.1", port: cli.port });
    // Sends 1 MiB to the echo in the background: it stalls once the buffers on the way back
    // are full, since this client reads one byte a second.
    const sending = sendStream(client, size, 100 + i).then(async (hash) => {
      await client.closeWrite();
      return hash;
    });
    const head = new Uint8Array(slowSeconds);
    for (let second = 0; second < slowSeconds; second++) {
      assert.equal(
        await within(5_000, "one byte", client.read(head.subarray(second, second + 1))),
        1,
      );
      await delay(1_000);
    }
    doneBefore[i] = healthy.done;
    // Then it reads the rest at full speed, and checks the whole stream.
    const rest = await within(10_000, "the rest", readUntilGone(client));
    const received = new Uint8Array(slowSeconds + rest.length);
    received.set(head);
    received.set(rest, slowSeconds);
    assert.equal(received.length, size);
    assert.equal(sha256(received), await sending);
    return received.length;
  }));
  await healthy.stop();
  assert.deepEqual(healthy.errors, [], "healthy connections failed among the slow readers");
  // Others were served while the slow readers dawdled: well over a connection a second.
  assert.ok(Math.min(...doneBefore) > 4 * slowSeconds, `only ${doneBefore} served meanwhile`);
  const after = await assertRecoveredExactly(cli);
  const lost = await stopAndCountLost(cli.proxy);
  const reports = accessReports(cli.proxy.lines);
  assert.equal(reports.length + lost, healthy.done + 2 + slow.length);
  assert.deepEqual(Object.keys(tally(reports)), ["client_closed"]);
  console.log(
    `4 clients read 1 byte/s for ${slowSeconds}s, then ${mib(slow.reduce((a, b) => a + b))} ` +
      `verified; ${healthy.done} healthy connections verified meanwhile; ` +
      figures(cli, after),
  );
});

Deno.test("CLI holds backpressure against an upstream that never reads: RSS grows by less than 32 MiB while a client offers 1 GiB", async () => {
  await using stalled = stalledUpstream();
  await using echo = startEcho();
  await using cli = await chaosServers(echo, [{ name: "stalled", upstream: stalled.address }]);
  // Warm the proxy up on the healthy server, then take the RSS the push is measured against.
  for (let i = 0; i < 20; i++) await assertServes(cli.port, i);
  const before = rssBytes(cli.pid);
  const rss = sampler(() => rssBytes(cli.pid), 50);

  using client = await Deno.connect({ hostname: "127.0.0.1", port: cli.ports.stalled });
  const offered = 1024 * MiB;
  const chunk = randomBytes(MiB, 5);
  let accepted = 0;
  let pending: Promise<unknown> = Promise.resolve();
  const started = performance.now();
  // Push until 1 GiB is offered or a write makes no progress for 2 s: the buffers on the way
  // (this socket's send buffer, the proxy's receive buffer, its one read buffer and its send
  // buffer, the upstream's receive buffer) are then full, and the proxy has stopped reading.
  // Measured: the kernel and the proxy accept 8-11 MiB of the 1 GiB before the writes stall.
  while (accepted < offered) {
    const write = client.write(chunk);
    pending = write.catch(() => 0);
    const n = await settledWithin(2_000, write);
    if (n === undefined) break;
    accepted += n;
  }
  const pushMs = performance.now() - started - 2_000;
  // The proxy still serves others while this connection is stuck.
  for (let i = 0; i < 5; i++) await assertServes(cli.port, 100 + i);
  const samples = await rss.stop();
  const growth = Math.max(...samples) - before;
  assert.ok(accepted < 64 * MiB, `${mib(accepted)} accepted into a path that does not move`);
  assert.ok(
    growth < 32 * MiB,
    `RSS grew by ${mib(growth)} (${mib(before)} -> ${mib(Math.max(...samples))}) while ` +
      `${mib(accepted)} were accepted`,
  );

  // The upstream gives up: the stuck write fails, and the proxy closes both sides.
  stalled.release();
  assert.equal((await within(5_000, "the close", readUntilGone(client))).length, 0);
  client.close();
  await pending;
  const after = await assertRecoveredExactly(cli);
  const lost = await stopAndCountLost(cli.proxy);
  const reports = to(accessReports(cli.proxy.lines), stalled.address);
  assert.equal(reports.length + lost, 1);
  assertStuckEnded(reports, accepted);
  console.log(
    `1 GiB offered to an upstream that never reads: ${mib(accepted)} accepted in ` +
      `${(pushMs / 1_000).toFixed(2)}s, then the writes stalled; proxy RSS ${mib(before)} -> ` +
      `${mib(Math.max(...samples))} at most (+${mib(growth)}); ${figures(cli, after)}`,
  );
});

/** The stuck connection ended with the upstream's reset, having forwarded less than it took. */
function assertStuckEnded(reports: LoggedReport[], accepted: number): void {
  if (reports.length === 0) return; // its line was lost, and counted
  const [report] = reports;
  assert.equal(report.reason, "upstream_reset", JSON.stringify(report));
  assert.ok(report.bytesUp <= accepted, `${report.bytesUp} bytes up of ${accepted} accepted`);
}

/** Resolves with what `promise` resolves to, or with `undefined` if that takes over `ms`. */
async function settledWithin<T>(ms: number, promise: Promise<T>): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<undefined>((resolve) => timer = setTimeout(() => resolve(undefined), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
