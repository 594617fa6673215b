/** withFlags(): flags given on the command line override a single-server config file. */

import assert from "node:assert/strict";
import { parseCliArgs, UsageError } from "../lib/cli/args.ts";
import { configFromFlags, withFlags } from "../lib/cli/config_file.ts";
import { validateConfig } from "../lib/config/validate.ts";

const file = validateConfig({
  drainTimeout: "45s",
  servers: [{
    name: "web",
    listen: "127.0.0.1:8081",
    upstreams: ["10.0.0.1:80", "10.0.0.2:80"],
    balance: "least-conn",
    maxConnections: { max: 100 },
  }],
});

Deno.test("withFlags() lets the flags given override the file's only server, and nothing else", () => {
  const options = parseCliArgs([
    "--config",
    "minginx.jsonc",
    "-u",
    "10.0.0.9:80,weight=2",
    "--max-connections",
    "5",
    "--drain-timeout",
    "1s",
  ]);
  const config = withFlags(file, options);
  const [server] = config.servers;
  assert.equal(config.drainTimeout, 1_000);
  assert.deepEqual(server.upstreams, [{
    address: { hostname: "10.0.0.9", port: 80 },
    weight: 2,
    backup: false,
  }]);
  assert.deepEqual(server.maxConnections, { max: 5, queue: 0, queueTimeout: 5_000 });
  assert.equal(server.balance, "least-conn", "not given, so the file's");
  assert.deepEqual(server.listen, [{ hostname: "127.0.0.1", port: 8081 }]);
  assert.equal(server.name, "web");
});

Deno.test("withFlags() changes only the part of a setting that a flag names", () => {
  const checked = validateConfig({
    servers: [{
      listen: "127.0.0.1:8081",
      upstreams: ["10.0.0.1:80"],
      healthCheck: { check: "tcp", interval: "5s", rise: 4, fall: 5 },
      maxConnections: { max: 100, queue: 10, queueTimeout: "2s" },
    }],
  });
  const options = parseCliArgs([
    "--health-check",
    "http:/healthz",
    "--health-interval",
    "1s",
    "--max-connections",
    "50",
  ]);
  const [server] = withFlags(checked, { ...options, config: "minginx.jsonc" }).servers;
  assert.equal(server.healthCheck, "http:/healthz");
  assert.deepEqual(server.health, { interval: 1_000, timeout: 1_000, rise: 4, fall: 5 });
  assert.deepEqual(server.maxConnections, { max: 50, queue: 10, queueTimeout: 2_000 });
});

Deno.test("withFlags() lets --log-level, --log-format and --workers override the file's", () => {
  const checked = validateConfig({
    logLevel: "warning",
    logFormat: "json",
    workers: 4,
    servers: [{ listen: "127.0.0.1:8081", upstreams: ["10.0.0.1:80"] }],
  });
  assert.deepEqual(
    [checked.logLevel, checked.logFormat, checked.workers],
    ["warning", "json", 4],
  );
  const config = withFlags(checked, parseCliArgs(["--log-level", "debug", "--workers", "2"]));
  assert.deepEqual([config.logLevel, config.logFormat, config.workers], ["debug", "json", 2]);
  const raw = {
    workers: "many",
    servers: [{ listen: "127.0.0.1:8081", upstreams: ["10.0.0.1:80"] }],
  };
  assert.throws(() => validateConfig(raw), {
    message: 'workers: expected a whole number from 1 to 256, or "auto", got "many"',
  });
});

Deno.test("withFlags() leaves the file alone when only running flags are given", () => {
  const options = parseCliArgs(["--config", "minginx.jsonc", "--watch"]);
  assert.deepEqual(withFlags(file, options), file);
});

Deno.test("withFlags() refuses server flags for a file with several servers, naming the flag", () => {
  const two = validateConfig({
    servers: [
      { listen: "127.0.0.1:8081", upstreams: ["10.0.0.1:80"] },
      { listen: "127.0.0.1:8082", upstreams: ["10.0.0.2:80"] },
    ],
  });
  const options = parseCliArgs(["--config", "two.jsonc", "--balance", "p2c"]);
  assert.throws(() => withFlags(two, options), {
    name: UsageError.name,
    message: "Option --balance would override a server, but two.jsonc has 2: " +
      "set it in the file, or drop --balance",
  });
  assert.equal(withFlags(two, parseCliArgs(["--drain-timeout", "2s"])).drainTimeout, 2_000);
});

Deno.test("configFromFlags() makes the one server plain flags describe", () => {
  const config = configFromFlags(parseCliArgs(["-l", "[::1]:9000", "-u", "db.internal:5432"]));
  assert.equal(config.servers.length, 1);
  assert.deepEqual(config.servers[0].listen, [{ hostname: "::1", port: 9000 }]);
  assert.deepEqual(config.servers[0].onUpstreamRemoved, { action: "drain", after: 0 });
  assert.equal(config.drainTimeout, 30_000);
});

Deno.test("withFlags() checks HTTP flags against the file's mode, and names the side of a conflict", () => {
  const http = validateConfig({
    servers: [{ listen: "127.0.0.1:8081", upstreams: ["10.0.0.1:80"], mode: "http" }],
  });
  const tcp = validateConfig({
    servers: [{
      listen: "127.0.0.1:8081",
      upstreams: ["10.0.0.1:80"],
      sni: { "a.test": ["10.0.0.2:80"] },
    }],
  });
  const args = (...flags: string[]) => parseCliArgs(["--config", "f.jsonc", ...flags]);
  const [server] = withFlags(http, args("--max-body-size", "1KiB")).servers;
  assert.equal(server.maxBodySize, 1_024, "the file says http, so an HTTP flag applies");
  const cases: [typeof http, string[], string][] = [
    [
      tcp,
      ["--max-body-size", "1KiB"],
      'Option --max-body-size needs "mode": "http" in f.jsonc, or --mode http',
    ],
    [
      http,
      ["--sni", "a.test=10.0.0.2:80"],
      'Option --sni does not go with "mode": "http" in f.jsonc: HTTP mode routes by the Host field instead, with routes',
    ],
    [
      tcp,
      ["--mode", "http"],
      'Option --mode http does not go with "sni" in f.jsonc: HTTP mode routes by the Host field instead, with routes',
    ],
    [
      http,
      ["--send-proxy", "v1"],
      'Option --send-proxy does not go with "mode": "http" in f.jsonc: HTTP mode tells ' +
      "upstreams about clients in forwarding fields instead",
    ],
  ];
  const alpn = {
    servers: [{
      listen: "127.0.0.1:8081",
      upstreams: ["10.0.0.1:80"],
      mode: "http",
      tls: { certificates: [{ cert: "a.crt", key: "a.key" }], alpn: ["h2"] },
    }],
  };
  assert.throws(() => validateConfig(alpn), {
    name: "ConfigError",
    message: /^servers\[0\]\.tls\.alpn: does not go with "mode": "http"/,
  });
  for (const [config, flags, message] of cases) {
    assert.throws(
      () => withFlags(config, args(...flags)),
      { name: "UsageError", message },
      flags.join(" "),
    );
  }
});
