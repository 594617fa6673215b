import assert from "node:assert/strict";
import { parseCliArgs } from "../lib/cli/args.ts";
import { configFromFlags } from "../lib/cli/config_file.ts";
import { featuresOf, loadModules, modules } from "../lib/cli/optional_modules.ts";

/** The one server plain flags describe. */
function serverOf(...args: string[]) {
  return configFromFlags(parseCliArgs(["-u", "127.0.0.1:9000", ...args])).servers[0];
}

Deno.test("featuresOf() finds no optional feature in a plain proxy, TCP or HTTP", () => {
  assert.deepEqual(featuresOf([serverOf()]), []);
  assert.deepEqual(featuresOf([serverOf("--mode", "http", "--route", "/api=127.0.0.1:9001")]), []);
});

Deno.test("featuresOf() names each feature the flags use, once, and metrics with the admin API", () => {
  const cases: [string[], string[]][] = [
    [["--tls-cert", "tests/fixtures/a.test.crt", "--tls-key", "tests/fixtures/a.test.key"], [
      "tls",
    ]],
    [["--upstream-tls", "--upstream-tls-ca", "tests/fixtures/ca.crt"], ["tls"]],
    [["--accept-proxy", "127.0.0.1/32"], ["acceptProxy"]],
    [["--sni", "a.example=127.0.0.1:9001"], ["sni"]],
    [["-u", "dns:web.internal:80"], ["discovery"]],
    [["--allow", "10.0.0.0/8"], ["limits"]],
    [["--rate-limit", "5/s"], ["limits"]],
    [["--max-connections-per-ip", "3"], ["limits"]],
    [["--max-connections", "3"], ["limits"]],
    [["--fault", "downstream:latency=10ms"], ["faults"]],
  ];
  for (const [args, features] of cases) {
    assert.deepEqual(featuresOf([serverOf(...args)]), features, args.join(" "));
  }
  const both = [
    serverOf("--fault", "downstream:latency=10ms"),
    serverOf("--fault", "upstream:latency=1ms"),
  ];
  assert.deepEqual(featuresOf(both, true), ["faults", "metrics"]);
});

Deno.test("loadModules() loads what the servers use, and modules() hands it out", async () => {
  const server = serverOf("--fault", "downstream:latency=10ms", "--max-connections", "3");
  await loadModules([server]);
  assert.equal(typeof modules("faults").faults, "function");
  assert.equal(typeof modules("limits").concurrencyLimit, "function");
});
