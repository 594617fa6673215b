import assert from "node:assert/strict";
import {
  type Connection,
  type ConnectionReport,
  parseRate,
  rateLimit,
  RateLimitedError,
  type RateLimitOptions,
} from "../mod.ts";
import { fakeConnection, manyClients, mockService } from "./_mock.ts";
import {
  drain,
  randomBytes,
  recordedProxy,
  sha256,
  startEcho,
  within,
  writeAll,
} from "./_helpers.ts";

/** A rate limited stack around a recording mock, on an injected clock. */
function limited(options: Omit<RateLimitOptions, "now">) {
  const clock = { ms: 0 };
  const inner = mockService();
  const service = rateLimit({ ...options, now: () => clock.ms })(inner.service);
  /** Sends a connection from each client in turn: `ok` if let through, else its close reason. */
  const outcomes = async (...clients: string[]) => {
    const seen: string[] = [];
    for (const client of clients) {
      const { reason } = await service(fakeConnection(client));
      seen.push(reason === "client_closed" ? "ok" : reason);
    }
    return seen.join(" ");
  };
  return { clock, inner, service, outcomes };
}

/** The message of a {@linkcode RateLimitedError}. */
function over(client: string, rate: string, burst: number): string {
  return `Client ${client} opened connections faster than ${rate} with a burst of ${burst}`;
}
Deno.test("parseRate() accepts COUNT/s and COUNT/m as connections per second", () => {
  const rates = ["20/s", "2.5/s", "600/m", "1/m", "0.5/s"].map((text) => parseRate(text));
  assert.deepEqual(rates, [20, 2.5, 10, 1 / 60, 0.5]);
});

Deno.test("parseRate() rejects anything else with what it expects", () => {
  for (const text of ["20/x", "20", "/s", "-1/s", "20 /s", "1e3/s", "20/S", "20r/s", ""]) {
    assert.throws(() => parseRate(text), {
      name: "TypeError",
      message: `Cannot parse --rate-limit "${text}": expected COUNT/s or COUNT/m, such as 20/s`,
    });
  }
  assert.throws(() => parseRate("0/s"), {
    name: "TypeError",
    message: 'Cannot parse --rate-limit "0/s": expected a COUNT above 0, such as 20/s',
  });
  assert.throws(() => parseRate("0.0/m", "rate"), {
    message: 'Cannot parse rate "0.0/m": expected a COUNT above 0, such as 20/s',
  });
});

Deno.test("rateLimit() lets a burst through and closes the next with rate_limited", async () => {
  const { inner, service } = limited({ rate: 20, burst: 3 });
  const reports: ConnectionReport[] = [];
  for (let id = 1; id <= 4; id++) reports.push(await service(fakeConnection("10.0.0.1", id)));
  assert.deepEqual(inner.calls.map((connection) => connection.id), [1, 2, 3]);
  const refused = reports.pop()!;
  assert.deepEqual(reports.map((report) => report.reason), Array(3).fill("client_closed"));
  assert.equal(refused.reason, "rate_limited");
  assert.equal(refused.error, over("10.0.0.1", "20/s", 3));
  assert.equal(refused.upstream, null);
  assert.equal(refused.bytesUp + refused.bytesDown, 0);
});

Deno.test("rateLimit() lets one more through after 1/rate seconds", async () => {
  const { clock, inner, outcomes } = limited({ rate: 2, burst: 2 });
  const client = "10.0.0.1";
  assert.equal(await outcomes(client, client, client), "ok ok rate_limited");
  clock.ms = 499;
  assert.equal(await outcomes(client), "rate_limited");
  clock.ms = 500;
  assert.equal(await outcomes(client, client), "ok rate_limited");
  assert.equal(inner.calls.length, 3);
});

Deno.test("rateLimit() gives two clients separate buckets", async () => {
  const { inner, outcomes } = limited({ rate: 1, burst: 1 });
  assert.equal(await outcomes("10.0.0.1", "10.0.0.2", "2001:db8::1"), "ok ok ok");
  // Each is refused on its own second try; 2001:DB8:0::1 is 2001:db8::1 written another way.
  const again = await outcomes("10.0.0.1", "10.0.0.2", "2001:DB8:0::1");
  assert.equal(again, "rate_limited rate_limited rate_limited");
  assert.equal(inner.calls.length, 3);
});

Deno.test("rateLimit() counts an IPv4-mapped client and its plain IPv4 in one bucket", async () => {
  const { inner, service, outcomes } = limited({ rate: 1, burst: 1 });
  assert.equal(await outcomes("::ffff:10.0.0.1"), "ok");
  const report = await service(fakeConnection("10.0.0.1"));
  assert.equal(report.reason, "rate_limited");
  assert.equal(report.error, over("10.0.0.1", "1/s", 1));
  assert.equal(inner.calls.length, 1);
});

