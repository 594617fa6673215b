/** The CLI's TLS and PROXY protocol flags: termination, SIGHUP reloads, usage and permission errors. */

import assert from "node:assert/strict";
import { CliProcess, freePort, runCli } from "./_cli.ts";
import { readToEnd, startEcho, writeAll } from "./_helpers.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const CA = Deno.readTextFileSync(`${FIXTURES}ca.crt`);

async function echoOverTls(port: number, name: string, text: string): Promise<string> {
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  const conn = await Deno.startTls(tcp, { hostname: name, caCerts: [CA] });
  try {
    await writeAll(conn, new TextEncoder().encode(text));
    await conn.closeWrite();
    return new TextDecoder().decode(await readToEnd(conn));
  } finally {
    conn.close();
  }
}

/**
 * A temporary directory with `site.crt` and `site.key`, as a proxy is started with: `use(name)`
 * copies the fixture certificate and key of `name` there, as a renewal would.
 */
async function siteFiles(prefix: string) {
  const dir = await Deno.makeTempDir({ prefix });
  const use = (name: string) => {
    Deno.copyFileSync(`${FIXTURES}${name}.crt`, `${dir}/site.crt`);
    Deno.copyFileSync(`${FIXTURES}${name}.key`, `${dir}/site.key`);
  };
  use("a.test");
  return { dir, use, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("--tls-cert pairs terminate TLS per server name, and SIGHUP reads the files again", async () => {
  await using site = await siteFiles("minginx-tls-");
  const { dir } = site;
  await using echo = startEcho();
  const port = freePort();
  const upstream = `127.0.0.1:${echo.address.port}`;
  await using proxy = new CliProcess(
    [
      "-l",
      `127.0.0.1:${port}`,
      "-u",
      upstream,
      "--tls-cert",
      `${dir}/site.crt`,
      "--tls-key",
      `${dir}/site.key`,
    ],
    `127.0.0.1:${port},${upstream}`,
    [`--allow-read=${dir}`],
  );
  await proxy.waitFor(/listening on/);
  assert.equal(await echoOverTls(port, "a.test", "one"), "one");
  await assert.rejects(echoOverTls(port, "b.test", "two"), /certificate/i);

  site.use("b.test");
  proxy.child.kill("SIGHUP");
  await proxy.waitFor(/Reloaded the TLS certificates/);
  assert.equal(await echoOverTls(port, "b.test", "three"), "three");
  await assert.rejects(echoOverTls(port, "a.test", "four"), /certificate/i);

  Deno.writeTextFileSync(`${dir}/site.crt`, "not a certificate");
  proxy.child.kill("SIGHUP");
  await proxy.waitFor(/Cannot reload the TLS certificates, the old ones stay/);
  assert.equal(await echoOverTls(port, "b.test", "five"), "five");
});

Deno.test("a config file's tls section terminates TLS, and SIGHUP reads its files again", async () => {
  await using site = await siteFiles("minginx-tls-config-");
  const { dir } = site;
  await using echo = startEcho();
  const port = freePort();
  const upstream = `127.0.0.1:${echo.address.port}`;
  const config = {
    servers: [{
      listen: `127.0.0.1:${port}`,
      upstreams: [upstream],
      tls: { certificates: [{ cert: `${dir}/site.crt`, key: `${dir}/site.key` }] },
    }],
  };
  Deno.writeTextFileSync(`${dir}/minginx.json`, JSON.stringify(config));
  await using proxy = new CliProcess(
    ["--config", `${dir}/minginx.json`],
    `127.0.0.1:${port},${upstream}`,
    [`--allow-read=${dir}`],
  );
  await proxy.waitFor(/running/);
  assert.equal(await echoOverTls(port, "a.test", "one"), "one");
  site.use("b.test");
  proxy.child.kill("SIGHUP");
  await proxy.waitFor(/Reloaded/);
  assert.equal(await echoOverTls(port, "b.test", "two"), "two");
});

Deno.test("TLS and PROXY flags that are malformed or do not go together are usage errors", async () => {
  const cases: [string[], string][] = [
    [["--tls-cert", "a.crt"], "Cannot pair 1 --tls-cert with 0 --tls-key"],
    [["--tls-alpn", "h2"], "Option --tls-alpn needs --tls-cert"],
    [["--upstream-tls-name", "x"], "Option --upstream-tls-name needs --upstream-tls"],
    [["--sni", "a.test"], 'Cannot parse --sni "a.test": expected NAME=HOST:PORT'],
    [["--sni", "a..b=127.0.0.1:1"], 'Cannot parse --sni "a..b=127.0.0.1:1"'],
    [["--sni-fallback", "127.0.0.1:1"], "Option --sni-fallback needs --sni"],
    [["--send-proxy", "v3"], 'Cannot parse --send-proxy "v3": expected v1 or v2'],
    [["--accept-proxy", "10.0.0.0/33"], 'Cannot parse --accept-proxy "10.0.0.0/33"'],
    [["--handshake-timeout", "0"], 'Cannot parse --handshake-timeout "0"'],
    [
      ["--upstream-tls", "--upstream-tls-alpn", "h2,,x"],
      'Cannot parse --upstream-tls-alpn "h2,,x"',
    ],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.ok(stderr.startsWith(message), `${args.join(" ")}: ${stderr}`);
  }
});

Deno.test("a certificate the process may not read is named with the --allow-read it needs, exit 2", async () => {
  const port = freePort();
  const cert = `${FIXTURES}a.test.crt`;
  const key = `${FIXTURES}a.test.key`;
  const { code, stderr } = await runCli(
    ["-l", `127.0.0.1:${port}`, "-u", "127.0.0.1:9", "--tls-cert", cert, "--tls-key", key],
    `127.0.0.1:${port},127.0.0.1:9`,
  );
  assert.equal(code, 2);
  assert.equal(
    stderr,
    `Missing read permission for ${cert}, ${key} (TLS files): run with --allow-read=${cert},${key}\n`,
  );
  const listed = await runCli([
    "permissions",
    "--tls-cert",
    cert,
    "--tls-key",
    key,
    "--sni",
    "a.test=127.0.0.1:7",
  ]);
  assert.equal(listed.code, 0);
  assert.match(
    listed.stdout,
    new RegExp(
      `^--allow-net=127\\.0\\.0\\.1:8081,127\\.0\\.0\\.1:8080,127\\.0\\.0\\.1:7\n--allow-read=${cert},${key}\n`,
    ),
  );
});

for (const workers of [1, 2]) {
  Deno.test(`a reload that adds TLS to a config without it terminates TLS (${workers} worker${workers === 1 ? "" : "s"})`, async () => {
    await using echo = startEcho();
    const dir = await Deno.makeTempDir({ prefix: "minginx-tls-reload-" });
    try {
      const path = `${dir}/minginx.json`;
      const port = freePort();
      const upstream = `127.0.0.1:${echo.address.port}`;
      const write = (tls: boolean) =>
        Deno.writeTextFileSync(
          path,
          JSON.stringify({
            workers,
            servers: [{
              listen: `127.0.0.1:${port}`,
              upstreams: [upstream],
              ...(tls
                ? {
                  tls: {
                    certificates: [{
                      cert: `${FIXTURES}a.test.crt`,
                      key: `${FIXTURES}a.test.key`,
                    }],
                  },
                }
                : {}),
            }],
          }),
        );
      write(false);
      const workerFlags = workers > 1
        ? ["--unstable-net", `--allow-read=${dir},${FIXTURES},lib`]
        : [
          `--allow-read=${dir},${FIXTURES}`,
        ];
      await using proxy = new CliProcess(
        ["--config", path],
        `127.0.0.1:${port},${upstream}`,
        workerFlags,
      );
      await proxy.waitFor(/running /);
      write(true);
      proxy.child.kill("SIGHUP");
      await proxy.waitFor(/Reloaded/);
      assert.equal(await echoOverTls(port, "a.test", "over TLS"), "over TLS");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
