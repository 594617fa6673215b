/**
 * The pool on its own: tiers, passive ejection, rise and fall, slow start, and the runtime API.
 */

import { configure, type LogRecord, reset } from "@logtape/logtape";
import assert from "node:assert/strict";
import { type HealthCheck, Pool } from "../mod.ts";
import { delay, until } from "./_helpers.ts";

/** Sends the pool's log records to an array, until LogTape's `reset()`. */
async function capturePoolLogs(): Promise<LogRecord[]> {
  const records: LogRecord[] = [];
  await configure({
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["minginx", "pool"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  return records;
}

const names = (pool: Pool) => [...pool.pick()].map(({ name }) => name);

/** A health check whose result per upstream the test sets, counting the checks it ran. */
function switchableCheck(): HealthCheck & { up: Map<string, boolean>; runs: number } {
  const up = new Map<string, boolean>();
  const check = Object.assign(
    (upstream: { hostname: string; port: number }) => {
      check.runs++;
      const ok = up.get(`${upstream.hostname}:${upstream.port}`) ?? true;
      return ok ? Promise.resolve() : Promise.reject(new Error("switched off"));
    },
    { up, runs: 0 },
  );
  return check;
}

Deno.test("Pool offers the available primaries, then the backups, and a backup leads only when every primary is out", async () => {
  await using pool = new Pool({
    upstreams: ["10.0.0.1:80", { address: "10.0.0.9:80", backup: true }, "10.0.0.2:80"],
    balance: () => ({ order: (upstreams) => upstreams }),
  });
  assert.deepEqual(names(pool), ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.9:80"]);
  pool.onConnectFailure(pool.get("10.0.0.1:80")!);
  assert.deepEqual(names(pool), ["10.0.0.2:80", "10.0.0.9:80"]);
  pool.onConnectFailure(pool.get("10.0.0.2:80")!);
  assert.deepEqual(names(pool), ["10.0.0.9:80"]);
  pool.onConnectFailure(pool.get("10.0.0.9:80")!);
  // Nothing is available: rather than refuse the client, every upstream is offered in list order.
  assert.deepEqual(names(pool), ["10.0.0.1:80", "10.0.0.9:80", "10.0.0.2:80"]);
});

Deno.test("passive ejection takes an upstream out after maxFails failures in a row and brings it back after failTimeout", async () => {
  await using pool = new Pool({
    upstreams: ["10.0.0.1:80", "10.0.0.2:80"],
    maxFails: 2,
    failTimeout: 300,
  });
  const first = pool.get("10.0.0.1:80")!;
  pool.onConnectFailure(first);
  assert.equal(first.state, "up", "one failure is below maxFails");
  pool.onConnect(first, {} as never)(); // a success starts the count again
  pool.onConnectFailure(first);
  assert.equal(first.state, "up");
  pool.onConnectFailure(first);
  assert.equal(first.state, "ejected");
  assert.deepEqual(names(pool), ["10.0.0.2:80"]);
  await delay(350);
  assert.deepEqual(names(pool).toSorted(), ["10.0.0.1:80", "10.0.0.2:80"]);
  assert.equal(first.state, "up");
});

Deno.test("a passing active check ends a passive ejection before its cooldown", async () => {
  await using pool = new Pool({
    upstreams: ["10.0.0.1:80", "10.0.0.2:80"],
    failTimeout: 60_000,
    healthCheck: () => Promise.resolve(),
    health: { interval: 50 },
  });
  const first = pool.get("10.0.0.1:80")!;
  pool.onConnectFailure(first);
  assert.equal(first.state, "ejected");
  await until(1_000, "the next check to bring it back", () => first.state === "up");
});

Deno.test("rise and fall damp a flapping upstream, and each state change is logged once", async () => {
  const records = await capturePoolLogs();
  try {
    let calls = 0;
    const flapping: HealthCheck = () =>
      calls++ % 2 ? Promise.reject(new Error("down")) : Promise.resolve();
    const pool = new Pool({
      upstreams: ["10.0.0.1:80"],
      healthCheck: flapping,
      health: { interval: 10, rise: 2, fall: 2 },
    });
    const upstream = pool.upstreams[0];
    await until(2_000, "30 checks", () => calls >= 30);
    assert.equal(upstream.state, "up", "pass, fail, pass, ... never makes 2 failures in a row");
    assert.equal(records.length, 0, "no state change, so nothing logged");
    await pool.close();

    const check = switchableCheck();
    await using steady = new Pool({
      upstreams: ["10.0.0.1:80"],
      healthCheck: check,
      health: { interval: 10, rise: 3, fall: 2 },
    });
    check.up.set("10.0.0.1:80", false);
    await until(2_000, "fall", () => steady.upstreams[0].state === "down");
    const runs = check.runs;
    await until(2_000, "10 more failing checks", () => check.runs >= runs + 10);
    check.up.set("10.0.0.1:80", true);
    await until(2_000, "rise", () => steady.upstreams[0].state === "up");
    await until(2_000, "10 more passing checks", () => check.runs >= runs + 25);
    const messages = records.map((record) => record.message.join(""));
    assert.equal(messages.length, 2, messages.join("\n"));
    assert.match(
      messages[0],
      /10\.0\.0\.1:80 in pool default is down \(2 health checks failed: switched off\)/,
    );
    assert.match(messages[1], /10\.0\.0\.1:80 in pool default is up \(3 health checks passed\)/);
  } finally {
    await reset();
  }
});

Deno.test("slow start ramps a recovered upstream's weight up from 1% over the period", async () => {
  const check = switchableCheck();
  await using pool = new Pool({
    upstreams: [{ address: "10.0.0.1:80", weight: 100 }, "10.0.0.2:80"],
    healthCheck: check,
    health: { interval: 10, rise: 1, fall: 1 },
    slowStart: 1_000,
  });
  const upstream = pool.get("10.0.0.1:80")!;
  assert.equal(upstream.effectiveWeight, 100, "no slow start at startup");
  check.up.set("10.0.0.1:80", false);
  await until(2_000, "down", () => upstream.state === "down");
  check.up.set("10.0.0.1:80", true);
  await until(2_000, "up", () => upstream.state === "up");
  const early = upstream.effectiveWeight;
  assert.ok(early >= 1 && early < 50, `weight ${early} just after recovery`);
  await delay(300);
  const later = upstream.effectiveWeight;
  assert.ok(later > early && later < 100, `weight ${later} after 300 ms`);
  await delay(800);
  assert.equal(upstream.effectiveWeight, 100);
});

Deno.test("Pool.add(), setWeight() and remove() change the picks at once, and name what is wrong", async () => {
  await using pool = new Pool({ upstreams: ["10.0.0.1:80"], balance: () => ({ order: (u) => u }) });
  pool.add({ address: "10.0.0.2:80", weight: 2 });
  assert.deepEqual(names(pool), ["10.0.0.1:80", "10.0.0.2:80"]);
  pool.setWeight("10.0.0.2:80", 7);
  assert.equal(pool.get("10.0.0.2:80")?.weight, 7);
  assert.equal(pool.remove("10.0.0.1:80"), true);
  assert.equal(pool.remove("10.0.0.1:80"), false);
  assert.deepEqual(names(pool), ["10.0.0.2:80"]);
  assert.throws(() => pool.add("10.0.0.2:80"), {
    message: "Cannot add upstream 10.0.0.2:80: it is already in the pool",
  });
  assert.throws(() => pool.setWeight("10.0.0.3:80", 2), {
    message: 'Cannot re-weight upstream 10.0.0.3:80: it is not in pool "default"',
  });
  assert.throws(() => pool.setWeight("10.0.0.2:80", 0), {
    name: "RangeError",
    message: "Cannot use weight 0 for upstream 10.0.0.2:80: expected a whole number from 1 to 1000",
  });
  assert.throws(() => pool.add("10.0.0:80"), {
    message: 'Cannot parse upstream "10.0.0:80": expected HOST:PORT',
  });
});

Deno.test("an ejection that ends while health checks hold the upstream down logs nothing more", async () => {
  const records = await capturePoolLogs();
  try {
    const check = switchableCheck();
    await using pool = new Pool({
      upstreams: ["10.0.0.1:80", "10.0.0.2:80"],
      healthCheck: check,
      health: { interval: 10, fall: 1 },
      failTimeout: 100,
    });
    const upstream = pool.get("10.0.0.1:80")!;
    check.up.set("10.0.0.1:80", false);
    pool.onConnectFailure(upstream);
    await until(1_000, "down", () => upstream.state === "down");
    await delay(200);
    [...pool.pick()]; // the ejection's cooldown has passed: picking ends it
    const messages = records.map((record) => record.message.join(""));
    assert.deepEqual(messages.map((message) => message.match(/is (\w+) \(/)?.[1]), [
      "ejected",
      "down",
    ], messages.join("\n"));
  } finally {
    await reset();
  }
});
