import assert from "node:assert/strict";
import { Counter } from "../lib/metrics/counter.ts";
import { Gauge } from "../lib/metrics/gauge.ts";
import { Histogram } from "../lib/metrics/histogram.ts";
import { Registry } from "../lib/metrics/registry.ts";

Deno.test("Counter.render() writes HELP, TYPE and sorted samples, escaping help and label values", () => {
  const closed = new Counter({
    name: "minginx_connections_closed_total",
    help: "Connections closed\nby pool \\ reason.",
    labelNames: ["pool", "reason"],
  });
  closed.inc({ pool: "web", reason: "client_closed" }, 2);
  closed.labels('say "hi"\\\n', "error").inc();
  closed.inc({ reason: "no_upstream", pool: "api" }); // the order of the keys does not matter
  assert.equal(
    closed.render(),
    [
      "# HELP minginx_connections_closed_total Connections closed\\nby pool \\\\ reason.",
      "# TYPE minginx_connections_closed_total counter",
      'minginx_connections_closed_total{pool="api",reason="no_upstream"} 1',
      'minginx_connections_closed_total{pool="say \\"hi\\"\\\\\\n",reason="error"} 1',
      'minginx_connections_closed_total{pool="web",reason="client_closed"} 2',
      "",
    ].join("\n"),
  );
});

Deno.test("Gauge.render() writes integers plainly and +Inf, -Inf, NaN and exponents as Prometheus parses them", () => {
  const gauge = new Gauge({ name: "g", help: "Values.", labelNames: ["v"] });
  const values: [string, number][] = [
    ["a", 42],
    ["b", -3],
    ["c", 0.25],
    ["d", Infinity],
    ["e", -Infinity],
    ["f", NaN],
    ["g", 1e21],
    ["h", 1e-7],
    ["i", -0],
    ["j", 2 ** 53],
  ];
  for (const [label, value] of values) gauge.set({ v: label }, value);
  assert.equal(
    gauge.render(),
    `# HELP g Values.
# TYPE g gauge
g{v="a"} 42
g{v="b"} -3
g{v="c"} 0.25
g{v="d"} +Inf
g{v="e"} -Inf
g{v="f"} NaN
g{v="g"} 1e+21
g{v="h"} 1e-7
g{v="i"} 0
g{v="j"} 9007199254740992
`,
  );
});

Deno.test("Gauge: set, inc and dec with and without labels", () => {
  const open = new Gauge({ name: "open", help: "Open." });
  open.inc();
  open.inc(5);
  open.dec(2);
  assert.equal(open.render().split("\n").at(-2), "open 4");
  open.set(-1.5);
  assert.equal(open.render().split("\n").at(-2), "open -1.5");
  const byPool = new Gauge({ name: "by_pool", help: "By pool.", labelNames: ["pool"] });
  byPool.inc({ pool: "a" }, 3);
  byPool.dec({ pool: "a" });
  assert.equal(byPool.labels("a").value, 2);
  assert.throws(() => byPool.set({ pool: "a" }, undefined as unknown as number), {
    message: 'Cannot set gauge "by_pool" to undefined: expected a number',
  });
});

Deno.test("Histogram.render() writes cumulative buckets up to +Inf, then _sum and _count, per series", () => {
  const durations = new Histogram({
    name: "minginx_connection_duration_seconds",
    help: "How long connections lasted.",
    labelNames: ["pool"],
    buckets: [0.5, 1, 10, Infinity], // a last Infinity is the +Inf bucket, not a second one
  });
  for (const seconds of [0.25, 0.5, 0.75, 2, 3, 60]) durations.observe({ pool: "web" }, seconds);
  durations.labels("api").observe(1);
  const P = "minginx_connection_duration_seconds";
  assert.equal(
    durations.render(),
    `# HELP ${P} How long connections lasted.
# TYPE ${P} histogram
${P}_bucket{pool="api",le="0.5"} 0
${P}_bucket{pool="api",le="1"} 1
${P}_bucket{pool="api",le="10"} 1
${P}_bucket{pool="api",le="+Inf"} 1
${P}_sum{pool="api"} 1
${P}_count{pool="api"} 1
${P}_bucket{pool="web",le="0.5"} 2
${P}_bucket{pool="web",le="1"} 3
${P}_bucket{pool="web",le="10"} 5
${P}_bucket{pool="web",le="+Inf"} 6
${P}_sum{pool="web"} 66.5
${P}_count{pool="web"} 6
`,
  );
});

Deno.test("HistogramChild: buckets are cumulative and the +Inf bucket equals the count", () => {
  const histogram = new Histogram({ name: "h", help: "H.", buckets: [1, 2, 4, 8] });
  const child = histogram.labels();
  let seed = 7;
  for (let i = 0; i < 1000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    child.observe((seed % 1200) / 100 - 1); // from -1 to 11
  }
  const counts = child.cumulativeCounts();
  assert.equal(counts.length, 5);
  for (let i = 1; i < counts.length; i++) assert.ok(counts[i] >= counts[i - 1]);
  assert.equal(counts.at(-1), child.count);
  assert.equal(child.count, 1000);
  // Exactly on a bound counts in that bound's bucket.
  const edges = new Histogram({ name: "e", help: "E.", buckets: [1, 2] });
  edges.observe(1);
  edges.observe(2);
  edges.observe(-Infinity);
  assert.deepEqual(edges.labels().cumulativeCounts(), [2, 3, 3]);
  assert.throws(() => edges.observe(NaN), { message: "Cannot observe NaN: expected a number" });
});

