/** The CLI running several servers from a config file (one healthy), and checks of its recovery. */

import assert from "node:assert/strict";
import type { Address } from "../../mod.ts";
import { CliProcess, freePort } from "../_cli.ts";
import { type TestServer, until } from "../_helpers.ts";
import {
  assertRecovered,
  assertServes,
  type ChaosCli,
  fdCount,
  rssBytes,
  settlesTo,
} from "./_harness.ts";

const MiB = 1024 * 1024;

/** One server of a config-file CLI: its name, its upstream, and config-file settings. */
export interface ChaosServer {
  name: string;
  upstream: Address;
  /** More keys of the server's config entry, such as `{ idleTimeout: "1s" }`. */
  settings?: Record<string, unknown>;
}

/** A CLI running several servers: the harness's `ChaosCli` (its `port` is the healthy one). */
export interface ChaosServers extends ChaosCli {
  /** Where each server listens, by name; `healthy` is in front of `echo`. */
  ports: Record<string, number>;
  /** The baseline, with the heap in use after a full GC. */
  baseline: { fds: number; rss: number; heap: number };
  /** Runs a full GC in the CLI and returns its heap in use right after, in bytes. */
  collect(): Promise<number>;
}

/**
 * Deno flags that let a test run a full GC in the CLI: on SIGUSR2 a module loaded before main.ts
 * collects three times and prints the heap in use. It changes nothing else, and a signal
 * listener does not keep the process alive. (`_trouble.ts` does the same for its scenarios.)
 */
const GC_ON_SIGUSR2 = [
  "--v8-flags=--expose-gc",
  "--preload=data:text/javascript," +
  'Deno.addSignalListener("SIGUSR2", () => { for (let i = 0; i < 3; i++) globalThis.gc(); ' +
  "console.error(`chaos-heap ${Deno.memoryUsage().heapUsed}`); });",
];

/**
 * Starts the CLI with a config file: a server named `healthy` in front of `echo` (with `healthy`
 * settings), then `servers`, each on a port of its own; all log JSON lines (`logLevel` "debug"
 * adds the accept loop's lines). The baseline is taken once the healthy server has served one
 * connection, its heap after a full GC.
 */
export async function chaosServers(
  echo: TestServer,
  servers: ChaosServer[],
  { logLevel = "info", healthy = {} as Record<string, unknown> } = {},
): Promise<ChaosServers> {
  const all = [{ name: "healthy", upstream: echo.address, settings: healthy }, ...servers];
  const ports = Object.fromEntries(all.map(({ name }) => [name, freePort()]));
  const config = {
    logLevel,
    logFormat: "json",
    drainTimeout: 0,
    servers: all.map(({ name, upstream, settings }) => ({
      name,
      listen: `127.0.0.1:${ports[name]}`,
      upstreams: [`${upstream.hostname}:${upstream.port}`],
      ...settings,
    })),
  };
  const dir = await Deno.makeTempDir({ prefix: "minginx_chaos_" });
  const file = `${dir}/chaos.json`;
  await Deno.writeTextFile(file, JSON.stringify(config, null, 2));
  const allowNet = [
    ...Object.values(ports).map((port) => `127.0.0.1:${port}`),
    ...all.map(({ upstream }) => `${upstream.hostname}:${upstream.port}`),
  ];
  const proxy = new CliProcess(["--config", file], allowNet.join(","), [
    `--allow-read=${file}`,
    ...GC_ON_SIGUSR2,
  ]);
  const dispose = async () => {
    await proxy[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
  };
  const heaps = () => proxy.lines.filter((line) => line.startsWith("chaos-heap "));
  const collect = async () => {
    const before = heaps().length;
    proxy.child.kill("SIGUSR2");
    await until(5_000, "a full GC in the proxy", () => heaps().length > before);
    return Number(heaps().at(-1)!.split(" ")[1]);
  };
  try {
    await proxy.waitFor(/running .* with \\?"?1 thread/);
    await assertServes(ports.healthy);
    const pid = proxy.child.pid;
    const heap = await collect();
    return {
      proxy,
      port: ports.healthy,
      ports,
      pid,
      echo,
      baseline: { fds: fdCount(pid), rss: rssBytes(pid), heap },
      collect,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/**
 * How far the CLI's RSS may stay above its cold baseline after thousands of connections. V8 and
 * the allocator keep the room they grew into: measured here, the RSS rose from 53 to 170-180 MiB
 * over the resets scenario (as after as many healthy connections alone) and stayed flat at
 * ~178 MiB when that scenario ran four times as long, while the heap in use after a full GC came
 * back to its baseline. So the RSS bound only catches gross leaks; the heap after a GC is the
 * precise check ({@linkcode HEAP_KEPT}).
 */
export const RSS_KEPT = 192 * MiB;

/**
 * How far the CLI's heap in use after a full GC may stay above its baseline: 4 MiB. Measured:
 * +0.3 to +1.5 MiB, and the same +1.4 MiB after 8 times the resets scenario's traffic (~40,000
 * connections): a fixed cost of code and caches warmed up, not a cost per connection. 20,000
 * connections each leaking 200 bytes would exceed it.
 */
export const HEAP_KEPT = 4 * MiB;

/**
 * The end of a CLI scenario: the harness's `assertRecovered()` (it serves; descriptors within 2
 * of the baseline; RSS grew by less than `rssGrowth`), then the descriptors exactly back to the
 * baseline once the harness's own last connection has closed, and the heap in use after a full
 * GC within {@linkcode HEAP_KEPT} of the baseline. Returns the figures.
 */
export async function assertRecoveredExactly(
  cli: ChaosServers,
  options: Parameters<typeof assertRecovered>[1] = {},
): Promise<{ fds: number; rss: number; heap: number }> {
  const { rss } = await assertRecovered(cli, options);
  const fds = await settlesTo(5_000, "descriptors", () => fdCount(cli.pid), cli.baseline.fds);
  const heap = await cli.collect();
  assert.ok(
    heap - cli.baseline.heap < HEAP_KEPT,
    `heap after a full GC ${mib(cli.baseline.heap)} -> ${mib(heap)}`,
  );
  return { fds, rss, heap };
}

/** The figures of a recovery, for a scenario's summary line. */
export function figures(cli: ChaosServers, after: { fds: number; rss: number; heap: number }) {
  return `fds ${cli.baseline.fds} -> ${after.fds}, heap after GC ${mib(cli.baseline.heap)} -> ` +
    `${mib(after.heap)}, RSS ${mib(cli.baseline.rss)} -> ${mib(after.rss)}`;
}

/** Bytes as MiB with one decimal, for assertion messages. */
export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
