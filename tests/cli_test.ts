import assert from "node:assert/strict";
import { MAX_WAITING_LINES } from "../lib/cli/logging.ts";
import denoJson from "../deno.json" with { type: "json" };
import { cliBeforeEcho, freePort, openConnection, runCli, waitForPort } from "./_cli.ts";
import { drain, randomBytes, readToEnd, sha256, startEcho, within, writeAll } from "./_helpers.ts";

Deno.test("CLI --help lists every option with its default and exits 0", async () => {
  const { code, stdout, stderr } = await runCli(["--help"]);
  assert.equal(code, 0);
  assert.equal(stderr, "");
  for (
    const expected of [
      "-l, --listen HOST:PORT",
      "(default: 127.0.0.1:8081)",
      "-u, --upstream HOST:PORT",
      "(default: 127.0.0.1:8080)",
      "--connect-timeout DURATION",
      "(default: 5s)",
      "--idle-timeout DURATION",
      "(default: 10m)",
      "--log-level LEVEL",
      "(default: info)",
      "--log-format FORMAT",
      "(default: pretty)",
      "-h, --help",
      "-V, --version",
      "-c, --config FILE",
      "--watch",
      "check --config FILE",
      "permissions [--config FILE]",
      "SIGHUP reloads the --config file",
    ]
  ) assert.ok(stdout.includes(expected), `--help lacks "${expected}"`);
  assert.equal((await runCli(["-h"])).stdout, stdout);
});

Deno.test("CLI --version prints the version from deno.json", async () => {
  for (const flag of ["--version", "-V"]) {
    const { code, stdout } = await runCli([flag]);
    assert.equal(code, 0);
    assert.equal(stdout, `minginx ${denoJson.version}\n`);
  }
});

Deno.test("CLI rejects bad flags with one line naming the value, exit 2", async () => {
  const cases: [string[], string][] = [
    [["--bogus"], 'Unknown option "--bogus": expected one of the options in --help'],
    [["-x"], 'Unknown option "-x": expected one of the options in --help'],
    [["-u", "10.0.0:80"], 'Cannot parse --upstream "10.0.0:80": expected HOST:PORT'],
    [["--listen", "localhost"], 'Cannot parse --listen "localhost": expected HOST:PORT'],
    [
      ["--connect-timeout", "5"],
      'Cannot parse --connect-timeout "5": expected a duration such as 500ms, 5s, 10m or 1h',
    ],
    [
      ["--idle-timeout", "ten"],
      'Cannot parse --idle-timeout "ten": expected a duration such as 500ms, 5s, 10m or 1h',
    ],
    [
      ["--log-level", "verbose"],
      'Cannot parse --log-level "verbose": expected debug, info, warning or error',
    ],
    [["--log-format", "xml"], 'Cannot parse --log-format "xml": expected pretty or json'],
    [["--listen"], 'Option "--listen" needs a value: see --help'],
    [["--help=yes"], 'Option "--help" takes no value: expected "--help" alone'],
    [["8080"], 'Unexpected argument "8080": options start with - or --'],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await runCli(args);
    assert.equal(code, 2, `exit code for ${args.join(" ")}`);
    assert.equal(stdout, "");
    assert.equal(stderr, `${message}\n`, `message for ${args.join(" ")}`);
  }
});

Deno.test("CLI names the exact --allow-net value when a permission is missing, exit 2", async () => {
  const listen = `127.0.0.1:${freePort()}`;
  const args = ["-l", listen, "-u", "127.0.0.1:9000", "-u", "[::1]:9001"];
  const flag = `--allow-net=${listen},127.0.0.1:9000,[::1]:9001`;

  const partly = await runCli(args, `${listen},127.0.0.1:9000`);
  assert.equal(partly.code, 2);
  assert.equal(
    partly.stderr,
    `Missing network permission for [::1]:9001 (upstream): run with ${flag}\n`,
  );

  const none = await runCli(args);
  assert.equal(none.code, 2);
  assert.equal(
    none.stderr,
    `Missing network permission for ${listen} (listen), 127.0.0.1:9000 (upstream), [::1]:9001 (upstream): run with ${flag}\n`,
  );
  // A hostname is matched as written: allowing its address does not allow the name.
  const byName = await runCli(["-l", listen, "-u", "localhost:9000"], `${listen},127.0.0.1:9000`);
  assert.equal(byName.code, 2);
  assert.match(
    byName.stderr,
    /localhost:9000 \(upstream\): run with --allow-net=.*,localhost:9000/,
  );
});

Deno.test("CLI reports a port in use in one line, exit 1", async () => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const listen = `127.0.0.1:${taken.addr.port}`;
  const { code, stderr } = await runCli(["-l", listen], `${listen},127.0.0.1:8080`);
  assert.equal(code, 1);
  assert.equal(stderr, `Cannot listen on ${listen}: address already in use\n`);
});

