import assert from "node:assert/strict";
import {
  type Algorithm,
  type AlgorithmFactory,
  first,
  hash,
  leastConn,
  p2c,
  random,
  roundRobin,
  Upstream,
} from "../mod.ts";
import { fakeConnection, manyClients } from "./_mock.ts";

/** Upstreams named 10.0.0.1:80, 10.0.0.2:80, ... with the given weights. */
function upstreamsWeighted(...weights: number[]): Upstream[] {
  return weights.map((weight, i) => new Upstream({ address: `10.0.0.${i + 1}:80`, weight }));
}

/** Opens `count` fake connections to `upstream`: the algorithms only count them. */
function open(upstream: Upstream, count: number): void {
  for (let i = 0; i < count; i++) upstream.connections.add(fakeConnection("192.0.2.1", i));
}

/** How many of `picks` first choices went to each upstream, in the list's order. */
function tally(algorithm: Algorithm, upstreams: Upstream[], picks: number): number[] {
  const counts = upstreams.map(() => 0);
  for (let i = 0; i < picks; i++) {
    const [pick] = algorithm.order(upstreams);
    counts[upstreams.indexOf(pick)]++;
  }
  return counts;
}

/** Which upstream each of `clients` client addresses is sent to first. */
function mapClients(algorithm: Algorithm, upstreams: Upstream[], clients: number): string[] {
  return Array.from({ length: clients }, (_, i) => {
    const [pick] = algorithm.order(upstreams, fakeConnection(manyClients(i)));
    return pick.name;
  });
}

const factories: Record<string, AlgorithmFactory> = {
  roundRobin,
  leastConn,
  p2c,
  random,
  first,
  hash,
};

for (const [name, factory] of Object.entries(factories)) {
  Deno.test(`${name}() yields every upstream exactly once, so failover can reach them all`, () => {
    const upstreams = upstreamsWeighted(5, 1, 2, 1, 3);
    open(upstreams[2], 4);
    open(upstreams[4], 1);
    const algorithm = factory();
    for (let i = 0; i < 200; i++) {
      const order = [...algorithm.order(upstreams, fakeConnection(manyClients(i)))];
      assert.equal(order.length, upstreams.length);
      assert.equal(new Set(order).size, upstreams.length);
    }
    assert.deepEqual([...factory().order(upstreams.slice(0, 1))], upstreams.slice(0, 1));
  });
}

Deno.test("roundRobin() spreads weights 5:1:1 as a a b a c a a and gives exactly 5000/1000/1000 of 7000", () => {
  const upstreams = upstreamsWeighted(5, 1, 1);
  const algorithm = roundRobin();
  const letters = Array.from({ length: 7 }, () => {
    const [pick] = algorithm.order(upstreams);
    return "abc"[upstreams.indexOf(pick)];
  });
  assert.equal(letters.join(" "), "a a b a c a a");
  assert.deepEqual(tally(roundRobin(), upstreams, 7_000), [5_000, 1_000, 1_000]);
});

Deno.test("leastConn() sends the next connection to the upstream with the fewest connections per weight", () => {
  // Loads (active + 1) / weight: 5/1 = 5, 3/2 = 1.5, 9/4 = 2.25.
  const upstreams = upstreamsWeighted(1, 2, 4);
  open(upstreams[0], 4);
  open(upstreams[1], 2);
  open(upstreams[2], 8);
  const algorithm = leastConn();
  for (let i = 0; i < 10; i++) {
    assert.deepEqual([...algorithm.order(upstreams)], [upstreams[1], upstreams[2], upstreams[0]]);
  }
});

Deno.test("leastConn() fills idle upstreams in proportion to their weights as connections open", () => {
  // Each pick stays open, as under sustained load: weights 3:1 end up holding 300 and 100.
  const upstreams = upstreamsWeighted(3, 1);
  const algorithm = leastConn();
  for (let i = 0; i < 400; i++) {
    const [pick] = algorithm.order(upstreams);
    open(pick, 1);
  }
  assert.deepEqual(upstreams.map(({ active }) => active), [300, 100]);
});

Deno.test("leastConn() rotates ties fairly: 3 idle upstreams get exactly 100 of 300 picks each", () => {
  const upstreams = upstreamsWeighted(1, 1, 1);
  assert.deepEqual(tally(leastConn(), upstreams, 300), [100, 100, 100]);
  // A tie between two of three still alternates, whatever the loaded one's place in the list.
  open(upstreams[1], 3);
  assert.deepEqual(tally(leastConn(), upstreams, 300), [150, 0, 150]);
});

Deno.test("p2c() never puts first an upstream more loaded than all the others, and favours the least loaded", () => {
  const upstreams = upstreamsWeighted(1, 1, 1, 1);
  open(upstreams[1], 10);
  open(upstreams[2], 20);
  open(upstreams[3], 30);
  const picks = 20_000;
  const counts = tally(p2c(), upstreams, picks);
  // Two different draws: the busiest loses every pair it is in (bound: exactly 0 picks), and the
  // idlest wins the 3 pairs of 6 that hold it, 50% (5 sigma is 1.8%; allowed +-3%).
  assert.equal(counts[3], 0, `the busiest upstream went first ${counts[3]} times`);
  const idlest = counts[0] / picks;
  assert.ok(Math.abs(idlest - 0.5) <= 0.03, `idlest went first ${(idlest * 100).toFixed(2)}%`);
});

Deno.test("p2c() spreads picks evenly over equally loaded upstreams: 4 idle get 25% +-2% of 20,000", () => {
  const upstreams = upstreamsWeighted(1, 1, 1, 1);
  const picks = 20_000;
  const shares = tally(p2c(), upstreams, picks).map((count) => count / picks);
  // One share's sigma is 0.31%, so +-2% is over 6 sigma.
  for (const share of shares) {
    assert.ok(Math.abs(share - 0.25) <= 0.02, `shares ${shares.map((s) => s.toFixed(4))}`);
  }
});

