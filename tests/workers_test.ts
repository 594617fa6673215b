import assert from "node:assert/strict";
import { CliProcess, freePort, openConnection, runCli, WORKER_FLAGS } from "./_cli.ts";
import { drain, randomBytes, sha256, startEcho, within, writeAll } from "./_helpers.ts";

const CONNECTIONS = 24;

Deno.test("CLI --workers 2: both workers carry connections, and SIGTERM drains both", async () => {
  await using echo = startEcho();
  const port = freePort();
  const upstream = `127.0.0.1:${echo.address.port}`;
  await using proxy = new CliProcess(
    ["-l", `127.0.0.1:${port}`, "-u", upstream, "--workers", "2"],
    `127.0.0.1:${port},${upstream}`,
    WORKER_FLAGS,
  );
  await proxy.waitFor(/listening on 127\.0\.0\.1:\d+ with 2 workers/);

  // SO_REUSEPORT spreads connections by their source port: with 24 of them, the chance that one
  // worker gets none is 2 in 2^24.
  const clients: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < CONNECTIONS; i++) clients.push(await openConnection(port));
    proxy.child.kill("SIGTERM");
    const open = await Promise.all([1, 2].map(async (worker) => {
      const line = await proxy.waitFor(
        new RegExp(`Worker ${worker}: no new connections; \\d+ open`),
      );
      return Number(line.match(/(\d+) open/)?.[1]);
    }));
    assert.ok(open[0] > 0 && open[1] > 0, `both workers hold connections: ${open.join(" and ")}`);
    assert.equal(open[0] + open[1], CONNECTIONS);
    await proxy.waitFor(/Stopping: no new connections; 24 open get 30s to finish/);

    // Draining: no new connection is accepted, and every open one still carries bytes both ways.
    await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
    await Promise.all(clients.map(async (client, i) => {
      const bytes = randomBytes(64 * 1024, i + 1);
      const [received] = await within(
        10_000,
        "echo while draining",
        Promise.all([
          drain(client),
          writeAll(client, bytes).then(() => client.closeWrite()),
        ]),
      );
      assert.equal(received.bytes, bytes.length);
      assert.equal(received.sha256, sha256(bytes));
    }));
  } finally {
    for (const client of clients) client.close();
  }

  const status = await within(10_000, "exit after the drain", proxy.exit());
  assert.equal(status.code, 0, proxy.lines.join("\n"));
  for (const worker of [1, 2]) {
    assert.ok(
      proxy.lines.some((line) =>
        new RegExp(`Worker ${worker} stopped after \\d+ connections`).test(line)
      ),
      `worker ${worker} stopped:\n${proxy.lines.join("\n")}`,
    );
  }
  const closed = proxy.lines.filter((line) => /client_closed/.test(line));
  assert.equal(closed.length, CONNECTIONS, `one access-log line per connection`);
});

Deno.test("CLI --workers 2 names the Deno flags it needs and exits 2 without them", async () => {
  const { code, stderr } = await runCli(
    ["-l", "127.0.0.1:9", "-u", "127.0.0.1:9", "--workers", "2"],
    "127.0.0.1:9",
  );
  assert.equal(code, 2);
  assert.match(stderr, /--workers 2 shares the port with SO_REUSEPORT/);
  assert.match(stderr, /run with --unstable-net --allow-read=\/.+\/lib\n$/);
});

Deno.test("CLI --workers rejects 0, a fraction and a word, naming what it accepts", async () => {
  for (const value of ["0", "1.5", "many", "257"]) {
    const { code, stderr } = await runCli(["--workers", value]);
    assert.equal(code, 2);
    assert.equal(
      stderr,
      `Cannot parse --workers "${value}": expected a whole number from 1 to 256, or auto\n`,
    );
  }
});
