/**
 * The chaos suite's harness: a proxy under attack (the CLI in a child process, whose descriptors
 * and memory the test reads from /proc, or the library in this process, whose heap it can read
 * after a full GC), and the three checks every scenario ends with: it still serves, every byte of
 * every connection that should succeed is verified, and descriptors and memory are back to their
 * baseline.
 */

import assert from "node:assert/strict";
import { CliProcess, type CliProcessOptions, freePort } from "../_cli.ts";
import { echoes } from "../_echo.ts";
import { delay, startEcho, type TestServer, within } from "../_helpers.ts";

/** Open file descriptors of a process (this one by default), from /proc. */
export function fdCount(pid: number = Deno.pid): number {
  let count = 0;
  for (const _ of Deno.readDirSync(`/proc/${pid}/fd`)) count++;
  return count;
}

/** Resident memory of a process, in bytes, from /proc. */
export function rssBytes(pid: number = Deno.pid): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = Number(status.match(/^VmRSS:\s+(\d+) kB$/m)?.[1]);
  assert.ok(Number.isFinite(kib), `no VmRSS for ${pid}`);
  return kib * 1024;
}

/** CPU time a process has used so far, in milliseconds, from /proc (user + system). */
export function cpuMs(pid: number = Deno.pid): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** This process's heap after a full GC (run the tests with --v8-flags=--expose-gc). */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "run with --v8-flags=--expose-gc");
  for (let i = 0; i < 3; i++) gc();
  return Deno.memoryUsage().heapUsed;
}

/**
 * Waits until `measure()` is at most `limit`, checking every 50 ms, and returns the last figure;
 * fails with `what` and the figure if it is not within `ms`.
 */
export async function settlesTo(
  ms: number,
  what: string,
  measure: () => number,
  limit: number,
): Promise<number> {
  const deadline = performance.now() + ms;
  let value = measure();
  while (value > limit && performance.now() < deadline) {
    await delay(50);
    value = measure();
  }
  assert.ok(value <= limit, `${what}: ${value} after ${ms} ms, expected at most ${limit}`);
  return value;
}

/** Checks that the proxy on `port` still forwards: a 64 KiB echo, verified by hash. */
export async function assertServes(port: number, seed = 42): Promise<void> {
  using client = await within(5_000, "a connect", Deno.connect({ hostname: "127.0.0.1", port }));
  await echoes(client, 64 * 1024, seed);
}

/** The CLI proxying to an in-process echo upstream, with what a scenario needs to watch it. */
export interface ChaosCli extends AsyncDisposable {
  /** The running CLI; its `lines` are its standard error. */
  proxy: CliProcess;
  /** Where it listens. */
  port: number;
  /** The CLI's pid, for /proc. */
  pid: number;
  /** The echo upstream. */
  echo: TestServer;
  /** Its descriptors and memory once it has served one connection. */
  baseline: { fds: number; rss: number };
}

/** What {@linkcode spawnCli} takes: a descriptor limit, the upstream, and more permissions. */
export interface SpawnOptions extends CliProcessOptions {
  /** The upstream to use instead of a fresh in-process echo. */
  upstream?: TestServer;
  /** More `--allow-net` entries. */
  allowNet?: string[];
  /** Arguments before the echo's `-u`, for upstreams listed ahead of it. */
  first?: string[];
  /** Deno flags, such as a preload. */
  denoFlags?: string[];
}

/**
 * Starts the CLI on a free port before `options.upstream` or a fresh echo, with exactly the
 * `--allow-net` it needs; `dispose` stops it and the echo it started.
 */
export function spawnCli(args: string[], options: SpawnOptions = {}) {
  const echo = options.upstream ?? startEcho();
  const port = freePort();
  const upstream = `127.0.0.1:${echo.address.port}`;
  const net = [`127.0.0.1:${port}`, upstream, ...(options.allowNet ?? [])].join(",");
  const proxy = new CliProcess(
    ["-l", `127.0.0.1:${port}`, ...(options.first ?? []), "-u", upstream, ...args],
    net,
    options.denoFlags,
    options,
  );
  const dispose = async () => {
    await proxy[Symbol.asyncDispose]();
    if (!options.upstream) await echo.close();
  };
  return { proxy, port, echo, dispose };
}

/**
 * Starts the CLI before a fresh echo upstream and takes its baseline after one served connection.
 *
 * @param args More CLI arguments (the listen address and the echo upstream are given).
 * @param options A descriptor limit, and the upstream to use instead of a fresh echo.
 */
export async function chaosCli(args: string[] = [], options: SpawnOptions = {}): Promise<ChaosCli> {
  const { proxy, port, echo, dispose } = spawnCli(args, options);
  await proxy.waitFor(/listening on/);
  await assertServes(port);
  const pid = proxy.child.pid;
  return {
    proxy,
    port,
    pid,
    echo,
    baseline: { fds: fdCount(pid), rss: rssBytes(pid) },
    [Symbol.asyncDispose]: dispose,
  };
}

/**
 * The end of every scenario: the proxy serves, its descriptors come back to the baseline (within
 * `slack`), and its memory grew by less than `rssGrowth` bytes. Returns the figures.
 */
export async function assertRecovered(
  cli: ChaosCli,
  { slack = 2, rssGrowth = 32 * 1024 * 1024, settleMs = 10_000 } = {},
): Promise<{ fds: number; rss: number }> {
  await assertServes(cli.port, 7);
  const fds = await settlesTo(
    settleMs,
    "descriptors",
    () => fdCount(cli.pid),
    cli.baseline.fds + slack,
  );
  const rss = rssBytes(cli.pid);
  assert.ok(
    rss - cli.baseline.rss < rssGrowth,
    `RSS grew by ${((rss - cli.baseline.rss) / 2 ** 20).toFixed(1)} MiB`,
  );
  return { fds, rss };
}
