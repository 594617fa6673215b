import assert from "node:assert/strict";
import { Counter } from "../lib/metrics/counter.ts";
import { Gauge } from "../lib/metrics/gauge.ts";
import { Histogram } from "../lib/metrics/histogram.ts";
import { DEFAULT_MAX_SERIES, OVERFLOW_LABEL_VALUE } from "../lib/metrics/metric.ts";

Deno.test("Counter: past maxSeries, new label sets go to one series labelled other", () => {
  const counter = new Counter({
    name: "by_client_total",
    help: "A label that must not grow.",
    labelNames: ["client"],
    maxSeries: 3,
  });
  for (let i = 0; i < 100; i++) counter.inc({ client: `10.0.0.${i}` });
  counter.inc({ client: "10.0.0.1" }, 5); // a series kept before the cap still counts
  assert.equal(counter.size, 4);
  assert.equal(counter.labels("10.0.0.1").value, 6);
  assert.equal(counter.labels(OVERFLOW_LABEL_VALUE).value, 97);
  assert.equal(counter.labels("10.0.0.99"), counter.labels("other")); // one shared child
  assert.equal(
    counter.render(),
    `# HELP by_client_total A label that must not grow.
# TYPE by_client_total counter
by_client_total{client="10.0.0.0"} 1
by_client_total{client="10.0.0.1"} 6
by_client_total{client="10.0.0.2"} 1
by_client_total{client="other"} 97
`,
  );
  // Removing a series frees its place for a new label set.
  counter.remove("10.0.0.0");
  counter.inc({ client: "10.0.1.1" });
  assert.equal(counter.labels("10.0.1.1").value, 1);
  assert.equal(counter.size, 4);
});

Deno.test("Gauge and Histogram: the overflow series sets every label to other", () => {
  const gauge = new Gauge({ name: "g", help: "G.", labelNames: ["a", "b"], maxSeries: 1 });
  gauge.set({ a: "1", b: "1" }, 1);
  gauge.set({ a: "2", b: "2" }, 2);
  gauge.inc({ a: "3", b: "3" }, 3);
  assert.match(gauge.render(), /^g\{a="other",b="other"\} 5$/m);
  const histogram = new Histogram({
    name: "h",
    help: "H.",
    labelNames: ["a"],
    buckets: [1],
    maxSeries: 1,
  });
  histogram.observe({ a: "x" }, 0);
  histogram.observe({ a: "y" }, 2);
  histogram.observe({ a: "z" }, 3);
  assert.match(histogram.render(), /^h_count\{a="other"\} 2$/m);
  assert.match(histogram.render(), /^h_bucket\{a="other",le="\+Inf"\} 2$/m);
});

Deno.test("Counter: the default cap is 1000 series, plus the overflow", () => {
  assert.equal(DEFAULT_MAX_SERIES, 1000);
  const counter = new Counter({ name: "c_total", help: "C.", labelNames: ["n"] });
  for (let i = 0; i < 5000; i++) counter.labels(String(i)).inc();
  assert.equal(counter.size, 1001);
  assert.equal(counter.labels("other").value, 4000);
  assert.equal(counter.render().split("\n").length, 2 + 1001 + 1);
});

Deno.test("Counter: label values that hold the key's separator never share a series", () => {
  const counter = new Counter({ name: "k_total", help: "K.", labelNames: ["a", "b"] });
  counter.labels("x\0y", "z").inc(1);
  counter.labels("x", "y\0z").inc(2);
  counter.labels("x\\0y", "z").inc(4);
  counter.labels("x\\", "0y\0z").inc(8);
  assert.equal(counter.size, 4);
  assert.equal(counter.labels("x\0y", "z").value, 1);
  assert.equal(counter.labels("x", "y\0z").value, 2);
  assert.equal(counter.labels("x\\0y", "z").value, 4);
  assert.equal(counter.labels("x\\", "0y\0z").value, 8);
});

Deno.test("labels() returns the same child each time, and a million inc() on it count exactly", () => {
  const counter = new Counter({ name: "hot_total", help: "H.", labelNames: ["pool"] });
  const child = counter.labels("web");
  assert.equal(counter.labels("web"), child);
  assert.equal(counter.labels("web"), counter.labels(...["web"]));
  for (let i = 0; i < 1_000_000; i++) child.inc();
  for (let i = 0; i < 1_000_000; i++) child.inc(3);
  assert.equal(child.value, 4_000_000);
  assert.match(counter.render(), /^hot_total\{pool="web"\} 4000000$/m);

  const gauge = new Gauge({ name: "hot", help: "H." });
  const gaugeChild = gauge.labels();
  for (let i = 0; i < 1_000_000; i++) gaugeChild.inc(i % 2 === 0 ? 2 : -1);
  assert.equal(gaugeChild.value, 500_000);

  const histogram = new Histogram({ name: "hot_h", help: "H.", buckets: [10, 100, 1000] });
  const histogramChild = histogram.labels();
  for (let i = 0; i < 1_000_000; i++) histogramChild.observe(i % 2000);
  assert.deepEqual(histogramChild.cumulativeCounts(), [5_500, 50_500, 500_500, 1_000_000]);
  assert.equal(histogramChild.sum, 999_500_000);
});

