/**
 * The CLI's access, limit and fault flags: how they parse, how they fail, and what they do to
 * real connections through `main.ts`.
 */

import assert from "node:assert/strict";
import { parseCliArgs } from "../lib/cli/args.ts";
import { cliBeforeEcho, runCli } from "./_cli.ts";
import { randomBytes, readToEnd, sha256, within, writeAll } from "./_helpers.ts";

/** Sends `bytes`, half-closes, and returns the SHA-256 of everything that comes back. */
async function roundTrip(port: number, bytes: Uint8Array): Promise<string> {
  using client = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(client, bytes);
  await client.closeWrite();
  return sha256(await within(5_000, "echo", readToEnd(client)));
}

Deno.test("parseCliArgs() keeps --allow and --deny in command-line order", () => {
  const options = parseCliArgs([
    "--deny",
    "10.0.0.1",
    "--allow",
    "10.0.0.0/8",
    "--deny",
    "all",
  ]);
  assert.deepEqual(options.ipRules, [
    { action: "deny", cidr: "10.0.0.1" },
    { action: "allow", cidr: "10.0.0.0/8" },
    { action: "deny", cidr: "all" },
  ]);
});

Deno.test("parseCliArgs() fills in the burst and the queue defaults", () => {
  const options = parseCliArgs(["--rate-limit", "20/s", "--max-connections", "100"]);
  assert.deepEqual(options.rateLimit, { rate: 20, burst: 20 });
  assert.deepEqual(options.maxConnections, { max: 100, queue: 0, queueTimeout: 5_000 });
  assert.equal(options.maxConnectionsPerIp, undefined);
  assert.deepEqual(options.faults, []);
  const queued = parseCliArgs([
    "--max-connections",
    "100",
    "--queue",
    "10",
    "--queue-timeout",
    "2s",
    "--max-connections-per-ip",
    "3",
  ]);
  assert.deepEqual(queued.maxConnections, { max: 100, queue: 10, queueTimeout: 2_000 });
  assert.equal(queued.maxConnectionsPerIp, 3);
});

Deno.test("CLI rejects malformed access, limit and fault flags with exit code 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--deny", "10.0.0.0/33"], /^Cannot parse --deny "10\.0\.0\.0\/33": expected/],
    [["--allow", "banana"], /^Cannot parse --allow "banana": expected/],
    [["--rate-limit", "20/x"], /^Cannot parse --rate-limit "20\/x": expected/],
    [["--rate-burst", "5"], /^Option --rate-burst needs --rate-limit/],
    [["--max-connections", "0"], /^Cannot parse --max-connections "0": expected a whole number/],
    [["--queue", "5"], /^Option --queue needs --max-connections/],
    [["--max-connections-per-ip", "-1"], /--max-connections-per-ip/],
    [["--fault", "upstream:latncy=1ms"], /^Cannot parse --fault "upstream:latncy=1ms": /],
    [["--fault", "sideways:latency=1ms"], /^Cannot parse --fault "sideways:latency=1ms": /],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr.trim(), message);
    assert.equal(stderr.trim().split("\n").length, 1, `one line for ${args.join(" ")}`);
  }
});

Deno.test("CLI --deny closes the client before any upstream is contacted", async () => {
  await using cli = await cliBeforeEcho(["--deny", "127.0.0.0/8"]);
  using client = await Deno.connect({ hostname: "127.0.0.1", port: cli.port });
  assert.equal(await within(5_000, "close", client.read(new Uint8Array(1))), null);
  await cli.proxy.waitFor(/ denied /);
  assert.equal(cli.echo.accepted, 0);
});

Deno.test("CLI --allow lets a matching client through with every byte", async () => {
  await using cli = await cliBeforeEcho(["--allow", "127.0.0.1", "--deny", "all"]);
  const bytes = randomBytes(100_000);
  assert.equal(await roundTrip(cli.port, bytes), sha256(bytes));
});

Deno.test("CLI --max-connections 1 closes a second client with over_limit", async () => {
  await using cli = await cliBeforeEcho(["--max-connections", "1"]);
  using first = await Deno.connect({ hostname: "127.0.0.1", port: cli.port });
  await writeAll(first, new Uint8Array([7]));
  assert.equal(await within(5_000, "echo", first.read(new Uint8Array(1))), 1);
  using second = await Deno.connect({ hostname: "127.0.0.1", port: cli.port });
  assert.equal(await within(5_000, "close", second.read(new Uint8Array(1))), null);
  await cli.proxy.waitFor(/ over_limit /);
  assert.equal(cli.echo.accepted, 1);
});

Deno.test("CLI --rate-limit closes the connection over the burst with rate_limited", async () => {
  await using cli = await cliBeforeEcho(["--rate-limit", "1/m", "--rate-burst", "2"]);
  const bytes = randomBytes(1_000);
  assert.equal(await roundTrip(cli.port, bytes), sha256(bytes));
  assert.equal(await roundTrip(cli.port, bytes), sha256(bytes));
  using third = await Deno.connect({ hostname: "127.0.0.1", port: cli.port });
  assert.equal(await within(5_000, "close", third.read(new Uint8Array(1))), null);
  await cli.proxy.waitFor(/ rate_limited /);
  assert.equal(cli.echo.accepted, 2);
});

Deno.test("CLI --fault reset-after-bytes passes exactly that many bytes, then ends with fault", async () => {
  await using cli = await cliBeforeEcho(["--fault", "upstream:reset-after-bytes=1000"]);
  await cli.proxy.waitFor(/fault/i); // the startup warning that faults are on
  using client = await Deno.connect({ hostname: "127.0.0.1", port: cli.port });
  await writeAll(client, randomBytes(10_000)).catch(() => {}); // the reset may cut the write
  const echoed = await within(5_000, "echo until reset", readToEnd(client).catch(() => null));
  if (echoed !== null) assert.ok(echoed.length <= 1_000, `${echoed.length} bytes came back`);
  const line = await cli.proxy.waitFor(/ fault /);
  assert.match(line, /up=1000B/);
});