Deno.test("random() gives weights 3:1 75% +-3% of 20,000 picks", () => {
  const upstreams = upstreamsWeighted(3, 1);
  const picks = 20_000;
  const [heavy] = tally(random(), upstreams, picks);
  // The share's sigma is 0.31%, so +-3% is over 9 sigma.
  const share = heavy / picks;
  assert.ok(Math.abs(share - 0.75) <= 0.03, `weight 3 got ${(share * 100).toFixed(2)}%`);
});

Deno.test("random() follows the rest of the list after its pick for failover", () => {
  const upstreams = upstreamsWeighted(1, 1, 1);
  const algorithm = random();
  for (let i = 0; i < 100; i++) {
    const order = [...algorithm.order(upstreams)];
    const at = upstreams.indexOf(order[0]);
    assert.deepEqual(order, [...upstreams.slice(at), ...upstreams.slice(0, at)]);
  }
});

Deno.test("first() always picks the first upstream and orders the rest as listed", () => {
  const upstreams = upstreamsWeighted(1, 5, 2);
  open(upstreams[0], 50);
  const algorithm = first();
  for (let i = 0; i < 100; i++) assert.deepEqual([...algorithm.order(upstreams)], upstreams);
  assert.deepEqual(tally(first(), upstreams, 1_000), [1_000, 0, 0]);
});

Deno.test("hash() sends the same client to the same upstream, across instances and arrays", () => {
  const upstreams = upstreamsWeighted(1, 1, 1, 1, 1);
  const before = mapClients(hash(), upstreams, 1_000);
  assert.deepEqual(mapClients(hash(), upstreams, 1_000), before);
  // A new array of new upstreams with the same names and weights builds the same ring.
  const again = hash();
  assert.deepEqual(mapClients(again, upstreamsWeighted(1, 1, 1, 1, 1), 1_000), before);
  assert.deepEqual(mapClients(again, upstreams, 1_000), before);
});

Deno.test("hash() spreads 10,000 clients over 5 upstreams within 20% of an even share", () => {
  const upstreams = upstreamsWeighted(1, 1, 1, 1, 1);
  const clients = 10_000;
  const names = mapClients(hash(), upstreams, clients);
  const shares = upstreams.map(({ name }) => names.filter((n) => n === name).length / clients);
  // 160 points each: the ring's own unevenness is about 8% of a share per upstream.
  for (const share of shares) {
    assert.ok(Math.abs(share - 0.2) <= 0.04, `shares ${shares.map((s) => s.toFixed(4))}`);
  }
});

Deno.test("hash() gives weights 3:1 75% +-5% of 10,000 clients, and ignores slow start", () => {
  const upstreams = upstreamsWeighted(3, 1);
  const clients = 10_000;
  const names = mapClients(hash(), upstreams, clients);
  const share = names.filter((name) => name === upstreams[0].name).length / clients;
  assert.ok(Math.abs(share - 0.75) <= 0.05, `weight 3 got ${(share * 100).toFixed(2)}%`);
  upstreams[0].slowStart(60_000);
  assert.deepEqual(mapClients(hash(), upstreams, clients), names);
});

Deno.test("hash() remaps only the removed upstream's clients when one of 5 leaves (<= 1/5 + 3%)", () => {
  const upstreams = upstreamsWeighted(1, 1, 1, 1, 1);
  const clients = 10_000;
  const algorithm = hash();
  const before = mapClients(algorithm, upstreams, clients);
  const removed = upstreams[2].name;
  const after = mapClients(algorithm, upstreams.filter(({ name }) => name !== removed), clients);
  let moved = 0;
  for (let i = 0; i < clients; i++) {
    if (before[i] === removed) moved++;
    else assert.equal(after[i], before[i], `client ${manyClients(i)} moved off a staying upstream`);
  }
  const fraction = moved / clients;
  assert.ok(fraction <= 1 / 5 + 0.03, `${(fraction * 100).toFixed(2)}% of clients moved`);
});

Deno.test("hash() remaps only clients to the new upstream when a 6th joins (<= 1/6 + 3%)", () => {
  const upstreams = upstreamsWeighted(1, 1, 1, 1, 1);
  const clients = 10_000;
  const algorithm = hash();
  const before = mapClients(algorithm, upstreams, clients);
  const added = new Upstream({ address: "10.0.0.6:80" });
  const after = mapClients(algorithm, [...upstreams, added], clients);
  let moved = 0;
  for (let i = 0; i < clients; i++) {
    if (after[i] === before[i]) continue;
    moved++;
    assert.equal(after[i], added.name, `client ${manyClients(i)} moved between old upstreams`);
  }
  const fraction = moved / clients;
  assert.ok(fraction <= 1 / 6 + 0.03, `${(fraction * 100).toFixed(2)}% of clients moved`);
});

Deno.test("hash() fails a client over to the next upstreams round the ring, spreading an upstream's clients", () => {
  const upstreams = upstreamsWeighted(1, 1, 1, 1, 1);
  const algorithm = hash();
  const seconds = new Set<string>();
  for (let i = 0; i < 1_000; i++) {
    const [pick, second] = algorithm.order(upstreams, fakeConnection(manyClients(i)));
    if (pick === upstreams[0]) seconds.add(second.name);
  }
  assert.equal(seconds.size, 4, `the first upstream's clients fail over to ${[...seconds]}`);
});

Deno.test("hash() without a connection orders the upstreams as listed", () => {
  const upstreams = upstreamsWeighted(1, 2, 3);
  assert.deepEqual([...hash().order(upstreams)], upstreams);
});
