import assert from "node:assert/strict";
import { manyClients } from "./_mock.ts";
import { TokenBuckets } from "../mod.ts";

Deno.test("TokenBuckets refills at the rate and caps at the burst", () => {
  let clock = 0;
  const buckets = new TokenBuckets({ rate: 2, burst: 4, now: () => clock });
  assert.equal(buckets.tokens("a"), 4); // a new key starts full
  assert.deepEqual([1, 2, 3, 4, 5].map(() => buckets.take("a")), [true, true, true, true, false]);
  assert.equal(buckets.tokens("a"), 0);
  clock = 250;
  assert.equal(buckets.tokens("a"), 0.5);
  assert.equal(buckets.take("a"), false);
  clock = 500;
  assert.equal(buckets.tokens("a"), 1);
  assert.equal(buckets.take("a"), true);
  assert.equal(buckets.take("a"), false);
  clock = 60_000; // a minute idle refills four tokens, not 120
  assert.equal(buckets.tokens("a"), 4);
  assert.deepEqual([1, 2, 3, 4, 5].map(() => buckets.take("a")), [true, true, true, true, false]);
});

Deno.test("TokenBuckets gives a burst of the rate rounded up by default", () => {
  assert.equal(new TokenBuckets({ rate: 2.5 }).burst, 3);
  assert.equal(new TokenBuckets({ rate: 1 / 60 }).burst, 1);
  assert.equal(new TokenBuckets({ rate: 20 }).maxKeys, 100_000);
});

Deno.test("TokenBuckets rejects a rate, burst or maxKeys it cannot use", () => {
  for (const rate of [0, -1, NaN, Infinity]) {
    assert.throws(() => new TokenBuckets({ rate }), {
      name: "RangeError",
      message: `Cannot use rate ${rate}: expected a finite number of tokens per second above 0`,
    });
  }
  for (const burst of [0, 1.5]) {
    assert.throws(() => new TokenBuckets({ rate: 1, burst }), {
      name: "RangeError",
      message: `Cannot use burst ${burst}: expected a whole number of at least 1`,
    });
  }
  for (const maxKeys of [0, 2 ** 24 + 1]) {
    assert.throws(() => new TokenBuckets({ rate: 1, maxKeys }), {
      name: "RangeError",
      message: `Cannot use maxKeys ${maxKeys}: expected a whole number from 1 to 16777216`,
    });
  }
});

Deno.test("TokenBuckets evicts the least recently used key at maxKeys", () => {
  const buckets = new TokenBuckets({ rate: 1, burst: 1, maxKeys: 3, now: () => 0 });
  for (const key of ["a", "b", "c"]) assert.equal(buckets.take(key), true);
  assert.equal(buckets.take("a"), false); // refused, but used: now the newest
  assert.equal(buckets.take("d"), true); // evicts b, the least recently used
  assert.equal(buckets.size, 3);
  // b is forgotten: a full bucket again.
  assert.deepEqual(["a", "b", "c", "d"].map((key) => buckets.tokens(key)), [0, 1, 0, 0]);
  assert.equal(buckets.take("b"), true); // evicts c
  assert.equal(buckets.tokens("c"), 1);
  assert.equal(buckets.take("a"), false);
});

Deno.test("TokenBuckets stays within maxKeys over 100k distinct keys and drops them once refilled", () => {
  let clock = 0;
  // One token taken from each bucket comes back in 1/rate = 1s.
  const buckets = new TokenBuckets({ rate: 1, burst: 10, maxKeys: 50_000, now: () => clock });
  let largest = 0;
  for (let i = 0; i < 100_000; i++) {
    assert.equal(buckets.take(manyClients(i)), true);
    largest = Math.max(largest, buckets.size);
  }
  assert.equal(largest, 50_000);
  assert.equal(buckets.size, 50_000);
  clock = 999; // not yet refilled: nothing to drop
  buckets.take("192.0.2.1");
  assert.equal(buckets.size, 50_000);
  clock = 1_000; // every bucket is full again
  buckets.take("192.0.2.2");
  assert.equal(buckets.size, 2); // the two keys used since
  assert.equal(buckets.tokens("192.0.2.1"), 9.001);
});

Deno.test("TokenBuckets holds only the keys used within one refill period", () => {
  let clock = 0;
  // Keys arrive one a millisecond for 10s, and each empties its bucket of 2, which takes
  // burst / rate = 2s to refill.
  const buckets = new TokenBuckets({ rate: 1, burst: 2, now: () => clock });
  let largest = 0;
  for (let i = 0; i < 10_000; i++, clock++) {
    assert.equal(buckets.take(manyClients(i)) && buckets.take(manyClients(i)), true);
    largest = Math.max(largest, buckets.size);
  }
  assert.ok(largest >= 2_000 && largest <= 2_001, `held ${largest} keys`);
});
