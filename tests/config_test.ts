/** validateConfig(): what each section gives, and a message for every kind of mistake. */

import assert from "node:assert/strict";
import { parseCliArgs } from "../lib/cli/args.ts";
import type { Config } from "../lib/config/config.ts";
import { parseConfig } from "../lib/config/parse_config.ts";
import { validateConfig } from "../lib/config/validate.ts";
import { FULL, FULL_FLAGS, issuesOf, minimal, shared, WEB } from "./_config.ts";

Deno.test("validateConfig() turns every section into what the equivalent flags give", () => {
  const config = parseConfig(FULL, "minginx.jsonc");
  const [web, db] = config.servers;
  assert.deepEqual(web, WEB);
  assert.equal(config.drainTimeout, 45_000);
  const cli = parseCliArgs(FULL_FLAGS);
  assert.deepEqual(shared(web), shared(cli));
  assert.equal(config.drainTimeout, cli.drainTimeout);
  assert.equal(db.name, "server-1");
  assert.deepEqual(db.listen, [{ hostname: "0.0.0.0", port: 5432 }]);
});

Deno.test("validateConfig() fills in the command line's defaults", () => {
  const config: Config = validateConfig(minimal());
  const [server] = config.servers;
  const cli = parseCliArgs(["--listen", "127.0.0.1:8081", "--upstream", "10.0.0.1:80"]);
  assert.deepEqual(shared(server), shared(cli));
  assert.equal(config.drainTimeout, cli.drainTimeout);
  assert.equal(config.drainTimeout, 30_000);
  assert.deepEqual(server.onUpstreamRemoved, { action: "drain", after: 0 });
  assert.equal(server.name, "server-0");
  assert.ok(Object.hasOwn(server, "healthCheck") && server.healthCheck === undefined);
  for (const key of ["rateLimit", "maxConnectionsPerIp", "maxConnections"]) {
    assert.ok(!Object.hasOwn(server, key), key);
  }
});

Deno.test("validateConfig() fills in the burst, queue and health defaults as the flags do", () => {
  const [server] = validateConfig(minimal({
    rateLimit: { rate: "2.5/s" },
    maxConnections: { max: 100 },
    healthCheck: { check: "tcp" },
    listen: "[::1]:0",
  })).servers;
  const cli = parseCliArgs([
    ...["-l", "[::1]:0", "-u", "10.0.0.1:80", "--rate-limit", "2.5/s"],
    ...["--max-connections", "100", "--health-check", "tcp"],
  ]);
  assert.deepEqual(shared(server), shared(cli));
  assert.deepEqual(server.rateLimit, { rate: 2.5, burst: 3 });
  assert.deepEqual(server.listen, [cli.listen]);
});

