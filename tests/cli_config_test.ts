/**
 * `main.ts --config`, `check` and `permissions` through Deno.Command: reloads on SIGHUP and on a
 * file change, refused reloads that leave the old config serving, and the subcommands' output.
 */

import assert from "node:assert/strict";
import { CliProcess, freePort, runCli } from "./_cli.ts";
import { echoes, probe } from "./_echo.ts";
import { startEcho, type TestServer, until } from "./_helpers.ts";

/** A config file in a fresh temporary folder, which the test rewrites; disposing removes both. */
async function configFile() {
  const dir = await Deno.makeTempDir({ prefix: "minginx_config_" });
  const path = `${dir}/minginx.jsonc`;
  return {
    path,
    /** Writes the file whole at once, as an editor saving by rename does. */
    async write(text: string) {
      await Deno.writeTextFile(`${path}.tmp`, text);
      await Deno.rename(`${path}.tmp`, path);
    },
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

const one = (listen: number, upstream: TestServer, extra = "") =>
  `{
  // written by the test
  "servers": [{ "listen": "127.0.0.1:${listen}", "upstreams": ["127.0.0.1:${upstream.address.port}"]${extra} }],
}`;

/** Which of the echo servers served a new connection: the one whose count went up. */
async function servedBy(port: number, servers: TestServer[]): Promise<number> {
  const before = servers.map(({ accepted }) => accepted);
  using client = await Deno.connect({ hostname: "127.0.0.1", port });
  await echoes(client, 4_096, port);
  return servers.findIndex((server, i) => server.accepted > before[i]);
}

Deno.test("CLI --config reloads on SIGHUP: new connections follow the new file, open ones stay, a bad file is refused", async () => {
  const [a, b] = [startEcho(), startEcho()];
  await using file = await configFile();
  const port = freePort();
  await file.write(one(port, a));
  const net = `127.0.0.1:${port},127.0.0.1:${a.address.port},127.0.0.1:${b.address.port}`;
  await using proxy = new CliProcess(["--config", file.path], net, [`--allow-read=${file.path}`]);
  try {
    await proxy.waitFor(/running .*minginx\.jsonc with 1 thread: server-0 on 127\.0\.0\.1:\d+/);
    assert.equal(await servedBy(port, [a, b]), 0);
    const held = await Deno.connect({ hostname: "127.0.0.1", port });
    await probe(held);

    await file.write(one(port, b));
    proxy.child.kill("SIGHUP");
    await proxy.waitFor(
      /Reloaded .*minginx\.jsonc: 1 server; listeners opened: none; draining: none/,
    );
    assert.equal(await servedBy(port, [a, b]), 1);
    await echoes(held, 100_000, 1); // opened before the reload, still on a, still correct

    await file.write(
      `{ "servers": [{ "listen": "127.0.0.1:${port}", "upstreams": ["10.0.0:80"] }] }`,
    );
    proxy.child.kill("SIGHUP");
    await proxy.waitFor(/Reload of .* refused, the running config stays/);
    await proxy.waitFor(
      /servers\[0\]\.upstreams\[0\]: "10\.0\.0:80" is not valid: expected HOST:PORT/,
    );
    assert.equal(await servedBy(port, [a, b]), 1, "the old config keeps serving");

    // A reload that needs a permission the process lacks is refused the same way.
    await file.write(
      one(
        port,
        b,
        `, "balance": "first" }, { "listen": "127.0.0.1:${freePort()}", "upstreams": ["127.0.0.1:9"]`,
      ),
    );
    proxy.child.kill("SIGHUP");
    await proxy.waitFor(/Missing network permission for 127\.0\.0\.1:\d+ \(listen\)/);
    assert.equal(await servedBy(port, [a, b]), 1);
    held.close();
    proxy.child.kill("SIGTERM");
    assert.equal((await proxy.exit()).code, 0);
  } finally {
    await Promise.all([a, b].map((server) => server.close()));
  }
});

Deno.test("CLI --config --watch reloads when the file changes", async () => {
  const [a, b] = [startEcho(), startEcho()];
  await using file = await configFile();
  const port = freePort();
  await file.write(one(port, a));
  const net = `127.0.0.1:${port},127.0.0.1:${a.address.port},127.0.0.1:${b.address.port}`;
  await using proxy = new CliProcess(["--config", file.path, "--watch"], net, [
    `--allow-read=${file.path}`,
  ]);
  try {
    await proxy.waitFor(/running /);
    assert.equal(await servedBy(port, [a, b]), 0);
    await file.write(one(port, b));
    await proxy.waitFor(/Reloaded /);
    assert.equal(await servedBy(port, [a, b]), 1);
    await file.write(one(port, a)); // a second save, after the watch started again
    await until(
      10_000,
      "a second reload",
      () => proxy.lines.filter((line) => line.includes("Reloaded")).length >= 2,
    );
    assert.equal(await servedBy(port, [a, b]), 0);
    proxy.child.kill("SIGTERM");
    assert.equal((await proxy.exit()).code, 0);
  } finally {
    await Promise.all([a, b].map((server) => server.close()));
  }
});

Deno.test("main.ts check prints the listeners and pools, or every mistake with exit code 1", async () => {
  await using file = await configFile();
  await file.write(`{
    "drainTimeout": "10s",
    "servers": [
      { "name": "web", "listen": ["127.0.0.1:8081", "[::1]:8081"],
        "upstreams": ["10.0.0.1:80", { "address": "10.0.0.2:80", "weight": 3 }, "10.0.0.3:80,backup"],
        "balance": "least-conn", "healthCheck": { "check": "http:/healthz" } },
    ],
  }`);
  const ok = await runCli(["check", "--config", file.path], undefined, [
    `--allow-read=${file.path}`,
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(
    ok.stdout,
    `${file.path} is valid: 1 server, drain timeout 10s
  web: listens on 127.0.0.1:8081, [::1]:8081
    least-conn over 10.0.0.1:80, 10.0.0.2:80 weight 3, 10.0.0.3:80 backup; health check http:/healthz every 2s
`,
  );
  await file.write(`{ "servers": [{ "listen": "1.2.3:4", "upstreams": [], "balanse": "p2c" }] }`);
  const bad = await runCli(["check", "--config", file.path], undefined, [
    `--allow-read=${file.path}`,
  ]);
  assert.equal(bad.code, 1);
  assert.equal(
    bad.stderr,
    [
      `${file.path}: servers[0].balanse: unknown key; did you mean "balance"?`,
      `${file.path}: servers[0].listen: "1.2.3:4" is not valid: expected HOST:PORT`,
      `${file.path}: servers[0].upstreams: expected at least one upstream, got []`,
      "",
    ].join("\n"),
  );
  const none = await runCli(["check"]);
  assert.deepEqual([none.code, none.stderr], [
    2,
    "Command check needs --config FILE: the config file to check\n",
  ]);
});

Deno.test("main.ts permissions prints the least --allow-net and ready command lines", async () => {
  await using file = await configFile();
  await file.write(`{ "servers": [
    { "listen": "127.0.0.1:8081", "upstreams": ["10.0.0.1:80", "10.0.0.2:80"] },
    { "listen": "[::1]:5432", "upstreams": ["10.0.0.1:80", "10.0.0.9:5432,backup"] },
  ] }`);
  const { code, stdout } = await runCli(["permissions", "--config", file.path], undefined, [
    `--allow-read=${file.path}`,
  ]);
  assert.equal(code, 0);
  const net = "--allow-net=127.0.0.1:8081,[::1]:5432,10.0.0.1:80,10.0.0.2:80,10.0.0.9:5432";
  assert.equal(
    stdout,
    `${net}
--allow-read=${file.path}

deno run ${net} --allow-read=${file.path} main.ts --config ${file.path}
deno compile ${net} --allow-read=${file.path} --output minginx main.ts
./minginx --config ${file.path}
`,
  );
  const flags = await runCli(["permissions", "-l", "127.0.0.1:9000", "-u", "db.internal:5432"]);
  assert.equal(flags.code, 0);
  assert.match(flags.stdout, /^--allow-net=127\.0\.0\.1:9000,db\.internal:5432\n/);
  assert.match(
    flags.stdout,
    /\ndeno run --allow-net=\S+ main\.ts -l 127\.0\.0\.1:9000 -u db\.internal:5432\n/,
  );
  assert.match(
    flags.stdout,
    /# db\.internal: with only HOST:PORT, Deno connects to the first address/,
  );
});

Deno.test("CLI --config: SIGTERM drains for the file's drainTimeout, then closes what is left", async () => {
  const echo = startEcho();
  await using file = await configFile();
  const port = freePort();
  await file.write(
    `{ "drainTimeout": "300ms", "servers": [{ "listen": "127.0.0.1:${port}", ` +
      `"upstreams": ["127.0.0.1:${echo.address.port}"] }] }`,
  );
  await using proxy = new CliProcess(
    ["--config", file.path],
    `127.0.0.1:${port},127.0.0.1:${echo.address.port}`,
    [`--allow-read=${file.path}`],
  );
  try {
    await proxy.waitFor(/running /);
    using held = await Deno.connect({ hostname: "127.0.0.1", port });
    await probe(held);
    const started = performance.now();
    proxy.child.kill("SIGTERM");
    await proxy.waitFor(/Stopping: no new connections; 1 open get 300ms to finish/);
    await probe(held); // still served while draining
    assert.equal((await proxy.exit()).code, 0);
    const waited = performance.now() - started;
    assert.ok(waited >= 250 && waited < 5_000, `exited after ${Math.round(waited)} ms`);
    assert.ok(proxy.lines.some((line) => / shutdown up=/.test(line)), proxy.lines.join("\n"));
    assert.ok(proxy.lines.some((line) => /Closed 1 connection still open after 300ms/.test(line)));
  } finally {
    await echo.close();
  }
});
