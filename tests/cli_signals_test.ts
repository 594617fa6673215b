/** Signals that are not a stop: SIGHUP with and without a config file. */

import assert from "node:assert/strict";
import { CliProcess, freePort } from "./_cli.ts";
import { echoes } from "./_echo.ts";
import { startEcho } from "./_helpers.ts";

Deno.test("CLI without --config: SIGHUP is logged and ignored, and the proxy keeps serving", async () => {
  const echo = startEcho();
  const port = freePort();
  const net = `127.0.0.1:${port},127.0.0.1:${echo.address.port}`;
  await using proxy = new CliProcess(
    ["-l", `127.0.0.1:${port}`, "-u", `127.0.0.1:${echo.address.port}`],
    net,
  );
  try {
    await proxy.waitFor(/listening on /);
    proxy.child.kill("SIGHUP");
    await proxy.waitFor(/SIGHUP reloads a --config file or --tls-cert files; there are neither/);
    using client = await Deno.connect({ hostname: "127.0.0.1", port });
    await echoes(client, 10_000, 1);
    proxy.child.kill("SIGTERM");
    assert.equal((await proxy.exit()).code, 0);
  } finally {
    await echo.close();
  }
});

Deno.test("CLI --config: a reloaded drainTimeout is the one a later SIGTERM uses", async () => {
  const echo = startEcho();
  const dir = await Deno.makeTempDir({ prefix: "minginx_signals_" });
  const path = `${dir}/minginx.jsonc`;
  const port = freePort();
  const write = (drain: string) =>
    Deno.writeTextFile(
      path,
      `{ "drainTimeout": "${drain}", "servers": [{ "listen": "127.0.0.1:${port}", ` +
        `"upstreams": ["127.0.0.1:${echo.address.port}"] }] }`,
    );
  await write("10s");
  await using proxy = new CliProcess(
    ["--config", path],
    `127.0.0.1:${port},127.0.0.1:${echo.address.port}`,
    [`--allow-read=${path}`],
  );
  try {
    await proxy.waitFor(/running /);
    await write("3s");
    proxy.child.kill("SIGHUP");
    await proxy.waitFor(/Reloaded .*: 1 server;/);
    proxy.child.kill("SIGTERM");
    await proxy.waitFor(/Stopping: no new connections; 0 open get 3s to finish/);
    assert.equal((await proxy.exit()).code, 0);
  } finally {
    await echo.close();
    await Deno.remove(dir, { recursive: true });
  }
});
