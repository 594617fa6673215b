import assert from "node:assert/strict";
import { concurrencyLimit } from "../mod.ts";
import { echoes, probe } from "./_echo.ts";
import { delay, readToEnd, recordedProxy, startEcho, within } from "./_helpers.ts";

/** Waits until `condition` holds, for at most 2 s. */
function until(what: string, condition: () => boolean): Promise<void> {
  return within(
    2_000,
    what,
    (async () => {
      while (!condition()) await delay(5);
    })(),
  );
}

// End to end, with real sockets and an echo upstream.

Deno.test("concurrencyLimit() max 1 closes a second client with over_limit while the first echoes", async () => {
  await using echo = startEcho();
  const { proxy, record } = recordedProxy([echo.address], [concurrencyLimit({ max: 1 })]);
  await using _proxy = proxy;
  using first = await Deno.connect(proxy.address);
  await probe(first);
  using second = await Deno.connect(proxy.address);
  assert.equal((await within(2_000, "the second's close", readToEnd(second))).length, 0);
  const rejected = await record.next();
  assert.equal(rejected.reason, "over_limit");
  assert.equal(rejected.error, "1 connection is open, the most allowed");
  assert.equal(rejected.upstream, null);
  await echoes(first, 1024 * 1024, 7);
  assert.equal((await record.next()).reason, "client_closed");
  assert.equal(echo.accepted, 1);
});

Deno.test("concurrencyLimit() max 1 queue 1 serves a waiting client once the first closes", async () => {
  await using echo = startEcho();
  const limit = concurrencyLimit({ max: 1, queue: 1 });
  const { proxy, record } = recordedProxy([echo.address], [limit]);
  await using _proxy = proxy;
  using first = await Deno.connect(proxy.address);
  await probe(first);
  using second = await Deno.connect(proxy.address);
  const secondEchoes = echoes(second, 256 * 1024, 11);
  await until("the second client queued", () => limit.queued === 1);
  await delay(50);
  assert.equal(echo.accepted, 1);
  assert.equal(record.reports.length, 0);
  await echoes(first, 256 * 1024, 3);
  await secondEchoes;
  const reports = [await record.next(), await record.next()];
  assert.deepEqual(reports.map((r) => r.reason), ["client_closed", "client_closed"]);
  assert.equal(reports[1].bytesUp, 256 * 1024);
  assert.equal(echo.accepted, 2);
  assert.equal(limit.open, 0);
});

Deno.test("concurrencyLimit() ends a client waiting in the queue with shutdown when the proxy stops", async () => {
  await using echo = startEcho();
  const limit = concurrencyLimit({ max: 1, queue: 1, queueTimeout: 0 });
  const { proxy, record } = recordedProxy([echo.address], [limit]);
  await using _proxy = proxy;
  using first = await Deno.connect(proxy.address);
  await probe(first);
  using second = await Deno.connect(proxy.address);
  await until("the second client queued", () => limit.queued === 1);
  await within(2_000, "the shutdown", proxy.shutdown(0));
  const reports = [await record.next(), await record.next()];
  assert.deepEqual(reports.map((r) => r.reason), ["shutdown", "shutdown"]);
  assert.equal(echo.accepted, 1);
  assert.equal(limit.open, 0);
  assert.equal(limit.queued, 0);
  assert.equal((await readToEnd(second)).length, 0);
});