/** Each kind of mistake: the servers' fields to change in `minimal()`, or a whole config. */
const MISTAKES: [string, unknown, string[]][] = [
  ["bad upstream address", minimal({ upstreams: [{ address: "10.0.0:80" }] }), [
    'servers[0].upstreams[0].address: "10.0.0:80" is not valid: expected HOST:PORT',
  ]],
  ["bad upstream in the CLI's form", minimal({ upstreams: ["10.0.0.1:80,wieght=3"] }), [
    'servers[0].upstreams[0]: "10.0.0.1:80,wieght=3" is not valid: expected HOST:PORT ' +
    "followed by ,weight=N (1 to 1000) or ,backup",
  ]],
  ["bad weight", minimal({ upstreams: [{ address: "10.0.0.1:80", weight: 0 }] }), [
    "servers[0].upstreams[0].weight: expected a whole number from 1 to 1000, got 0",
  ]],
  ["backup not a boolean", minimal({ upstreams: [{ address: "10.0.0.1:80", backup: "yes" }] }), [
    'servers[0].upstreams[0].backup: expected true or false, got "yes"',
  ]],
  ["upstream of the wrong type", minimal({ upstreams: [80] }), [
    'servers[0].upstreams[0]: expected an upstream such as "10.0.0.1:80" or ' +
    '{ "address": "10.0.0.1:80" }, got 80',
  ]],
  ["unknown key with a suggestion", minimal({ balanse: "p2c" }), [
    'servers[0].balanse: unknown key; did you mean "balance"?',
  ]],
  ["a flag's name for a key", minimal({ healthInterval: "5s", connectTimeout: "1s" }), [
    'servers[0].healthInterval: unknown key; did you mean "healthCheck"?',
    'servers[0].connectTimeout: unknown key; did you mean "connect"?',
  ]],
  ["unknown top-level key", { ...minimal(), listen: "127.0.0.1:8081", drainTimout: "5s" }, [
    'listen: unknown key; expected "$schema", "drainTimeout", "logLevel", "logFormat", "accessLog", "admin", "adminToken", "workers" or "servers"',
    'drainTimout: unknown key; did you mean "drainTimeout"?',
  ]],
  ["wrong type", minimal({ maxConnections: { max: "many" } }), [
    'servers[0].maxConnections.max: expected a whole number ≥ 1, got "many"',
  ]],
  ["object of the wrong type", minimal({ connect: "fast" }), [
    'servers[0].connect: expected an object, got "fast"',
  ]],
  ["root not an object", [minimal()], ["(root): expected an object, got an array"]],
  ["missing listen", { servers: [{ upstreams: ["10.0.0.1:80"] }] }, [
    'servers[0]: missing "listen"',
  ]],
  ["listen of the wrong type", minimal({ listen: 8081 }), [
    'servers[0].listen: expected an address such as "127.0.0.1:8081", or an array of one or ' +
    "more, got 8081",
  ]],
  ["missing upstreams", { servers: [{ listen: "127.0.0.1:8081" }] }, [
    'servers[0]: missing "upstreams"',
  ]],
  ["empty upstreams", minimal({ upstreams: [] }), [
    "servers[0].upstreams: expected at least one upstream, got []",
  ]],
  ["missing servers", {}, ['(root): missing "servers"']],
  ["no servers", { servers: [] }, ["servers: expected at least one server, got []"]],
  ["bad duration", minimal({ idleTimeout: "10 minutes" }), [
    'servers[0].idleTimeout: "10 minutes" is not valid: expected a duration such as 500ms, 5s, ' +
    "10m or 1h",
  ]],
  ["duration in fractions of a millisecond", minimal({ dnsTtl: 1.5 }), [
    'servers[0].dnsTtl: expected a duration such as "5s", or whole milliseconds from 0 to ' +
    "2147483647, got 1.5",
  ]],
  ["zero health interval", minimal({ healthCheck: { check: "tcp", interval: "0s" } }), [
    'servers[0].healthCheck.interval: "0s" is not valid: expected a duration above 0, such as 2s',
  ]],
  ["bad balance name", minimal({ balance: "least-con" }), [
    'servers[0].balance: "least-con" is not valid: expected round-robin, least-conn, p2c, ' +
    "random, first or hash",
  ]],
  ["bad health check", minimal({ healthCheck: { check: "htp:/x" } }), [
    'servers[0].healthCheck.check: "htp:/x" is not valid: expected tcp, http:/PATH[,status=...] ' +
    "or send=...,expect=...",
  ]],
  ["health check without its check", minimal({ healthCheck: { rise: 2 } }), [
    'servers[0].healthCheck: missing "check"',
  ]],
  ["bad CIDR", minimal({ access: [{ deny: "10.0.0.0/33" }] }), [
    'servers[0].access[0].deny: "10.0.0.0/33" is not valid: expected an IPv4 or IPv6 address ' +
    "or CIDR, such as 10.0.0.0/8, ::1 or all",
  ]],
  ["access rule that allows and denies", minimal({ access: [{ allow: "all", deny: "all" }] }), [
    'servers[0].access[0]: expected "allow" or "deny", not both',
  ]],
  ["empty access rule", minimal({ access: [{}] }), [
    'servers[0].access[0]: missing "allow" or "deny"',
  ]],
  ["bad rate", minimal({ rateLimit: { rate: "20/x" } }), [
    'servers[0].rateLimit.rate: "20/x" is not valid: expected COUNT/s or COUNT/m, such as 20/s',
  ]],
  ["bad fault", minimal({ faults: ["upstream:latncy=100ms"] }), [
    'servers[0].faults[0]: "upstream:latncy=100ms" is not valid: unknown key "latncy", ' +
    "expected latency, jitter, bandwidth, slice, slice-delay, reset-after-bytes, reset-after, " +
    "blackhole or probability",
  ]],
  ["negative number", minimal({ maxConnectionsPerIp: -5 }), [
    "servers[0].maxConnectionsPerIp: expected a whole number ≥ 1, got -5",
  ]],
  ["queue timeout without a queue", minimal({ maxConnections: { max: 10, queueTimeout: "2s" } }), [
    'servers[0].maxConnections.queueTimeout: needs "queue" above 0: add it, or drop ' +
    '"queueTimeout"',
  ]],
  ["bad removal action", minimal({ onUpstreamRemoved: { action: "kill" } }), [
    'servers[0].onUpstreamRemoved.action: "kill" is not valid: expected drain or close',
  ]],
  ["duplicate listen across servers", {
    servers: [
      { listen: ["127.0.0.1:8081", "[::1]:8081"], upstreams: ["10.0.0.1:80"] },
      { listen: ["[0:0::1]:8081"], upstreams: ["10.0.0.2:80"] },
      { listen: "127.0.0.1:8081", upstreams: ["10.0.0.3:80"] },
    ],
  }, [
    'servers[1].listen[0]: "[0:0::1]:8081" is already used by servers[0].listen[1]: expected ' +
    "each address once",
    'servers[2].listen: "127.0.0.1:8081" is already used by servers[0].listen[0]: expected ' +
    "each address once",
  ]],
  ["duplicate name", {
    servers: [
      { name: "web", listen: "127.0.0.1:8081", upstreams: ["10.0.0.1:80"] },
      { name: "web", listen: "127.0.0.1:8082", upstreams: ["10.0.0.2:80"] },
    ],
  }, ['servers[1].name: "web" is already used by servers[0]: expected each name once']],
];

