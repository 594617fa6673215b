/**
 * discover() and Pool.update() in-process: a failing source keeps its last set and is asked
 * again; an empty set is refused; drains by discovery and by an operator stay apart.
 */

import assert from "node:assert/strict";
import { discover, type DiscoveredUpstream, type Discovery, Pool } from "../mod.ts";
import { until } from "./_helpers.ts";

const names = (pool: Pool) => pool.upstreams.map(({ name }) => `${name}:${pool.get(name)!.state}`);

Deno.test("discover() keeps the last good set when a source throws or finds nothing, and asks it again after the retry delay", async () => {
  const answers: (readonly DiscoveredUpstream[] | Error)[] = [
    ["10.0.0.1:80"],
    new Error("registry down"),
    [],
    ["10.0.0.1:80", "10.0.0.2:80"],
  ];
  let asked = 0;
  const source: Discovery = {
    async *[Symbol.asyncIterator]() {
      while (asked < answers.length) {
        const answer = answers[asked++];
        if (answer instanceof Error) throw answer;
        yield answer;
      }
    },
  };
  await using pool = new Pool({ upstreams: ["10.0.0.9:80"] });
  await using discovered = discover(pool, {
    sources: { registry: source },
    upstreams: ["10.0.0.9:80"],
    retry: 10,
  });
  await until(2_000, "every answer", () => discovered.sources[0].updates === 2);
  assert.deepEqual(names(pool), ["10.0.0.9:80:up", "10.0.0.1:80:up", "10.0.0.2:80:up"]);
  const [state] = discovered.sources;
  assert.deepEqual([state.upstreams, state.updates, state.failures], [2, 2, 2]);
  assert.equal(state.lastError, undefined, "a good set clears the last error");
});

Deno.test("Pool.update() takes back an upstream that returns before it has left, and leaves one an operator drained drained", async () => {
  await using pool = new Pool({ upstreams: ["10.0.0.1:80", "10.0.0.2:80"] });
  const held = { abort() {} } as never;
  pool.onConnect(pool.get("10.0.0.1:80")!, held); // an open connection keeps it listed
  assert.deepEqual(pool.update(["10.0.0.2:80"]).removed, ["10.0.0.1:80"]);
  assert.deepEqual(names(pool), ["10.0.0.1:80:draining", "10.0.0.2:80:up"]);
  pool.update(["10.0.0.1:80", "10.0.0.2:80"]);
  assert.deepEqual(names(pool), ["10.0.0.1:80:up", "10.0.0.2:80:up"]);
  await pool.drain("10.0.0.2:80", { keep: true });
  const changes = pool.update(["10.0.0.1:80", { address: "10.0.0.2:80", weight: 5 }]);
  assert.deepEqual(changes, { added: [], removed: [], changed: ["10.0.0.2:80"] });
  assert.deepEqual(names(pool), ["10.0.0.1:80:up", "10.0.0.2:80:draining"]);
  assert.equal(pool.get("10.0.0.2:80")!.weight, 5);
});