/** An inner service that only counts: the recording mock would keep 100k connections alive. */
function counting() {
  const inner = {
    passed: 0,
    service: (connection: Connection) => {
      inner.passed++;
      return Promise.resolve(connection.end());
    },
  };
  return inner;
}

// The heap is measured after a full garbage collection, which `deno task test` exposes with
// --v8-flags=--expose-gc: without it the figure would count 100k dead connections too.
const gc = (globalThis as { gc?: () => void }).gc;

Deno.test({
  name: "rateLimit() stays within bounded memory over 100k distinct client addresses" +
    (gc ? "" : " (needs --v8-flags=--expose-gc to measure the heap)"),
  ignore: gc === undefined,
}, async () => {
  let clock = 0;
  const inner = counting();
  const service = rateLimit({ rate: 1, burst: 1, now: () => clock })(inner.service);
  gc?.();
  const before = Deno.memoryUsage().heapUsed;
  for (let i = 0; i < 100_000; i++) await service(fakeConnection(manyClients(i), i + 1));
  gc?.();
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.equal(inner.passed, 100_000); // every new address starts with a full bucket
  // About 100 bytes a remembered address; 100k of them stay well under 32 MiB.
  assert.ok(grown < 32 * 1024 * 1024, `heap grew ${(grown / 1024 / 1024).toFixed(1)} MiB`);
  assert.equal((await service(fakeConnection(manyClients(0)))).reason, "rate_limited");
  clock = 1_000; // every bucket has refilled
  assert.equal((await service(fakeConnection(manyClients(0)))).reason, "client_closed");
  assert.equal(inner.passed, 100_001);
});

Deno.test("rateLimit() forgets the clients seen least recently past maxClients", async () => {
  const inner = counting();
  const limit = rateLimit({ rate: 1, burst: 1, maxClients: 10_000, now: () => 0 });
  const service = limit(inner.service);
  for (let i = 0; i < 100_000; i++) await service(fakeConnection(manyClients(i), i + 1));
  assert.equal(inner.passed, 100_000);
  // The first addresses were evicted to stay within maxClients: they get a full burst again.
  assert.equal((await service(fakeConnection(manyClients(0)))).reason, "client_closed");
  // The last ones are still remembered, with an empty bucket.
  assert.equal((await service(fakeConnection(manyClients(99_999)))).reason, "rate_limited");
  assert.equal((await service(fakeConnection(manyClients(90_001)))).reason, "rate_limited");
  // manyClients(0) came back as the newest and evicted manyClients(90_000), the oldest then.
  assert.equal((await service(fakeConnection(manyClients(90_000)))).reason, "client_closed");
  assert.equal(inner.passed, 100_002);
});

Deno.test("rateLimit() rejects options it cannot use", () => {
  assert.throws(() => rateLimit({ rate: 0 }), {
    name: "RangeError",
    message: "Cannot use rate 0: expected a finite number of tokens per second above 0",
  });
  assert.throws(() => rateLimit({ rate: 1, burst: 0 }), { name: "RangeError" });
  assert.throws(() => rateLimit({ rate: 1, maxClients: 0.5 }), {
    name: "RangeError",
    message: "Cannot use maxClients 0.5: expected a whole number from 1 to 16777216",
  });
});

Deno.test("RateLimitedError names the client, the rate and the burst", () => {
  const error = new RateLimitedError("::1", 1 / 60, 1);
  assert.equal(error.name, "RateLimitedError");
  assert.equal(error.reason, "rate_limited");
  assert.equal(error.message, "Client ::1 opened connections faster than 1/m with a burst of 1");
});

Deno.test("rateLimit() closes a client over its burst with rate_limited before any upstream", async () => {
  await using echo = startEcho();
  const { proxy, record } = recordedProxy([echo.address], [rateLimit({ rate: 1, burst: 2 })]);
  await using _proxy = proxy;
  // Three connections in quick succession: well within a second, so no token comes back.
  using first = await Deno.connect(proxy.address);
  using second = await Deno.connect(proxy.address);
  using third = await Deno.connect(proxy.address);
  assert.equal((await within(5_000, "third closed", drain(third))).bytes, 0);
  const refused = await record.next();
  assert.equal(refused.reason, "rate_limited");
  assert.equal(refused.upstream, null);
  assert.equal(refused.error, over("127.0.0.1", "1/s", 2));

  for (const [client, seed] of [[first, 1], [second, 2]] as const) {
    const bytes = randomBytes(256 * 1024, seed);
    const echoed = drain(client);
    await writeAll(client, bytes);
    await client.closeWrite();
    const expected = { bytes: bytes.length, sha256: sha256(bytes) };
    assert.deepEqual(await within(5_000, "echo", echoed), expected);
  }
  for (const report of [await record.next(), await record.next()]) {
    assert.equal(report.reason, "client_closed");
    assert.equal(report.bytesUp, 256 * 1024);
  }
  assert.equal(echo.accepted, 2);
});
