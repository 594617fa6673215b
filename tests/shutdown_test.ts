/**
 * Stopping the CLI: SIGTERM or SIGINT stops accepting, open connections get --drain-timeout to
 * finish, the rest are closed with reason `shutdown`, and a second signal closes them at once.
 * Each test runs main.ts in a child process in front of an in-process echo upstream.
 */

import assert from "node:assert/strict";
import {
  cliBeforeEcho,
  CliProcess,
  freePort,
  openConnection,
  runCli,
  WORKER_FLAGS,
} from "./_cli.ts";
import { drain, randomBytes, sha256, startEcho, within, writeAll } from "./_helpers.ts";

/** Sends `bytes`, ends the sending side, and checks that exactly those bytes come back. */
async function echoesExactly(client: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  const [received] = await within(
    10_000,
    "the echo",
    Promise.all([drain(client), writeAll(client, bytes).then(() => client.closeWrite())]),
  );
  assert.equal(received.bytes, bytes.length);
  assert.equal(received.sha256, sha256(bytes));
}

/** Resolves with how the proxy ended a connection the client never ends itself. */
function closedByProxy(client: Deno.TcpConn): Promise<"eof" | "reset"> {
  return drain(client).then(
    ({ bytes }) => {
      assert.equal(bytes, 0, "nothing was sent after the first echo");
      return "eof" as const;
    },
    (error) => {
      if (error instanceof Deno.errors.ConnectionReset) return "reset" as const;
      throw error;
    },
  );
}

async function refused(port: number): Promise<void> {
  await assert.rejects(
    within(5_000, "a connect while draining", Deno.connect({ hostname: "127.0.0.1", port })),
    Deno.errors.ConnectionRefused,
  );
}

Deno.test("SIGTERM refuses new connections, open ones keep echoing byte-exact with progress logged, and the CLI exits 0 once the last one closes", async () => {
  await using cli = await cliBeforeEcho();
  const { proxy } = cli;
  using first = await openConnection(cli.port);
  using second = await openConnection(cli.port);

  proxy.child.kill("SIGTERM");
  await proxy.waitFor(/Stopping: no new connections; 2 open get 30s to finish$/);
  await refused(cli.port);

  await echoesExactly(first, randomBytes(256 * 1024, 1));
  const progress = await proxy.waitFor(/Draining: /, 5_000);
  const left = Number(
    progress.match(/Draining: 1 connection left; any still open in (\d+)s will be closed$/)?.[1],
  );
  assert.ok(left >= 25 && left <= 30, progress);

  await echoesExactly(second, randomBytes(1024 * 1024, 2));
  const closedAt = performance.now();
  assert.equal((await within(5_000, "the exit", proxy.exit())).code, 0);
  const exitedAfter = performance.now() - closedAt;
  assert.ok(exitedAfter < 3_000, `exited ${exitedAfter}ms after the last connection closed`);

  assert.match(proxy.lines.at(-2) ?? "", /Drained: all connections finished in \d+\.\ds$/);
  assert.match(proxy.lines.at(-1) ?? "", /Stopped$/);
  assert.equal(proxy.lines.filter((line) => / client_closed up=/.test(line)).length, 2);
  assert.ok(!proxy.lines.some((line) => / shutdown up=/.test(line)), proxy.lines.join("\n"));
});

Deno.test("--drain-timeout 500ms closes a connection that stays open after about 0.5s with reason shutdown, says so, and exits 0", async () => {
  await using cli = await cliBeforeEcho(["--drain-timeout", "500ms"]);
  const { proxy } = cli;
  using client = await openConnection(cli.port);

  const started = performance.now();
  proxy.child.kill("SIGTERM");
  await within(5_000, "the proxy to close the connection", closedByProxy(client));
  const closedAfter = performance.now() - started;
  assert.ok(closedAfter >= 450 && closedAfter < 3_000, `closed after ${closedAfter}ms`);
  assert.equal((await within(5_000, "the exit", proxy.exit())).code, 0);

  const lines = proxy.lines.join("\n");
  assert.match(lines, /Stopping: no new connections; 1 open get 500ms to finish\n/);
  assert.match(lines, / shutdown up=1B down=1B /);
  assert.match(lines, /Closed 1 connection still open after 500ms \(shutdown\)\n/);
  assert.doesNotMatch(lines, /Drained:/);
});

