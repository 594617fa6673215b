/**
 * Half-closed and half-open connections through the CLI: a client that half-closes and keeps
 * reading while the upstream keeps sending, an upstream that half-closes while the client keeps
 * sending, a client that stops reading and goes quiet, and idle connections that reach the idle
 * timeout while busy ones, which must not be cut, keep moving bytes across it.
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { probe } from "../_echo.ts";
import {
  delay,
  drain,
  randomBytes,
  sendStream,
  startEcho,
  startServer,
  until,
  within,
  writeAll,
} from "../_helpers.ts";
import { accessReports, stopAndCountLost, tally, to } from "./_access_log.ts";
import { readExactly, readUntilGone } from "./_attacks.ts";
import { assertRecoveredExactly, chaosServers, figures, mib } from "./_chaos_servers.ts";

const KiB = 1024;
const MiB = 1024 * KiB;
const CLIENTS = 20;

/** Writes `total` seeded bytes as `sendStream()` would, pausing `pauseMs` between chunks. */
async function pacedStream(
  conn: Deno.Conn,
  total: number,
  seed: number,
  chunk: number,
  pauseMs: number,
): Promise<string> {
  const hash = createHash("sha256");
  for (let sent = 0, i = 0; sent < total; i++) {
    const block = randomBytes(Math.min(chunk, total - sent), seed + i);
    hash.update(block);
    await writeAll(conn, block);
    sent += block.length;
    await delay(pauseMs);
  }
  return hash.digest("hex");
}

/** The SHA-256 of what `pacedStream()` or `sendStream()` sends with these arguments. */
function streamHash(total: number, seed: number, chunk: number): string {
  const hash = createHash("sha256");
  for (let sent = 0, i = 0; sent < total; i++) {
    const block = randomBytes(Math.min(chunk, total - sent), seed + i);
    hash.update(block);
    sent += block.length;
  }
  return hash.digest("hex");
}

/** A 4-byte id, which starts a client's stream so that the upstream can tell whose it is. */
function idBytes(id: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, id);
  return bytes;
}

Deno.test("CLI passes a client's half-close on and keeps forwarding the reply: 20 clients each get 4 MiB after their FIN, verified", async () => {
  // Reads the request to its end (the client's FIN), checks it, then sends a 4 MiB reply in
  // 256 KiB chunks 20 ms apart, so the reply keeps flowing for a while after the FIN.
  const requests = { ok: 0, bad: 0 };
  await using replier = startServer(async (conn) => {
    const request = await readUntilGone(conn);
    const id = new DataView(request.buffer).getUint32(0);
    const body = request.subarray(4);
    const ok = body.length === 64 * KiB &&
      createHash("sha256").update(body).digest("hex") === streamHash(64 * KiB, id, MiB);
    requests[ok ? "ok" : "bad"]++;
    await pacedStream(conn, 4 * MiB, id + 1, 256 * KiB, 20);
  });
  await using echo = startEcho();
  await using cli = await chaosServers(echo, [{ name: "replier", upstream: replier.address }]);
  const started = performance.now();
  const replies = await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
    using client = await Deno.connect({ hostname: "127.0.0.1", port: cli.ports.replier });
    const id = 1_000 * (i + 1);
    await writeAll(client, idBytes(id));
    await sendStream(client, 64 * KiB, id);
    await client.closeWrite(); // half-closed: the client still reads
    const reply = await within(20_000, "the reply", drain(client));
    assert.equal(reply.bytes, 4 * MiB);
    assert.equal(reply.sha256, streamHash(4 * MiB, id + 1, 256 * KiB));
    return reply.bytes;
  }));
  const seconds = ((performance.now() - started) / 1_000).toFixed(1);
  assert.deepEqual(requests, { ok: CLIENTS, bad: 0 }, "requests as the upstream got them");

  const after = await assertRecoveredExactly(cli);
  const lost = await stopAndCountLost(cli.proxy);
  const reports = to(accessReports(cli.proxy.lines), replier.address);
  assert.equal(reports.length + lost, CLIENTS);
  // The client finished sending first; both directions then ended cleanly, every byte counted.
  assert.deepEqual(tally(reports), { client_closed: reports.length });
  assert.ok(reports.every((r) => r.bytesUp === 64 * KiB + 4 && r.bytesDown === 4 * MiB));
  console.log(
    `${CLIENTS} half-closed clients got ${mib(replies.reduce((a, b) => a + b))} after their ` +
      `FIN in ${seconds}s, verified; ${figures(cli, after)}`,
  );
});