for (const [kind, value, expected] of MISTAKES) {
  Deno.test(`validateConfig() names the mistake: ${kind}`, () => {
    assert.deepEqual(issuesOf(value), expected);
  });
}

Deno.test("validateConfig() reports every mistake, not just the first", () => {
  const value = {
    drainTimeout: -1,
    extra: true,
    servers: [
      {
        listen: ["127.0.0.1:8081", "localhost"],
        upstreams: ["10.0.0.1:80", { address: "10.0.0.2", weight: 1001 }],
        balance: 3,
        passive: { maxFails: -1, failTimeout: "soon" },
        faults: ["sideways:latency=1s"],
      },
      { name: "", listen: "127.0.0.1:8081", upstreams: [], idelTimeout: "5s" },
    ],
  };
  assert.deepEqual(issuesOf(value), [
    'extra: unknown key; expected "$schema", "drainTimeout", "logLevel", "logFormat", "accessLog", "admin", "adminToken", "workers" or "servers"',
    'drainTimeout: expected a duration such as "5s", or whole milliseconds from 0 to ' +
    "2147483647, got -1",
    'servers[0].listen[1]: "localhost" is not valid: expected HOST:PORT',
    'servers[0].upstreams[1].address: "10.0.0.2" is not valid: expected HOST:PORT',
    "servers[0].upstreams[1].weight: expected a whole number from 1 to 1000, got 1001",
    'servers[0].balance: expected "round-robin", "least-conn", "p2c", "random", "first" or ' +
    '"hash", got 3',
    "servers[0].passive.maxFails: expected a whole number ≥ 0, got -1",
    'servers[0].passive.failTimeout: "soon" is not valid: expected a duration such as 500ms, ' +
    "5s, 10m or 1h",
    'servers[0].faults[0]: "sideways:latency=1s" is not valid: expected DIRECTION:KEY=VALUE,... ' +
    "where DIRECTION is upstream or downstream",
    'servers[1].idelTimeout: unknown key; did you mean "idleTimeout"?',
    'servers[1].name: expected a string, got ""',
    'servers[1].listen: "127.0.0.1:8081" is already used by servers[0].listen[0]: expected ' +
    "each address once",
    "servers[1].upstreams: expected at least one upstream, got []",
  ]);
});

Deno.test("validateConfig() reads an HTTP size as --max-header-size does, with its message", () => {
  const server = (maxHeaderSize: unknown) => ({
    servers: [{
      listen: "127.0.0.1:8081",
      upstreams: ["10.0.0.1:80"],
      mode: "http",
      maxHeaderSize,
    }],
  });
  assert.equal(validateConfig(server("1KiB")).servers[0].maxHeaderSize, 1_024);
  assert.equal(validateConfig(server(4096)).servers[0].maxHeaderSize, 4_096);
  assert.throws(() => validateConfig(server("1 MiB")), {
    message:
      'servers[0].maxHeaderSize: "1 MiB" is not valid: expected a size such as 100, 64KB or 1MiB',
  });
  assert.throws(() => validateConfig(server("100")), {
    message: 'servers[0].maxHeaderSize: "100" is not valid: expected a size of at least 256 bytes',
  });
});
