/**
 * Twenty SIGHUP reloads of `main.ts --config` under a client loop: no connection is refused, reset
 * or corrupted, and long-lived ones opened before the first reload are still correct after the
 * last.
 */

import assert from "node:assert/strict";
import { CliProcess, freePort } from "./_cli.ts";
import { echoes, probe } from "./_echo.ts";
import { clientLoop } from "./_loop.ts";
import { startEcho, until } from "./_helpers.ts";

Deno.test("CLI: 20 SIGHUP reloads under a client loop lose no connection", async () => {
  const upstreams = [startEcho(), startEcho(), startEcho()];
  const dir = await Deno.makeTempDir({ prefix: "minginx_reload_" });
  const path = `${dir}/minginx.jsonc`;
  const port = freePort();
  const write = async (n: number) => {
    const set = upstreams.filter((_, i) => i !== n % 3).map(({ address }) =>
      `"127.0.0.1:${address.port}"`
    );
    const balance = ["round-robin", "least-conn", "p2c", "hash"][n % 4];
    await Deno.writeTextFile(
      `${path}.tmp`,
      `{ "servers": [{ "listen": "127.0.0.1:${port}", "upstreams": [${set}], "balance": "${balance}" }] }`,
    );
    await Deno.rename(`${path}.tmp`, path);
  };
  await write(0);
  const net = [port, ...upstreams.map(({ address }) => address.port)].map((p) => `127.0.0.1:${p}`);
  await using proxy = new CliProcess(["--config", path], net.join(","), [
    `--allow-read=${path}`,
  ]);
  const address = { hostname: "127.0.0.1", port };
  const reloads = () => proxy.lines.filter((line) => line.includes("Reloaded")).length;
  try {
    await proxy.waitFor(/running /);
    const held = await Promise.all([0, 1, 2].map(() => Deno.connect(address)));
    await Promise.all(held.map(probe));
    const loop = clientLoop(address, 6);
    try {
      for (let n = 1; n <= 20; n++) {
        await write(n);
        proxy.child.kill("SIGHUP");
        await until(5_000, `reload ${n}`, () => reloads() >= n);
        const before = loop.done;
        await until(5_000, `traffic after reload ${n}`, () => loop.done >= before + 10);
      }
    } finally {
      await loop.stop();
    }
    assert.deepEqual(loop.errors, [], "no client connection failed");
    assert.ok(loop.done >= 200, `${loop.done} connections`);
    await Promise.all(held.map((client, i) => echoes(client, 100_000, i)));
    for (const client of held) client.close();
    assert.deepEqual(proxy.lines.filter((line) => /refused|ERR/.test(line)), []);
    proxy.child.kill("SIGTERM");
    assert.equal((await proxy.exit()).code, 0);
  } finally {
    await Promise.all(upstreams.map((server) => server.close()));
    await Deno.remove(dir, { recursive: true });
  }
});
