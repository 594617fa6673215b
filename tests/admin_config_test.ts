/**
 * The admin API over a config file: pools named after their servers and SNI routes, the config
 * version and reload counters, and a drain that outlives a reload.
 */

import assert from "node:assert/strict";
import { scrape } from "./_admin.ts";
import { CliProcess, freePorts } from "./_cli.ts";
import { startEcho, until } from "./_helpers.ts";

Deno.test("config file: /status names pools after servers and SNI routes, and a drain outlives a reload", async () => {
  const [a, b, c] = [startEcho(), startEcho(), startEcho()];
  const [ua, ub, uc] = [a, b, c].map(({ address }) => `127.0.0.1:${address.port}`);
  const [web, tls, admin] = freePorts(3);
  const dir = await Deno.makeTempDir({ prefix: "minginx_admin_" });
  const path = `${dir}/minginx.jsonc`;
  const write = (balance: string) =>
    Deno.writeTextFile(
      path,
      JSON.stringify({
        admin: `127.0.0.1:${admin}`,
        servers: [
          { name: "web", listen: `127.0.0.1:${web}`, upstreams: [ua, ub], balance },
          {
            name: "edge",
            listen: `127.0.0.1:${tls}`,
            upstreams: [uc],
            sni: { "a.test": [ua], "*.w.test": [ub] },
          },
        ],
      }),
    );
  await write("round-robin");
  const net = [web, tls, admin].map((port) => `127.0.0.1:${port}`).concat(ua, ub, uc);
  const url = `http://127.0.0.1:${admin}`;
  const status = async () => await (await fetch(`${url}/status`)).json();
  try {
    await using proxy = new CliProcess(["--config", path], net.join(","), [`--allow-read=${path}`]);
    await proxy.waitFor(/Admin API listening/);
    const first = await status();
    assert.deepEqual(first.pools.map((pool: { name: string }) => pool.name), [
      "web",
      "edge",
      "edge/sni/a.test",
      "edge/sni/*.w.test",
    ]);
    assert.deepEqual(first.listeners.map((l: { server: string }) => l.server), ["web", "edge"]);
    assert.equal(first.config.version, 1);
    assert.equal(first.config.file, path);

    // A pool's name may hold slashes: the path's last two parts are the address and the action.
    const drained = await fetch(`${url}/upstreams/edge/sni/*.w.test/${ub}/drain`, {
      method: "POST",
    });
    assert.equal((await drained.json()).state, "draining");
    const web1 = await fetch(`${url}/upstreams/web/${encodeURIComponent(ua)}/drain`, {
      method: "POST",
    });
    assert.equal((await web1.json()).state, "draining");

    await write("least-conn");
    proxy.child.kill("SIGHUP");
    await until(5_000, "the reload", () => proxy.lines.some((line) => line.includes("Reloaded")));
    const second = await status();
    assert.equal(second.config.version, 2);
    assert.equal(second.pools[0].balance, "least-conn");
    const states = (pool: number) =>
      second.pools[pool].upstreams.map((u: { state: string }) => u.state);
    assert.deepEqual(states(0), ["draining", "up"]);
    assert.deepEqual(states(3), ["draining"]);
    assert.deepEqual(states(2), ["up"], "the same address in another pool is not drained");
    const { value } = await scrape(url);
    assert.equal(value('minginx_config_reloads_total{result="applied"}'), 1);
    assert.equal(value(`minginx_upstream_state{pool="web",upstream="${ua}",state="draining"}`), 1);
    assert.equal(value(`minginx_upstream_state{pool="web",upstream="${ub}",state="up"}`), 1);

    // A file that does not parse is refused and counted; the running config stays.
    await Deno.writeTextFile(path, "{ not json");
    proxy.child.kill("SIGHUP");
    await until(5_000, "the refusal", () => proxy.lines.some((line) => line.includes("refused")));
    assert.equal((await status()).config.failedReloads, 1);
    assert.equal((await scrape(url)).value('minginx_config_reloads_total{result="failed"}'), 1);
  } finally {
    await Promise.all([a, b, c].map((echo) => echo.close()));
    await Deno.remove(dir, { recursive: true });
  }
});
