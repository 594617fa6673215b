/** `main.ts --config --workers 2`: every worker runs the file's servers, and a SIGHUP reloads all. */

import assert from "node:assert/strict";
import { CliProcess, freePorts, runCli, WORKER_FLAGS } from "./_cli.ts";
import { echoes } from "./_echo.ts";
import { startEcho, type TestServer } from "./_helpers.ts";

async function write(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${path}.tmp`, text);
  await Deno.rename(`${path}.tmp`, path);
}

const config = (ports: number[], upstream: TestServer) =>
  `{ "workers": 2, "servers": [${
    ports.map((port, i) =>
      `{ "name": "s${i}", "listen": "127.0.0.1:${port}", "upstreams": ["127.0.0.1:${upstream.address.port}"] }`
    ).join(", ")
  }] }`;

Deno.test("CLI --config --workers 2: both workers serve every listener, and SIGHUP reloads both", async () => {
  const [a, b] = [startEcho(), startEcho()];
  const dir = await Deno.makeTempDir({ prefix: "minginx_workers_config_" });
  const path = `${dir}/minginx.jsonc`;
  const ports = freePorts(2);
  await write(path, config(ports, a));
  const net = [...ports, a.address.port, b.address.port].map((port) => `127.0.0.1:${port}`);
  await using proxy = new CliProcess(
    ["--config", path], // the file asks for 2 workers
    net.join(","),
    [...WORKER_FLAGS.map((flag) => flag.startsWith("--allow-read") ? `${flag},${path}` : flag)],
  );
  try {
    await proxy.waitFor(/running .* with 2 workers: s0, s1 on 127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+/);
    const roundTrips = async (n: number) => {
      for (let i = 0; i < n; i++) {
        using client = await Deno.connect({ hostname: "127.0.0.1", port: ports[i % 2] });
        await echoes(client, 2_048, i);
      }
    };
    await roundTrips(40);
    assert.equal(a.accepted, 40);
    await write(path, config(ports, b));
    proxy.child.kill("SIGHUP");
    await proxy.waitFor(/Reloaded .*minginx\.jsonc: 2 servers/);
    await roundTrips(40);
    assert.equal(b.accepted, 40, "every worker took the new upstream");
    assert.equal(a.accepted, 40);
    proxy.child.kill("SIGTERM");
    assert.equal((await proxy.exit()).code, 0);
    // Both workers carried connections (SO_REUSEPORT spreads them), so both took the reload.
    const served = proxy.lines.flatMap((line) =>
      line.match(/Worker \d stopped after (\d+) connections/)?.slice(1).map(Number) ?? []
    );
    assert.equal(served.length, 2, proxy.lines.join("\n"));
    assert.equal(served[0] + served[1], 80);
    assert.ok(served.every((n) => n > 0), `per worker: ${served}`);
  } finally {
    await Promise.all([a, b].map((server) => server.close()));
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI --config --workers refuses a listener on port 0, which workers cannot share", async () => {
  const dir = await Deno.makeTempDir({ prefix: "minginx_workers_config_" });
  const path = `${dir}/minginx.jsonc`;
  try {
    await write(
      path,
      `{ "servers": [{ "name": "web", "listen": "127.0.0.1:0", "upstreams": ["127.0.0.1:9"] }] }`,
    );
    const { code, stderr } = await runCli(["--config", path, "--workers", "2"], undefined, [
      `--allow-read=${path}`,
    ]);
    assert.equal(code, 2);
    assert.equal(
      stderr,
      "Server web listens on port 0, which --workers cannot share: name the port\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