Deno.test("--drain-timeout 0 closes open connections at once on SIGTERM", async () => {
  await using cli = await cliBeforeEcho(["--drain-timeout", "0"]);
  const { proxy } = cli;
  using client = await openConnection(cli.port);

  const started = performance.now();
  proxy.child.kill("SIGTERM");
  await within(5_000, "the proxy to close the connection", closedByProxy(client));
  assert.equal((await within(5_000, "the exit", proxy.exit())).code, 0);
  const waited = performance.now() - started;
  assert.ok(waited < 2_000, `exited after ${waited}ms`);

  const lines = proxy.lines.join("\n");
  assert.match(lines, /Stopping: no new connections; closing 1 open at once\n/);
  assert.match(lines, / shutdown up=1B down=1B /);
  assert.match(lines, /Closed 1 connection at once, as --drain-timeout is 0 \(shutdown\)\n/);
});

Deno.test("a second signal (SIGTERM, then SIGINT) closes a held connection at once, long before a 30s drain, and logs it", async () => {
  await using cli = await cliBeforeEcho(["--drain-timeout", "30s"]);
  const { proxy } = cli;
  using client = await openConnection(cli.port);

  proxy.child.kill("SIGTERM");
  await proxy.waitFor(/Stopping: no new connections; 1 open get 30s to finish$/);
  const started = performance.now();
  proxy.child.kill("SIGINT");
  await within(2_000, "the proxy to close the connection", closedByProxy(client));
  assert.equal((await within(2_000, "the exit", proxy.exit())).code, 0);
  const waited = performance.now() - started;
  assert.ok(waited < 2_000, `exited ${waited}ms after the second signal`);

  const lines = proxy.lines.join("\n");
  assert.match(lines, /\[WRN\] minginx: Stopping now: closing 1 open connections\n/);
  assert.match(lines, / shutdown up=1B down=1B /);
  assert.match(lines, /Closed 1 connection at once on a second signal \(shutdown\)\n/);
});

Deno.test("--workers 2: each worker drains for the same --drain-timeout, progress and the closed count are summed over both, and the CLI exits 0", async () => {
  const CONNECTIONS = 16; // spread by source port: all 16 on one worker has a chance of 2 in 2^16
  await using echo = startEcho();
  const port = freePort();
  const upstream = `127.0.0.1:${echo.address.port}`;
  await using proxy = new CliProcess(
    ["-l", `127.0.0.1:${port}`, "-u", upstream, "--workers", "2", "--drain-timeout", "5s"],
    `127.0.0.1:${port},${upstream}`,
    WORKER_FLAGS,
  );
  await proxy.waitFor(/listening on 127\.0\.0\.1:\d+ with 2 workers/);

  const clients: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < CONNECTIONS; i++) clients.push(await openConnection(port));
    proxy.child.kill("SIGTERM");
    const open = await Promise.all([1, 2].map(async (worker) => {
      const line = await proxy.waitFor(
        new RegExp(`Worker ${worker}: no new connections; (\\d+) open get 5s to finish$`),
      );
      return Number(line.match(/(\d+) open/)?.[1]);
    }));
    assert.equal(open[0] + open[1], CONNECTIONS);
    await proxy.waitFor(/Stopping: no new connections; 16 open get 5s to finish$/);
    await refused(port);

    // Half of them finish within the drain; the progress line counts what is left in both workers.
    const half = CONNECTIONS / 2;
    await Promise.all(
      clients.slice(0, half).map((client, i) => echoesExactly(client, randomBytes(64 * 1024, i))),
    );
    await proxy.waitFor(
      /Draining: 8 connections left; any still open in [1-4]s will be closed$/,
      5_000,
    );

    // The other half never finish: the drain timeout closes them.
    const ends = await within(
      10_000,
      "the proxy to close the rest",
      Promise.all(clients.slice(half).map(closedByProxy)),
    );
    assert.equal(ends.length, half);
  } finally {
    for (const client of clients) client.close();
  }

  assert.equal((await within(10_000, "the exit", proxy.exit())).code, 0, proxy.lines.join("\n"));
  const lines = proxy.lines.join("\n");
  assert.match(lines, /Closed 8 connections still open after 5s \(shutdown\)\n/);
  assert.equal(proxy.lines.filter((line) => / client_closed up=/.test(line)).length, 8);
  assert.equal(proxy.lines.filter((line) => / shutdown up=1B down=1B /.test(line)).length, 8);
  assert.doesNotMatch(lines, /did not report their counters/);
});

Deno.test("--drain-timeout bogus is a usage error naming the value, exit 2", async () => {
  const { code, stdout, stderr } = await runCli(["--drain-timeout", "bogus"]);
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    'Cannot parse --drain-timeout "bogus": expected a duration such as 500ms, 5s, 10m or 1h\n',
  );
});

Deno.test("--help documents --drain-timeout with its 30s default", async () => {
  const { code, stdout } = await runCli(["--help"]);
  assert.equal(code, 0);
  assert.match(stdout, /--drain-timeout DURATION {4}On SIGINT or SIGTERM/);
  assert.match(stdout, /0 = close them at once \(default: 30s\)/);
});