Deno.test("Histogram rejects buckets that are not finite and increasing, and a label named le", () => {
  for (const buckets of [[1, 1], [2, 1], [NaN], [-Infinity, 1], [1, Infinity, 2]]) {
    assert.throws(() => new Histogram({ name: "h", help: "H.", buckets }), RangeError);
  }
  assert.throws(() => new Histogram({ name: "h", help: "H.", buckets: [2, 1] }), {
    message:
      'Cannot use buckets [2,1] for histogram "h": expected finite numbers in increasing order',
  });
  assert.throws(() => new Histogram({ name: "h", help: "H.", labelNames: ["le"], buckets: [1] }), {
    name: "TypeError",
    message:
      'Cannot use label "le" for metric "h": expected a name other than le, which the metric writes itself',
  });
  // No finite bound at all is allowed: only the +Inf bucket.
  const only = new Histogram({ name: "o", help: "O.", buckets: [] });
  only.observe(3);
  assert.match(only.render(), /^o_bucket\{le="\+Inf"\} 1$/m);
});

Deno.test("Registry.render() runs collectors, sorts metrics by name and ends with one line feed", () => {
  const registry = new Registry();
  const zeta = registry.counter({ name: "zeta_total", help: "Z." });
  const alpha = registry.gauge({ name: "alpha", help: "A.", labelNames: ["x"] });
  registry.histogram({ name: "mid", help: "M.", labelNames: ["x"], buckets: [1] }); // no series yet
  let scrapes = 0;
  const remove = registry.addCollector(() => alpha.set({ x: "scrapes" }, ++scrapes));
  zeta.inc(3);
  const text = registry.render();
  assert.equal(
    text,
    `# HELP alpha A.
# TYPE alpha gauge
alpha{x="scrapes"} 1
# HELP zeta_total Z.
# TYPE zeta_total counter
zeta_total 3
`,
  );
  assert.ok(text.endsWith("\n") && !text.endsWith("\n\n"));
  assert.match(registry.render(), /^alpha\{x="scrapes"\} 2$/m);
  remove();
  assert.match(registry.render(), /^alpha\{x="scrapes"\} 2$/m);
  assert.equal(new Registry().render(), "");
  assert.deepEqual(registry.metrics.map(({ name }) => name), ["alpha", "mid", "zeta_total"]);
});

Deno.test("Registry.register() refuses a name another metric writes, histogram suffixes included", () => {
  const registry = new Registry();
  registry.histogram({ name: "latency", help: "L.", buckets: [1] });
  assert.throws(() => registry.gauge({ name: "latency_count", help: "C." }), {
    name: "TypeError",
    message:
      'Cannot register metric "latency_count": expected no other metric to write "latency_count", which "latency" writes',
  });
  assert.throws(() => registry.gauge({ name: "latency", help: "L." }), {
    message: 'Cannot register metric "latency": expected a name the registry does not have yet',
  });
  registry.gauge({ name: "size_sum", help: "S." });
  assert.throws(() => registry.histogram({ name: "size", help: "S.", buckets: [1] }), TypeError);
  assert.equal(registry.unregister("latency"), true);
  assert.equal(registry.unregister("latency"), false);
  registry.gauge({ name: "latency_count", help: "C." }); // free again
  assert.equal(registry.get("latency_count")?.type, "gauge");
});

Deno.test("Counter, Gauge, Histogram: remove() and clear() forget series", () => {
  const gauge = new Gauge({ name: "up", help: "Up.", labelNames: ["upstream"] });
  gauge.set({ upstream: "10.0.0.1:80" }, 1);
  gauge.set({ upstream: "10.0.0.2:80" }, 1);
  assert.equal(gauge.remove("10.0.0.1:80"), true);
  assert.equal(gauge.remove("10.0.0.1:80"), false);
  assert.equal(gauge.size, 1);
  gauge.clear();
  assert.equal(gauge.render(), "");
  const counter = new Counter({ name: "n_total", help: "N." });
  counter.inc(4);
  counter.clear(); // without labels, it starts again at 0
  assert.equal(counter.render(), "# HELP n_total N.\n# TYPE n_total counter\nn_total 0\n");
  assert.throws(() => counter.remove(), {
    message: 'Cannot remove a series of metric "n_total": expected a metric with labels',
  });
  const histogram = new Histogram({ name: "h", help: "H.", labelNames: ["a"], buckets: [1] });
  histogram.observe({ a: "x" }, 1);
  assert.equal(histogram.remove("x"), true);
  assert.equal(histogram.size, 0);
});
