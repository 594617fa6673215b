/**
 * The CLI's pool flags: how they parse, how they fail, and what balancing, health checks and
 * failover do to real connections through `main.ts`.
 */

import assert from "node:assert/strict";
import { parseCliArgs } from "../lib/cli/args.ts";
import { CliProcess, freePort, freePorts, runCli } from "./_cli.ts";
import {
  delay,
  randomBytes,
  readToEnd,
  sha256,
  startBlackhole,
  startEcho,
  within,
  writeAll,
} from "./_helpers.ts";

/**
 * The CLI forwarding to `upstreams` (as `--upstream` takes them) with `extraArgs`, run with
 * exactly the --allow-net it needs; resolves once it listens.
 */
async function cliBeforePool(upstreams: string[], extraArgs: string[] = []) {
  const port = freePort();
  const listen = `127.0.0.1:${port}`;
  const hosts = upstreams.map((upstream) => upstream.split(",")[0]);
  const proxy = new CliProcess(
    ["-l", listen, ...upstreams.flatMap((upstream) => ["-u", upstream]), ...extraArgs],
    [listen, ...hosts].join(","),
  );
  try {
    await proxy.waitFor(/listening on/);
  } catch (error) {
    await proxy[Symbol.asyncDispose]();
    throw error;
  }
  return { proxy, port, [Symbol.asyncDispose]: () => proxy[Symbol.asyncDispose]() };
}

/** Sends `bytes`, half-closes, and returns the SHA-256 of everything that comes back. */
async function roundTrip(port: number, bytes: Uint8Array): Promise<string> {
  using client = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(client, bytes);
  await client.closeWrite();
  return sha256(await within(5_000, "echo through the pool", readToEnd(client)));
}

/** Waits until the CLI has written `count` access-log lines, and returns them. */
async function accessLines(proxy: CliProcess, count: number): Promise<string[]> {
  const deadline = performance.now() + 5_000;
  for (;;) {
    const lines = proxy.lines.filter((line) => line.includes(" minginx.access: "));
    if (lines.length >= count) return lines;
    if (performance.now() > deadline) {
      throw new Error(`${lines.length} of ${count} access lines in 5s:\n${proxy.lines.join("\n")}`);
    }
    await delay(50);
  }
}

Deno.test("parseCliArgs() reads weights and backups, and fills in the pool defaults", () => {
  const options = parseCliArgs([
    "--upstream",
    "10.0.0.1:80,weight=3",
    "--upstream",
    "[::1]:81,backup",
  ]);
  assert.deepEqual(options.upstreams, [
    { address: { hostname: "10.0.0.1", port: 80 }, weight: 3, backup: false },
    { address: { hostname: "::1", port: 81 }, weight: 1, backup: true },
  ]);
  assert.equal(options.balance, "round-robin");
  assert.equal(options.healthCheck, undefined);
  assert.deepEqual(options.health, { interval: 2_000, timeout: 1_000, rise: 2, fall: 3 });
  assert.equal(options.maxFails, 1);
  assert.equal(options.failTimeout, 10_000);
  assert.equal(options.slowStart, 0);
  assert.equal(options.connectTries, 3);
  assert.equal(options.connectTimeout, 5_000);
  assert.equal(options.connectDeadline, 15_000);
  assert.equal(options.dnsTtl, 10_000);
  const none = parseCliArgs([]);
  assert.deepEqual(none.upstreams, [
    { address: { hostname: "127.0.0.1", port: 8080 }, weight: 1, backup: false },
  ]);
});

Deno.test("parseCliArgs() reads every pool flag", () => {
  const options = parseCliArgs([
    ...["-b", "least-conn", "--health-check", "http:/healthz,status=200-299,401"],
    ...["--health-interval", "500ms", "--health-timeout", "250ms"],
    ...["--health-rise", "1", "--health-fall", "5", "--max-fails", "0", "--fail-timeout", "30s"],
    ...["--slow-start", "1m", "--connect-tries", "2", "--connect-timeout", "1s"],
    ...["--connect-deadline", "3s", "--dns-ttl", "0"],
  ]);
  assert.equal(options.balance, "least-conn");
  assert.equal(options.healthCheck, "http:/healthz,status=200-299,401");
  assert.deepEqual(options.health, { interval: 500, timeout: 250, rise: 1, fall: 5 });
  assert.deepEqual(
    [options.maxFails, options.failTimeout, options.slowStart, options.connectTries],
    [0, 30_000, 60_000, 2],
  );
  assert.deepEqual([options.connectTimeout, options.connectDeadline, options.dnsTtl], [
    1_000,
    3_000,
    0,
  ]);
});

Deno.test("CLI rejects malformed pool flags with one exact line, exit 2", async () => {
  const upstreamHint = "expected HOST:PORT followed by ,weight=N (1 to 1000) or ,backup";
  const cases: [string[], string][] = [
    [
      ["--upstream", "10.0.0.1:80,weight=0"],
      `Cannot parse --upstream "10.0.0.1:80,weight=0": ${upstreamHint}`,
    ],
    [
      ["--upstream", "10.0.0.1:80,wieght=3"],
      `Cannot parse --upstream "10.0.0.1:80,wieght=3": ${upstreamHint}`,
    ],
    [
      ["--balance", "fastest"],
      'Cannot parse --balance "fastest": expected round-robin, least-conn, p2c, random, first or hash',
    ],
    [
      ["--health-check", "htp:/x"],
      'Cannot parse --health-check "htp:/x": expected tcp, http:/PATH[,status=...] or send=...,expect=...',
    ],
    [["--health-rise", "2"], "Option --health-rise needs --health-check: add it, or drop it"],
    [
      ["--connect-tries", "0"],
      'Cannot parse --connect-tries "0": expected a whole number, at least 1',
    ],
    [
      ["--health-check", "tcp", "--health-interval", "0"],
      'Cannot parse --health-interval "0": expected a duration above 0, such as 2s',
    ],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await runCli(args);
    assert.equal(code, 2, `exit code for ${args.join(" ")}`);
    assert.equal(stdout, "");
    assert.equal(stderr, `${message}\n`, `message for ${args.join(" ")}`);
  }
});