Deno.test("CLI passes an upstream's half-close on and keeps forwarding the client's bytes: 20 clients each send 4 MiB after the upstream's FIN, verified", async () => {
  // Sends a 64 KiB greeting and half-closes, then reads the client's stream to its end and
  // records its hash under the client's id.
  const received = new Map<number, { bytes: number; sha256: string }>();
  await using greeter = startServer(async (conn) => {
    await sendStream(conn, 64 * KiB, 7);
    await conn.closeWrite(); // half-closed: the upstream still reads
    const id = new DataView((await readExactly(conn, 4)).buffer).getUint32(0);
    received.set(id, await drain(conn));
  });
  await using echo = startEcho();
  await using cli = await chaosServers(echo, [{ name: "greeter", upstream: greeter.address }]);
  const started = performance.now();
  const sent = await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
    using client = await Deno.connect({ hostname: "127.0.0.1", port: cli.ports.greeter });
    const greeting = await within(10_000, "the greeting", drain(client));
    assert.equal(greeting.sha256, streamHash(64 * KiB, 7, MiB));
    // The upstream's FIN has arrived; now the client sends, in chunks 20 ms apart.
    const id = 1_000 * (i + 1);
    await writeAll(client, idBytes(id));
    const hash = await pacedStream(client, 4 * MiB, id, 256 * KiB, 20);
    await client.closeWrite();
    assert.equal((await within(10_000, "the close", readUntilGone(client))).length, 0);
    return { id, hash };
  }));
  const seconds = ((performance.now() - started) / 1_000).toFixed(1);
  // The proxy closes the client once both directions have ended, which may be just before the
  // upstream, in this process, has recorded what it read.
  await until(5_000, "the upstream's records", () => received.size === CLIENTS);
  for (const { id, hash } of sent) {
    assert.deepEqual(received.get(id), { bytes: 4 * MiB, sha256: hash }, `client ${id}`);
  }

  const after = await assertRecoveredExactly(cli);
  const lost = await stopAndCountLost(cli.proxy);
  const reports = to(accessReports(cli.proxy.lines), greeter.address);
  assert.equal(reports.length + lost, CLIENTS);
  assert.deepEqual(tally(reports), { upstream_closed: reports.length });
  assert.ok(reports.every((r) => r.bytesUp === 4 * MiB + 4 && r.bytesDown === 64 * KiB));
  console.log(
    `${CLIENTS} clients sent ${mib(CLIENTS * 4 * MiB)} after the upstream's FIN in ${seconds}s, ` +
      `verified by the upstream; ${figures(cli, after)}`,
  );
});

Deno.test("CLI closes with idle_timeout clients that stop reading and go quiet while the upstream still has bytes to send", async () => {
  // Sends 16 MiB to every client that says hello; its writes stall once the client stops reading.
  await using source = startServer(async (conn) => {
    await conn.read(new Uint8Array(1));
    await sendStream(conn, 16 * MiB, 3);
  });
  await using echo = startEcho();
  await using cli = await chaosServers(echo, [
    { name: "source", upstream: source.address, settings: { idleTimeout: "1s" } },
  ]);
  // Ten clients read the first 64 KiB, then neither read nor close: their sockets stay open
  // in this process until the end of the test, with the rest of the bytes piling up unread.
  const quiet = await Promise.all(Array.from({ length: 10 }, async () => {
    const client = await Deno.connect({ hostname: "127.0.0.1", port: cli.ports.source });
    await writeAll(client, new Uint8Array([1]));
    const head = await within(5_000, "the first bytes", readExactly(client, 64 * KiB));
    assert.equal(head.length, 64 * KiB);
    return { client, since: performance.now() };
  }));
  try {
    // The proxy's writes to them stall, nothing moves, and the idle timeout closes its side:
    // its descriptors come back while the clients still hold theirs.
    const after = await assertRecoveredExactly(cli, { settleMs: 5_000 });
    const waited = performance.now() - Math.max(...quiet.map(({ since }) => since));
    assert.ok(waited >= 900, `descriptors back after ${waited.toFixed(0)}ms, before the timeout`);
    const lost = await stopAndCountLost(cli.proxy);
    const reports = to(accessReports(cli.proxy.lines), source.address);
    assert.equal(reports.length + lost, 10, "access log lines, with the lost");
    assert.deepEqual(tally(reports), { idle_timeout: reports.length });
    const moved = reports.map(({ bytesDown }) => bytesDown);
    assert.ok(moved.every((bytes) => bytes >= 64 * KiB && bytes < 16 * MiB), String(moved));
    console.log(
      `10 clients stopped reading: closed with idle_timeout after ${mib(Math.min(...moved))}-` +
        `${mib(Math.max(...moved))} of 16 MiB each; ${figures(cli, after)}`,
    );
  } finally {
    for (const { client } of quiet) client.close();
  }
});