Deno.test("CLI proxies with nothing wider than --allow-net=<listen>,<upstream> and exits 0 on SIGTERM", async () => {
  await using cli = await cliBeforeEcho();
  const { proxy } = cli;
  {
    using client = await Deno.connect({ hostname: "127.0.0.1", port: cli.port });
    const payload = randomBytes(1 << 20, 77);
    const [, reply] = await Promise.all([
      writeAll(client, payload).then(() => client.closeWrite()),
      within(10_000, "echo through the CLI", drain(client)),
    ]);
    assert.equal(reply.sha256, sha256(payload));
  }
  const line = await proxy.waitFor(/client_closed/);
  assert.match(
    line,
    /\[INF\] minginx\.access: 127\.0\.0\.1:\d+ -> 127\.0\.0\.1:\d+ client_closed up=1048576B down=1048576B \d+ms/,
  );
  proxy.child.kill("SIGTERM");
  assert.equal((await within(15_000, "exit after SIGTERM", proxy.exit())).code, 0);
  assert.ok(proxy.lines.some((text) => text.includes("Stopped")));
  assert.ok(!proxy.lines.some((text) => /NotCapable|Requires .* access/.test(text)));
});

Deno.test("CLI drains on SIGTERM: open connections keep working, then it exits 0", async () => {
  await using cli = await cliBeforeEcho();
  const { proxy } = cli;
  using client = await openConnection(cli.port);
  proxy.child.kill("SIGTERM");
  await proxy.waitFor(/Stopping: no new connections; 1 open get 30s to finish/);
  await writeAll(client, new Uint8Array([2, 3]));
  await client.closeWrite();
  assert.deepEqual(
    await within(5_000, "echo while draining", readToEnd(client)),
    new Uint8Array([2, 3]),
  );
  const started = performance.now();
  assert.equal((await within(5_000, "exit after the drain", proxy.exit())).code, 0);
  assert.ok(performance.now() - started < 3_000, "it exits once the last connection ends");
});

Deno.test("CLI closes open connections at once on a second signal", async () => {
  await using cli = await cliBeforeEcho();
  const { proxy } = cli;
  using client = await openConnection(cli.port);
  proxy.child.kill("SIGINT");
  await proxy.waitFor(/Stopping: no new connections/);
  proxy.child.kill("SIGINT");
  assert.equal((await within(5_000, "exit after a second SIGINT", proxy.exit())).code, 0);
  assert.ok(proxy.lines.some((text) => /shutdown/.test(text)));
  assert.equal((await within(5_000, "client closed", drain(client))).bytes, 0);
});

Deno.test("CLI --log-format json writes one JSON object a line", async () => {
  await using cli = await cliBeforeEcho(["--log-format", "json", "--log-level", "debug"]);
  const { proxy, upstream } = cli;
  {
    using client = await Deno.connect({ hostname: "127.0.0.1", port: cli.port });
    await writeAll(client, new Uint8Array(10));
    await client.closeWrite();
    await within(5_000, "echo", drain(client));
  }
  await proxy.waitFor(/client_closed/);
  proxy.child.kill("SIGTERM");
  assert.equal((await proxy.exit()).code, 0);
  const records = proxy.lines.map((line) => JSON.parse(line));
  const access = records.find((record) => record.logger === "minginx.access");
  assert.equal(access.level, "INFO");
  assert.equal(access.properties.reason, "client_closed");
  assert.equal(access.properties.bytesUp, 10);
  assert.equal(access.properties.bytesDown, 10);
  assert.equal(access.properties.upstream, upstream);
});

Deno.test("CLI says how many log lines it dropped while standard error was not read", async () => {
  const CLIENTS = MAX_WAITING_LINES + 2_000;
  await using echo = startEcho();
  const port = freePort();
  const upstream = `127.0.0.1:${echo.address.port}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      `--allow-net=127.0.0.1:${port},${upstream}`,
      "main.ts",
      "-l",
      `127.0.0.1:${port}`,
      "-u",
      upstream,
    ],
    cwd: new URL("..", import.meta.url).pathname,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  try {
    await within(10_000, "the CLI to listen", waitForPort(port));
    // Nobody reads standard error: 12,000 access-log lines overflow the pipe and the log buffer
    // of MAX_WAITING_LINES (10,000).
    for (let batch = 0; batch < CLIENTS / 100; batch++) {
      await Promise.all(Array.from({ length: 100 }, async () => {
        using client = await Deno.connect({ hostname: "127.0.0.1", port });
        await client.closeWrite();
        await drain(client);
      }));
    }
  } finally {
    child.kill("SIGTERM");
  }
  const { code, stderr } = await within(30_000, "exit", child.output());
  const lines = new TextDecoder().decode(stderr).trimEnd().split("\n");
  assert.equal(code, 0);
  const last = lines.at(-1) ?? "";
  assert.match(
    last,
    /^minginx lost (\d+) log lines: (\d+) dropped because standard error did not keep up, 0 failed to write$/,
  );
  const lost = Number(last.match(/lost (\d+)/)?.[1]);
  const written = lines.length - 1; // every line but the last is a log line
  assert.ok(lost > 0);
  // An access line for each client and for the readiness probe, and 3 more: listening, stopping,
  // stopped. Each was either written or counted as lost.
  assert.equal(written + lost, CLIENTS + 4);
});