Deno.test("CLI --help lists every pool flag", async () => {
  const { code, stdout } = await runCli(["--help"]);
  assert.equal(code, 0);
  for (
    const flag of [
      "HOST:PORT[,weight=N][,backup]",
      "-b, --balance NAME",
      "round-robin, least-conn, p2c, random, first, hash",
      ...["--health-check CHECK", "--health-interval", "--health-timeout", "--health-rise"],
      ...["--health-fall", "--max-fails", "--fail-timeout", "--slow-start", "--connect-tries"],
      ...["--connect-timeout", "--connect-deadline", "--dns-ttl"],
    ]
  ) assert.ok(stdout.includes(flag), `--help lacks "${flag}"`);
});

Deno.test("CLI least-conn with a dead upstream and tcp checks fails no client, and marks it down once", async () => {
  await using a = startEcho();
  await using b = startEcho();
  const dead = `127.0.0.1:${freePort()}`;
  const echoes = [a, b].map(({ address }) => `127.0.0.1:${address.port}`);
  await using cli = await cliBeforePool([echoes[0], dead, echoes[1]], [
    ...["--balance", "least-conn", "--health-check", "tcp", "--health-interval", "200ms"],
  ]);
  const connections = 12;
  for (let i = 0; i < connections; i++) {
    const bytes = randomBytes(300 + i, i + 1);
    assert.equal(await roundTrip(cli.port, bytes), sha256(bytes), `connection ${i + 1}`);
  }
  const lines = await accessLines(cli.proxy, connections);
  assert.ok(
    lines.every((line) => / client_closed up=3\d\dB down=3\d\dB /.test(line)),
    lines.join("\n"),
  );
  for (const echo of echoes) {
    assert.ok(lines.some((line) => line.includes(`-> ${echo} `)), `no connection went to ${echo}`);
  }
  const down = new RegExp(`Upstream ${dead} in pool default is down \\(3 health checks failed`);
  await cli.proxy.waitFor(down, 5_000);
  await delay(600); // three more rounds of checks, all failing: no further line
  assert.equal(cli.proxy.lines.filter((line) => down.test(line)).length, 1);
});

Deno.test("CLI --balance hash sends every connection from 127.0.0.1 to the same upstream", async () => {
  await using a = startEcho();
  await using b = startEcho();
  const upstreams = [a, b].map(({ address }) => `127.0.0.1:${address.port}`);
  await using cli = await cliBeforePool(upstreams, ["--balance", "hash"]);
  const connections = 10;
  for (let i = 0; i < connections; i++) {
    const bytes = randomBytes(400, i + 1);
    assert.equal(await roundTrip(cli.port, bytes), sha256(bytes), `connection ${i + 1}`);
  }
  assert.deepEqual([a.accepted, b.accepted].sort((x, y) => x - y), [0, connections]);
});

Deno.test("CLI logs no_upstream when every upstream is dead, trying all of them even once ejected", async () => {
  const deads = freePorts(2).map((port) => `127.0.0.1:${port}`);
  await using cli = await cliBeforePool(deads);
  for (let i = 0; i < 2; i++) {
    using client = await Deno.connect({ hostname: "127.0.0.1", port: cli.port });
    assert.equal(await within(5_000, "close", client.read(new Uint8Array(1))), null);
  }
  const lines = await accessLines(cli.proxy, 2);
  for (const line of lines) {
    assert.match(line, /\[WRN\] minginx\.access: 127\.0\.0\.1:\d+ no_upstream up=0B down=0B/);
    // The second connection finds both ejected and still tries each, in list order.
    assert.ok(line.includes(`Cannot connect to ${deads[0]}: `), line);
    assert.ok(line.includes(`; ${deads[1]}: `), line);
  }
});

Deno.test("CLI --connect-timeout bounds each try and --connect-deadline all of them", async () => {
  await using hole = await startBlackhole();
  await using echo = startEcho();
  const silent = `127.0.0.1:${hole.address.port}`;
  {
    const args = ["--balance", "first", "--connect-timeout", "200ms"];
    await using cli = await cliBeforePool([silent, `127.0.0.1:${echo.address.port}`], args);
    const bytes = randomBytes(500);
    const started = performance.now();
    assert.equal(await roundTrip(cli.port, bytes), sha256(bytes));
    assert.ok(performance.now() - started < 2_000, "the silent upstream held the client too long");
  }
  {
    const args = ["--connect-timeout", "5s", "--connect-deadline", "300ms"];
    await using cli = await cliBeforePool([silent], args);
    using client = await Deno.connect({ hostname: "127.0.0.1", port: cli.port });
    assert.equal(await within(5_000, "close", client.read(new Uint8Array(1))), null);
    assert.match(
      await cli.proxy.waitFor(/ connect_timeout /),
      / connect_timeout up=0B down=0B \d+ms.*within 300ms/,
    );
  }
});
