/**
 * accessLog() and timeout() from the first release work in any order with the access, limit and
 * fault layers: bytes still arrive whole, reports still carry the right reason, every connection
 * is logged once, and the idle timeout still fires.
 */

import { configure, type LogRecord, reset } from "@logtape/logtape";
import assert from "node:assert/strict";
import {
  accessLog,
  concurrencyLimit,
  concurrencyLimitPerClient,
  type Connection,
  type ConnectionReport,
  faults,
  forward,
  ipFilter,
  type Layer,
  rateLimit,
  serve,
  ServiceBuilder,
  timeout,
} from "../mod.ts";
import { echoes } from "./_echo.ts";
import { recorder, startEcho, within } from "./_helpers.ts";

type Named = [string, () => Layer<Connection, ConnectionReport>];

const LAYERS: Named[] = [
  ["accessLog", () => accessLog()],
  ["timeout", () => timeout({ connect: 2_000, idle: 300 })],
  ["ipFilter", () => ipFilter({ rules: [{ action: "allow", cidr: "127.0.0.0/8" }] })],
  ["rateLimit", () => rateLimit({ rate: 1_000, burst: 1_000 })],
  ["concurrencyLimitPerClient", () => concurrencyLimitPerClient({ max: 100 })],
  ["concurrencyLimit", () => concurrencyLimit({ max: 100, queue: 10 })],
  // A fault that never fires on purpose: its layer is in the stack, with no hook installed.
  ["faults", () => faults([{ direction: "upstream", latency: 1_000, probability: 0 }])],
];

/** The layers in order, reversed, and with accessLog and timeout moved to the middle. */
function orders(): Named[][] {
  const forward = [...LAYERS];
  const reversed = [...LAYERS].reverse();
  const middle = [...LAYERS.slice(2, 4), LAYERS[1], LAYERS[0], ...LAYERS.slice(4)];
  return [forward, reversed, middle];
}

async function captureAccessLog<T>(run: () => Promise<T>): Promise<[T, LogRecord[]]> {
  const records: LogRecord[] = [];
  await configure({
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["minginx", "access"], lowestLevel: "info", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  try {
    return [await run(), records];
  } finally {
    await reset();
  }
}

for (const order of orders()) {
  const names = order.map(([name]) => name).join(", ");
  Deno.test(`accessLog() and timeout() keep working in the order ${names}`, async () => {
    await using echo = startEcho();
    const record = recorder();
    let builder = new ServiceBuilder().layer(record.layer);
    for (const [, make] of order) builder = builder.layer(make());
    const [, logged] = await captureAccessLog(async () => {
      await using proxy = serve({
        listen: "127.0.0.1:0",
        service: builder.service(forward({ upstreams: [echo.address] })),
      });
      // Bytes arrive whole, and the report counts them.
      {
        using client = await Deno.connect(proxy.address);
        await echoes(client, 256 * 1024, 7);
      }
      const done = await record.next();
      assert.equal(done.reason, "client_closed");
      assert.equal(done.bytesUp, 256 * 1024);
      assert.equal(done.bytesDown, 256 * 1024);
      // A quiet connection still meets the idle timeout.
      using quiet = await Deno.connect(proxy.address);
      assert.equal(await within(3_000, "idle close", quiet.read(new Uint8Array(1))), null);
      const idle = await record.next();
      assert.equal(idle.reason, "idle_timeout");
      assert.ok(idle.durationMs >= 300 && idle.durationMs < 2_000, `${idle.durationMs}ms`);
    });
    // Each connection is logged once, with the same figures as its report.
    assert.deepEqual(
      logged.map((line) => [line.properties.reason, line.properties.bytesUp]),
      [["client_closed", 256 * 1024], ["idle_timeout", 0]],
    );
  });
}