Deno.test("inc() rejects negative or NaN amounts: a counter never goes down", () => {
  const counter = new Counter({ name: "c_total", help: "C." });
  assert.throws(() => counter.inc(-1), {
    name: "RangeError",
    message: "Cannot add -1 to a counter: expected a number of at least 0",
  });
  assert.throws(() => counter.labels().inc(NaN), RangeError);
  counter.inc(0);
  assert.equal(counter.labels().value, 0);
});

Deno.test("inc(), set(), observe() and labels() reject labels that do not match the label names", () => {
  const counter = new Counter({ name: "c_total", help: "C.", labelNames: ["pool", "reason"] });
  const expected = "expected a string value for each of pool, reason and no other";
  assert.throws(() => counter.inc(), {
    name: "TypeError",
    message: `Cannot use labels undefined for metric "c_total": ${expected}`,
  });
  assert.throws(() => counter.inc({ pool: "web" }), {
    message: `Cannot use labels {"pool":"web"} for metric "c_total": ${expected}`,
  });
  assert.throws(() => counter.inc({ pool: "web", reason: "x", extra: "y" }), TypeError);
  assert.throws(
    () => counter.inc({ pool: "web", reason: 1 } as unknown as Record<string, string>),
    TypeError,
  );
  assert.throws(() => counter.labels("web"), {
    message: `Cannot use labels ["web"] for metric "c_total": ${expected}`,
  });
  assert.throws(() => counter.remove("web", "x", "y"), TypeError);
  const plain = new Gauge({ name: "g", help: "G." });
  assert.throws(() => plain.set({ pool: "web" }, 1), {
    message: 'Cannot use labels {"pool":"web"} for metric "g": expected no labels',
  });
  assert.throws(() => plain.labels("web"), TypeError);
  plain.set({}, 2); // no labels, given as an empty set
  assert.equal(plain.labels().value, 2);
  const histogram = new Histogram({ name: "h", help: "H.", labelNames: ["a"], buckets: [1] });
  assert.throws(() => histogram.observe(1), TypeError);
});

Deno.test("Metric names and label names follow Prometheus' rules; counters end in _total", () => {
  const badNames = ["", "1abc", "a-b", "a b", "é", "__reserved", "a.b", "a{}"];
  for (const name of badNames) {
    assert.throws(() => new Gauge({ name, help: "" }), {
      name: "TypeError",
      message:
        `Cannot create gauge "${name}": expected a name matching [a-zA-Z_:][a-zA-Z0-9_:]* not starting with __`,
    });
  }
  for (const name of ["a", "_a", ":a", "a:b_c9", "A_Z"]) new Gauge({ name, help: "" });
  assert.throws(() => new Counter({ name: "requests", help: "" }), {
    name: "TypeError",
    message: 'Cannot create counter "requests": expected a name ending in _total',
  });
  assert.throws(() => new Histogram({ name: "1h", help: "", buckets: [1] }), {
    message:
      'Cannot create histogram "1h": expected a name matching [a-zA-Z_:][a-zA-Z0-9_:]* not starting with __',
  });
  for (const label of ["", "1a", "a:b", "a-b", "__name__"]) {
    assert.throws(() => new Gauge({ name: "g", help: "", labelNames: [label] }), {
      name: "TypeError",
      message:
        `Cannot use label "${label}" for metric "g": expected a name matching [a-zA-Z_][a-zA-Z0-9_]* not starting with __`,
    });
  }
  assert.throws(() => new Gauge({ name: "g", help: "", labelNames: ["a", "a"] }), {
    message: 'Cannot use label "a" for metric "g": expected each label name once',
  });
  for (const maxSeries of [0, -1, 1.5, NaN]) {
    assert.throws(() => new Gauge({ name: "g", help: "", labelNames: ["a"], maxSeries }), {
      name: "RangeError",
      message: `Cannot use maxSeries ${maxSeries}: expected a whole number of series, at least 1`,
    });
  }
});
