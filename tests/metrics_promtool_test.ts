import assert from "node:assert/strict";
import { processMetrics } from "../lib/metrics/process.ts";
import { Registry } from "../lib/metrics/registry.ts";
import { HAS_PROMTOOL, promtoolCheck } from "./_promtool.ts";

/** A registry with every kind of metric, label values to escape, special values and an overflow. */
function richRegistry(): Registry {
  const registry = new Registry();
  const closed = registry.counter({
    name: "minginx_connections_closed_total",
    help: 'Connections closed, by pool and reason.\nA second line, a \\ and a ".',
    labelNames: ["pool", "reason"],
    maxSeries: 3,
  });
  closed.inc({ pool: "web", reason: "client_closed" }, 12);
  closed.labels('we"ird\\\npool', "error").inc();
  for (const reason of ["no_upstream", "denied", "fault"]) closed.inc({ pool: "api", reason });
  registry.counter({ name: "minginx_bytes_total", help: "Bytes." }).inc(2 ** 40);
  const weights = registry.gauge({
    name: "minginx_upstream_weight",
    help: "Weights.",
    labelNames: ["upstream"],
  });
  weights.set({ upstream: "10.0.0.1:80" }, 0.5);
  weights.set({ upstream: "[::1]:80" }, Infinity);
  weights.set({ upstream: "unknown" }, NaN);
  weights.set({ upstream: "tiny" }, -1e-9);
  const durations = registry.histogram({
    name: "minginx_connection_duration_seconds",
    help: "Durations.",
    labelNames: ["pool"],
    buckets: [0.005, 0.1, 1, 60, 3600],
  });
  for (const seconds of [0.001, 0.05, 0.5, 30, 7200]) durations.observe({ pool: "web" }, seconds);
  registry.histogram({ name: "minginx_empty_seconds", help: "Never observed.", buckets: [1] });
  processMetrics(registry);
  return registry;
}

Deno.test({
  name: "promtool check metrics accepts what Registry.render() writes" +
    (HAS_PROMTOOL ? "" : ": IGNORED, promtool is not on PATH (apt-get install prometheus)"),
  ignore: !HAS_PROMTOOL,
  async fn() {
    const text = richRegistry().render();
    const { code, output } = await promtoolCheck(text);
    assert.equal(code, 0, `promtool check metrics exited ${code}:\n${output}\n--- input:\n${text}`);
    assert.equal(output.trim(), "");
  },
});

Deno.test({
  name: "promtool check metrics rejects a counter without _total, so the check above can fail" +
    (HAS_PROMTOOL ? "" : ": IGNORED, promtool is not on PATH (apt-get install prometheus)"),
  ignore: !HAS_PROMTOOL,
  async fn() {
    const { code } = await promtoolCheck("# HELP a A.\n# TYPE a counter\na 1\n");
    assert.notEqual(code, 0);
  },
});
