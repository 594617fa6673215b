/**
 * Discovery from a JSON file through the CLI: upstreams written into the file join, those taken
 * out drain while a connection held through one of them goes on byte for byte, a malformed file
 * keeps the last good set, and a client loop running through it all loses no connection.
 */

import assert from "node:assert/strict";
import { CliProcess, freePorts } from "./_cli.ts";
import { echoes, probe } from "./_echo.ts";
import { startEcho } from "./_helpers.ts";
import { clientLoop } from "./_loop.ts";
import { endsClean, moreTraffic, poolUpstreams, waitForPool } from "./_discovery.ts";

Deno.test("file: discovery follows a rewritten file under a client loop, drains without cutting open connections, and keeps the last set when the file is malformed", async () => {
  const servers = [startEcho(), startEcho(), startEcho()];
  const names = servers.map(({ address }) => `127.0.0.1:${address.port}`);
  const dir = await Deno.makeTempDir({ prefix: "minginx_discovery_" });
  const path = `${dir}/upstreams.json`;
  const write = async (text: string) => {
    await Deno.writeTextFile(`${path}.tmp`, text);
    await Deno.rename(`${path}.tmp`, path);
  };
  const set = (...ids: number[]) =>
    write(JSON.stringify({ upstreams: ids.map((i) => ({ address: names[i], weight: 1 })) }));
  await set(0);
  const [listen, admin] = freePorts(2);
  const net = [`127.0.0.1:${listen}`, `127.0.0.1:${admin}`, ...names];
  await using proxy = new CliProcess(
    [
      ...["-l", `127.0.0.1:${listen}`, "-u", `file:${path}`, "--admin", `127.0.0.1:${admin}`],
    ],
    net.join(","),
    [`--allow-read=${dir}`],
  );
  const waitFor = (...ids: number[]) => waitForPool(admin, ids.map((i) => names[i]));
  const address = { hostname: "127.0.0.1", port: listen };
  try {
    await proxy.waitFor(/listening on/);
    await waitFor(0);
    // Held open through upstream 0, which the file will drop.
    using held = await Deno.connect(address);
    await probe(held);
    const loop = clientLoop(address, 4, 4_096);
    try {
      const traffic = (what: string) => moreTraffic(loop, what);
      await traffic("traffic to upstream 0");
      await set(0, 1, 2);
      await waitFor(0, 1, 2);
      await traffic("traffic to three upstreams");
      await set(1, 2);
      // Upstream 0 drains: out of the picks, but listed until its last connection ends.
      await proxy.waitFor(/is draining/, 5_000);
      const before = servers[0].accepted;
      await traffic("traffic while upstream 0 drains");
      assert.equal(servers[0].accepted, before, "a draining upstream takes no new connection");
      await echoes(held, 200_000, 7);
      held.close();
      await waitFor(1, 2);
      await write('{ "upstreams": [ "127.0.0.1:80", ');
      await proxy.waitFor(/Discovery file:.* failed: Cannot read upstreams from/);
      await write('{ "upstreams": [] }');
      await proxy.waitFor(/failed: it found no upstreams/);
      await traffic("traffic after two bad files");
      assert.deepEqual(await poolUpstreams(admin), [names[1], names[2]].sort());
    } finally {
      await loop.stop();
    }
    await endsClean(loop, proxy);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    await Deno.remove(dir, { recursive: true });
  }
});
