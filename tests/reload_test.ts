/**
 * Reloads that drop nothing: the Runtime behind `--config` and SIGHUP, driven directly with
 * configs, under a client loop that checks every byte.
 */

import assert from "node:assert/strict";
import type { Address } from "../mod.ts";
import { parseCliArgs } from "../lib/cli/args.ts";
import { Runtime, type RuntimeConfig } from "../lib/cli/runtime.ts";
import type { ServerConfig } from "../lib/config/config.ts";
import { freePort, freePorts } from "./_cli.ts";
import { echoes, probe } from "./_echo.ts";
import { clientLoop } from "./_loop.ts";
import { delay, readToEnd, startEcho, type TestServer, until, within } from "./_helpers.ts";

/** One server's settings, as the flags `args` would give them. */
function server(
  name: string,
  listen: Address[],
  args: string[],
  onUpstreamRemoved: ServerConfig["onUpstreamRemoved"] = { action: "drain", after: 0 },
): ServerConfig {
  return { ...parseCliArgs(["--log-level", "error", ...args]), name, listen, onUpstreamRemoved };
}

const upstreamArgs = (...servers: TestServer[]) =>
  servers.flatMap((echo) => ["-u", `127.0.0.1:${echo.address.port}`]);

Deno.test("20 reloads under a client loop refuse, reset or corrupt no connection, and long-lived ones survive", async () => {
  const echoes_ = [startEcho(), startEcho(), startEcho()];
  const listen = { hostname: "127.0.0.1", port: freePort() };
  const configs: RuntimeConfig[] = [
    [echoes_[0], echoes_[1]],
    [echoes_[1], echoes_[2]],
    [echoes_[2]],
    [echoes_[0], echoes_[1], echoes_[2]],
  ].map((set, i) => ({
    drainTimeout: 5_000,
    servers: [server("web", [listen], [
      ...upstreamArgs(...set),
      "--balance",
      ["round-robin", "least-conn", "p2c", "hash"][i],
    ])],
  }));
  const runtime = await Runtime.start(configs[0]);
  const held = await Promise.all([0, 1, 2, 3].map(() => Deno.connect(listen)));
  const loop = clientLoop(listen, 8);
  try {
    await Promise.all(held.map(probe));
    for (let reload = 1; reload <= 20; reload++) {
      await delay(50);
      await runtime.reload(configs[reload % configs.length]);
    }
    await until(10_000, "traffic after the last reload", () => loop.done >= 400);
    await loop.stop();
    assert.deepEqual(loop.errors, [], "no client connection failed");
    assert.ok(loop.done >= 400, `${loop.done} connections`);
    // Opened before the first reload, still open and correct after the last.
    await Promise.all(held.map((client, i) => echoes(client, 200_000, 100 + i)));
  } finally {
    await loop.stop();
    for (const client of held) client.close();
    await runtime.shutdown(1_000);
    await Promise.all(echoes_.map((echo) => echo.close()));
  }
});

Deno.test("a reload that cannot open a new listener changes nothing: the old config keeps serving", async () => {
  const [a, b] = [startEcho(), startEcho()];
  const listen = { hostname: "127.0.0.1", port: freePort() };
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const runtime = await Runtime.start({
    drainTimeout: 1_000,
    servers: [server("web", [listen], upstreamArgs(a))],
  });
  try {
    await assert.rejects(() =>
      runtime.reload({
        drainTimeout: 1_000,
        servers: [server("web", [listen, taken.addr], upstreamArgs(b))],
      })
    );
    using client = await Deno.connect(listen);
    await echoes(client, 10_000, 1);
    assert.equal(b.accepted, 0, "the new config's upstream was never used");
    assert.deepEqual(runtime.addresses, [listen]);
  } finally {
    await runtime.shutdown(1_000);
    await Promise.all([a, b].map((echo) => echo.close()));
  }
});

Deno.test("a removed listener stops accepting and drains; its open connection finishes", async () => {
  const echo = startEcho();
  const [first, second] = freePorts(2).map((port) => ({ hostname: "127.0.0.1", port }));
  const config = (listen: Address[]) => ({
    drainTimeout: 5_000,
    servers: [server("web", listen, upstreamArgs(echo))],
  });
  const runtime = await Runtime.start(config([first, second]));
  try {
    const open = await Deno.connect(second);
    await probe(open);
    await runtime.reload(config([first]));
    // Refused, or reset if it reached the backlog as the socket was closing: never served.
    await assert.rejects(
      (async () => {
        using conn = await Deno.connect(second);
        await probe(conn);
      })(),
      (error) =>
        error instanceof Deno.errors.ConnectionRefused ||
        error instanceof Deno.errors.ConnectionReset || error instanceof assert.AssertionError,
    );
    await echoes(open, 100_000, 3);
    open.close();
    using client = await Deno.connect(first);
    await echoes(client, 1_000, 4);
  } finally {
    await runtime.shutdown(1_000);
    await echo.close();
  }
});

Deno.test("an upstream removed by a reload drains by default, or is closed when the config says so", async () => {
  const [a, b] = [startEcho(), startEcho()];
  const listen = { hostname: "127.0.0.1", port: freePort() };
  const config = (upstreams: TestServer[], action: "drain" | "close" = "drain", after = 0) => ({
    drainTimeout: 5_000,
    servers: [server("web", [listen], [...upstreamArgs(...upstreams), "--balance", "first"], {
      action,
      after,
    })],
  });
  const runtime = await Runtime.start(config([a, b]));
  try {
    const onA = await Deno.connect(listen); // "first" puts it on a
    await probe(onA);
    await runtime.reload(config([b]));
    await echoes(onA, 100_000, 5); // drained, not closed: it goes on
    onA.close();

    await runtime.reload(config([a, b]));
    const again = await Deno.connect(listen);
    await probe(again);
    const started = performance.now();
    await runtime.reload(config([b], "close", 200));
    assert.equal((await within(5_000, "the close", readToEnd(again))).length, 0);
    const waited = performance.now() - started;
    assert.ok(waited >= 150 && waited < 2_000, `closed after ${Math.round(waited)} ms`);
    again.close();
  } finally {
    await runtime.shutdown(1_000);
    await Promise.all([a, b].map((echo) => echo.close()));
  }
});

Deno.test("a limit that a reload leaves unchanged keeps counting the connections opened before it", async () => {
  const [a, b] = [startEcho(), startEcho()];
  const listen = { hostname: "127.0.0.1", port: freePort() };
  const config = (upstream: TestServer, max: string) => ({
    drainTimeout: 1_000,
    servers: [server("web", [listen], [...upstreamArgs(upstream), "--max-connections", max])],
  });
  const runtime = await Runtime.start(config(a, "2"));
  const held: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      held.push(await Deno.connect(listen));
      await probe(held[i]);
    }
    await runtime.reload(config(b, "2")); // same limit, other upstream
    held.push(await Deno.connect(listen));
    const refused = await within(5_000, "over the limit", readToEnd(held[2]));
    assert.equal(refused.length, 0, "the third connection is over the limit of 2");
    await runtime.reload(config(b, "3")); // a changed limit starts afresh
    held.push(await Deno.connect(listen));
    await probe(held[3]);
    assert.equal(b.accepted, 1);
  } finally {
    for (const client of held) client.close();
    await runtime.shutdown(1_000);
    await Promise.all([a, b].map((echo) => echo.close()));
  }
});
