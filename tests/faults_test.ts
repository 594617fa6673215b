import assert from "node:assert/strict";
import {
  delay,
  drain,
  randomBytes,
  readToEnd,
  sendStream,
  sha256,
  startEcho,
  startServer,
  within,
  writeAll,
} from "./_helpers.ts";
import { finish, median, proxyWith, roundTrips } from "./_faults.ts";

Deno.test("faults() adds 100 ms ± 30 ms to a round trip with latency=100ms upstream", async () => {
  await using echo = startEcho();
  const plain = proxyWith([], echo.address);
  const slow = proxyWith([{ direction: "upstream", latency: 100 }], echo.address);
  await using _plain = plain.proxy;
  await using _slow = slow.proxy;
  using direct = await Deno.connect(plain.proxy.address);
  using delayed = await Deno.connect(slow.proxy.address);
  const baseline = median(await roundTrips(direct, 5));
  const faulted = median(await roundTrips(delayed, 5));
  const added = faulted - baseline;
  assert.ok(added >= 70 && added <= 130, `added ${added}ms over a ${baseline}ms round trip`);
  await finish(direct);
  await finish(delayed);
  assert.equal((await plain.record.next()).reason, "client_closed");
  const report = await slow.record.next();
  assert.equal(report.reason, "client_closed");
  assert.equal(report.bytesUp, 6);
  assert.equal(report.bytesDown, 6);
});

Deno.test("faults() keeps every delay within latency ± jitter over 10 round trips", async () => {
  await using echo = startEcho();
  const { proxy, record } = proxyWith(
    [{ direction: "upstream", latency: 100, jitter: 20 }],
    echo.address,
  );
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  const times = await roundTrips(client, 10);
  for (const time of times) assert.ok(time >= 79 && time <= 150, `a round trip took ${time}ms`);
  const spread = Math.max(...times) - Math.min(...times);
  assert.ok(spread >= 4, `round trips spread over ${spread}ms only: ${times.join(", ")}`);
  await finish(client);
  assert.equal((await record.next()).reason, "client_closed");
});

Deno.test("faults() carries 2 MB in about 2 s under bandwidth=1MB/s, bytes intact", async () => {
  const received = Promise.withResolvers<{ bytes: number; sha256: string; at: number }>();
  await using upstream = startServer(async (conn) => {
    const result = await drain(conn);
    received.resolve({ ...result, at: performance.now() });
  });
  const { proxy, record } = proxyWith(
    [{ direction: "upstream", bandwidth: 1_000_000 }],
    upstream.address,
  );
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  const started = performance.now();
  const sent = await sendStream(client, 2_000_000, 11, 256 * 1024);
  await client.closeWrite();
  const result = await within(6_000, "2 MB through the cap", received.promise);
  const seconds = (result.at - started) / 1_000;
  assert.ok(seconds >= 1.6 && seconds <= 2.6, `2 MB took ${seconds}s`);
  assert.equal(result.bytes, 2_000_000);
  assert.equal(result.sha256, sent);
  await within(5_000, "end of stream", readToEnd(client));
  const report = await record.next();
  assert.equal(report.reason, "client_closed");
  assert.equal(report.bytesUp, 2_000_000);
  assert.equal(upstream.accepted, 1);
});

Deno.test("faults() slices 1000 bytes into reads of at most 100 bytes, 10 ms apart", async () => {
  const reads: number[] = [];
  const received = Promise.withResolvers<{ sha256: string; at: number }>();
  await using upstream = startServer(async (conn) => {
    const buffer = new Uint8Array(64 * 1024);
    const bytes = new Uint8Array(1_000);
    let total = 0;
    while (total < bytes.length) {
      const n = await conn.read(buffer);
      if (n === null) break;
      reads.push(n);
      bytes.set(buffer.subarray(0, Math.min(n, bytes.length - total)), total);
      total += n;
    }
    received.resolve({ sha256: sha256(bytes), at: performance.now() });
    await conn.read(buffer); // until the proxy closes
  });
  const { proxy, record } = proxyWith(
    [{ direction: "upstream", slice: 100, sliceDelay: 10 }],
    upstream.address,
  );
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  const payload = randomBytes(1_000, 5);
  const started = performance.now();
  await writeAll(client, payload);
  const result = await within(5_000, "1000 sliced bytes", received.promise);
  const elapsed = result.at - started;
  assert.equal(result.sha256, sha256(payload));
  assert.equal(reads.reduce((sum, n) => sum + n, 0), 1_000);
  // Each slice is one 100-byte write; a reader that falls behind (a busy machine) may get two or
  // more in one read, but never part of one, and the 10 ms between them keeps most apart.
  assert.ok(
    reads.length >= 5 && reads.every((n) => n % 100 === 0),
    `reads of ${reads.join(", ")} bytes`,
  );
  assert.ok(elapsed >= 88 && elapsed < 1_000, `1000 bytes took ${elapsed}ms`);
  await finish(client);
  assert.equal((await record.next()).bytesUp, 1_000);
});

Deno.test("faults() black-holes upstream: nothing arrives, the downstream still works", async () => {
  let arrived = 0;
  const done = Promise.withResolvers<void>();
  await using upstream = startServer(async (conn) => {
    await writeAll(conn, new TextEncoder().encode("hello"));
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await conn.read(buffer);
        if (n === null) break;
        arrived += n;
      }
    } catch { /* closed by the proxy */ }
    done.resolve();
  });
  const { proxy, record } = proxyWith(
    [{ direction: "upstream", blackhole: true }],
    upstream.address,
  );
  await using _proxy = proxy;
  using client = await Deno.connect(proxy.address);
  await within(2_000, "the client's write", writeAll(client, randomBytes(64 * 1024, 9)));
  const hello = new Uint8Array(5);
  assert.equal(await within(2_000, "the upstream's greeting", client.read(hello)), 5);
  assert.equal(new TextDecoder().decode(hello), "hello");
  await delay(300);
  assert.equal(arrived, 0);
  assert.equal(record.reports.length, 0); // still open: only an abort ends a black hole
  await within(2_000, "shutdown", proxy.shutdown(0));
  const report = await record.next();
  assert.equal(report.reason, "shutdown");
  assert.equal(report.bytesUp, 0);
  assert.equal(report.bytesDown, 5);
  await within(2_000, "upstream's end", done.promise);
  assert.equal(arrived, 0);
});