Deno.test("CLI cuts idle connections at the idle timeout while busy ones keep moving bytes across it and finish verified", async () => {
  await using echo = startEcho();
  await using cli = await chaosServers(echo, [], { healthy: { idleTimeout: "1s" } });
  const address = { hostname: "127.0.0.1", port: cli.port };
  const runMs = 3_000; // three idle timeouts

  // 50 idle: one byte each way, then nothing; each waits for the proxy to close it.
  const idle = Array.from({ length: 50 }, async () => {
    using client = await Deno.connect(address);
    await probe(client);
    const since = performance.now();
    assert.equal((await within(10_000, "the idle close", readUntilGone(client))).length, 0);
    return performance.now() - since;
  });
  // 10 busy: 16 KiB each way every 100 ms for 3 s, every echo checked, then a clean end.
  const busy = Array.from({ length: 10 }, (_, i) => echoEvery(address, 16 * KiB, 100, runMs, i));
  // 5 trickling: one byte every 500 ms, half the idle timeout; they must not be cut either.
  const trickle = Array.from({ length: 5 }, (_, i) => echoEvery(address, 1, 500, runMs, 50 + i));

  const idleFor = await Promise.all(idle);
  const moved = await Promise.all([...busy, ...trickle]);
  const [first, last] = [Math.min(...idleFor), Math.max(...idleFor)];
  // Closed between 1x and 1.2x of the timeout; a busy CI machine gets up to 5 s.
  const span = `${first.toFixed(0)}-${last.toFixed(0)}ms`;
  assert.ok(first >= 990 && last < 5_000, `idle ones closed after ${span}`);

  const after = await assertRecoveredExactly(cli);
  const lost = await stopAndCountLost(cli.proxy);
  const reports = accessReports(cli.proxy.lines);
  assert.equal(reports.length + lost, 50 + 15 + 2);
  const cut = reports.filter((report) => report.reason === "idle_timeout");
  assert.deepEqual(Object.keys(tally(reports)).sort(), ["client_closed", "idle_timeout"]);
  assert.ok(cut.every(({ bytesUp }) => bytesUp === 1), "only the idle ones are cut");
  assert.ok(cut.length >= 50 - lost, `${cut.length} idle_timeout`);
  console.log(
    `50 idle connections cut after ${span}; 15 busy ones ran ` +
      `${runMs / 1_000}s and moved ${mib(moved.reduce((a, b) => a + b))} each way, verified; ` +
      figures(cli, after),
  );
});

/**
 * A client that sends `size` seeded bytes every `everyMs` for `forMs`, reads each echo back and
 * checks it, then half-closes and waits for the clean end; returns the bytes it moved each way.
 */
async function echoEvery(
  address: { hostname: string; port: number },
  size: number,
  everyMs: number,
  forMs: number,
  seed: number,
): Promise<number> {
  using client = await Deno.connect(address);
  const until = performance.now() + forMs;
  let moved = 0;
  for (let i = 0; performance.now() < until; i++) {
    const block = randomBytes(size, seed * 1_000 + i);
    await writeAll(client, block);
    const back = await within(5_000, "the echo", readExactly(client, size));
    assert.deepEqual(back, block, `echo ${i} of client ${seed}`);
    moved += size;
    await delay(everyMs);
  }
  await client.closeWrite();
  assert.equal((await within(5_000, "the clean end", readUntilGone(client))).length, 0);
  return moved;
}
