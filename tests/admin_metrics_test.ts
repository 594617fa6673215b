import assert from "node:assert/strict";
import { adminCli, scrape } from "./_admin.ts";
import { HAS_PROMTOOL, promtoolCheck } from "./_promtool.ts";
import { freePort, WORKER_FLAGS } from "./_cli.ts";
import { randomBytes, readToEnd, sha256, within, writeAll } from "./_helpers.ts";

/** Sends `bytes` through the proxy, half-closes, and reads the echo to its end. */
async function echoThrough(port: number, bytes: Uint8Array): Promise<void> {
  using client = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(client, bytes);
  await client.closeWrite();
  const echoed = await within(10_000, "the echo", readToEnd(client));
  assert.equal(sha256(echoed), sha256(bytes));
}

Deno.test({
  name: "a live /metrics scrape under traffic passes promtool and counts exactly the traffic sent" +
    (HAS_PROMTOOL ? "" : ": IGNORED, promtool is not on PATH (apt-get install prometheus)"),
  ignore: !HAS_PROMTOOL,
  async fn() {
    const refused = `127.0.0.1:${freePort()}`; // nothing listens there
    await using cli = await adminCli({
      upstreams: 2,
      args: ["-u", refused, "--max-fails", "0"],
      allowNet: [refused],
    });
    const { listen, port, upstreams, url } = cli;
    const sizes = Array.from({ length: 9 }, (_, i) => 1_000 * (i + 1) + i);
    for (const [i, size] of sizes.entries()) await echoThrough(port, randomBytes(size, i + 1));
    // One connection stays open mid-transfer: its bytes count before it ends.
    using open = await Deno.connect({ hostname: "127.0.0.1", port });
    const held = randomBytes(65_536, 99);
    await writeAll(open, held);
    let echoed = 0;
    const buffer = new Uint8Array(65_536);
    while (echoed < held.length) {
      const n = await within(5_000, "the open connection's echo", open.read(buffer));
      if (n === null) throw new Error("The open connection ended early");
      echoed += n;
    }

    const { text, value, sum } = await scrape(url);
    const { code, output } = await promtoolCheck(text);
    assert.equal(
      code,
      0,
      `promtool check metrics exited ${code}:\n${output}\n--- scrape:\n${text}`,
    );

    const sent = sizes.reduce((a, b) => a + b, 0) + held.length;
    const connections = sizes.length + 1;
    const at = `listener="${listen}"`;
    assert.equal(value(`minginx_connections_accepted_total{${at}}`), connections);
    assert.equal(value(`minginx_connections_active{${at}}`), 1);
    assert.equal(value(`minginx_connections_closed_total{${at},reason="client_closed"}`), 9);
    assert.equal(value(`minginx_forwarded_bytes_total{${at},direction="up"}`), sent);
    assert.equal(value(`minginx_forwarded_bytes_total{${at},direction="down"}`), sent);
    assert.equal(value(`minginx_connection_duration_seconds_count{${at}}`), 9);
    // Round robin over two echoes and a closed port: every connection reached an echo.
    assert.equal(sum("minginx_upstream_connections_total"), connections);
    assert.equal(sum("minginx_upstream_connections_active"), 1);
    assert.equal(sum("minginx_upstream_forwarded_bytes_total", 'direction="up"'), sent);
    assert.equal(sum("minginx_upstream_connect_duration_seconds_count"), connections);
    assert.equal(sum("minginx_upstream_connections_total", `upstream="${refused}"`), 0);
    const refusals = value(
      `minginx_upstream_connect_errors_total{pool="default",upstream="${refused}",kind="refused"}`,
    );
    assert.ok(refusals >= 3, `expected the closed port's refusals counted, got ${refusals}`);
    for (const upstream of upstreams) {
      const labels = `pool="default",upstream="${upstream}"`;
      assert.equal(value(`minginx_upstream_state{${labels},state="up"}`), 1);
      assert.equal(value(`minginx_upstream_weight{${labels}}`), 1);
      assert.ok(value(`minginx_upstream_connections_total{${labels}}`) >= 1);
    }
    assert.ok(value("minginx_process_resident_memory_bytes") > 1_000_000);
    assert.equal(value("minginx_open_sockets"), 2, "the open connection's client and upstream");
    assert.equal(value('minginx_config_reloads_total{result="applied"}'), 0);
    // Never a label per client: no client port appears in any series.
    const { localAddr } = open;
    assert.ok(!text.includes(`:${(localAddr as Deno.NetAddr).port}"`));
  },
});

Deno.test({
  name: "with --workers 2, /metrics and /status add up the connections of both workers",
  async fn() {
    await using cli = await adminCli({
      upstreams: 2,
      args: ["--workers", "2"],
      denoFlags: WORKER_FLAGS,
    });
    const bytes = randomBytes(10_000, 7);
    for (let i = 0; i < 12; i++) await echoThrough(cli.port, bytes);
    const at = `listener="${cli.listen}"`;
    const { value } = await scrape(cli.url);
    assert.equal(value(`minginx_connections_accepted_total{${at}}`), 12);
    assert.equal(value(`minginx_forwarded_bytes_total{${at},direction="down"}`), 12 * 10_000);
    const status = await (await fetch(`${cli.url}/status`)).json();
    assert.equal(status.workers, 2);
    assert.equal(status.accepted, 12);
    assert.equal(status.bytesUp, 12 * 10_000);
    const upstreams = status.pools[0].upstreams;
    assert.equal(
      upstreams.reduce((n: number, u: { connections: number }) => n + u.connections, 0),
      12,
    );
  },
});
