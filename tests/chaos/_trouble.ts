/**
 * Helpers of the descriptor, concurrency, upstream-trouble and reload chaos scenarios: this
 * process's descriptor limit, an echo upstream in a child process (to split the descriptors of
 * many connections between two processes), a client loop that records each connection's client
 * port and times (to match it with the access log), the CLI's JSON access log, and the CLI with
 * a full GC on demand (from flags, or from a config file), as the harness's `ChaosCli`.
 *
 * Run as a program, it is that echo upstream: `deno run --allow-net=127.0.0.1 _trouble.ts`
 * prints the port it listens on, then echoes until its standard input closes.
 */

import { CliProcess } from "../_cli.ts";
import { echoes } from "../_echo.ts";
import { startEcho, type TestServer, until, within } from "../_helpers.ts";
import type { Address } from "../../mod.ts";
import {
  assertServes,
  type ChaosCli,
  fdCount,
  rssBytes,
  spawnCli,
  type SpawnOptions,
} from "./_harness.ts";

/**
 * This process's limit on open descriptors (`ulimit -n`), soft and hard, from /proc. Deno raises
 * its soft limit to the hard one as it starts, so the two are usually the same here.
 */
export function fdLimit(): { soft: number; hard: number } {
  const line = Deno.readTextFileSync("/proc/self/limits").match(/^Max open files\s+(\S+)\s+(\S+)/m);
  const parse = (value = "0") => value === "unlimited" ? Infinity : Number(value);
  return { soft: parse(line?.[1]), hard: parse(line?.[2]) };
}

/** An echo upstream in a child process, with its own descriptor limit. */
export interface EchoChild extends AsyncDisposable {
  address: Address;
  pid: number;
}

/**
 * Starts an echo upstream in a child process under `ulimit -n limit`, so that the descriptors of
 * its side of many connections do not count against this process's limit.
 */
export async function echoChild(limit: number): Promise<EchoChild> {
  const child = new Deno.Command("bash", {
    args: [
      "-c",
      'ulimit -n "$0" && exec "$@"',
      String(limit),
      Deno.execPath(),
      "run",
      "--quiet",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      new URL(import.meta.url).pathname,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await within(10_000, "the echo child's port", reader.read());
    if (done) throw new Error(`The echo child exited: ${JSON.stringify(text)}`);
    text += value;
  }
  await reader.cancel(); // nothing more is printed
  return {
    address: { hostname: "127.0.0.1", port: Number(text.trim()) },
    pid: child.pid,
    async [Symbol.asyncDispose]() {
      await child.stdin.close().catch(() => {});
      const exited = await Promise.race([
        child.status.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 5_000)),
      ]);
      if (!exited) child.kill("SIGKILL");
      await child.status;
    },
  };
}

/**
 * How far the CLI's RSS may stay above its baseline after a scenario. It does not go back to a
 * cold start: V8 keeps the heap pages it grew into (measured: the heap it holds went from 9 to
 * 60 MiB over 10,000 short connections, while the heap in use after a full GC came back to
 * within 1.5 MiB of its 6 MiB), and the allocator keeps what sockets and buffers used. So the RSS
 * rises by ~90 MiB over the first ~10,000 connections and then stays there (the same after
 * 80,000). 128 MiB still catches a gross leak (10,000 leaked 16 KiB buffers would be 156 MiB);
 * the precise check is the heap after a full GC ({@linkcode GcCli.collect}, {@linkcode HEAP_KEPT}).
 */
export const RSS_KEPT = 128 * 2 ** 20;

/** How far the CLI's heap in use after a full GC may stay above its baseline: 4 MiB. */
export const HEAP_KEPT = 4 * 2 ** 20;

/** One client connection of a {@linkcode trafficLoop}. */
export interface Trip {
  /** The client's own port, as the proxy's access log names it (`127.0.0.1:PORT`). */
  port?: number;
  /** `performance.now()` when the connect started, and when the connection ended. */
  startedAt: number;
  endedAt: number;
  /** Whether the echo came back byte for byte. */
  ok: boolean;
  error?: unknown;
}

/** Clients that connect back to back, each checking an echo by hash, until stopped. */
export interface TrafficLoop {
  readonly trips: Trip[];
  readonly done: number;
  readonly failed: Trip[];
  /** Stops starting connections and waits for those under way. */
  stop(): Promise<void>;
}

/**
 * Starts `loops` clients against `address`, each echoing `size` seeded bytes per connection and
 * recording every connection. After a failed connection a client waits `pauseMs`, so refused
 * connects do not spin.
 */
export function trafficLoop(
  address: Address,
  loops: number,
  { size = 4_096, pauseMs = 10, seed = 0 } = {},
): TrafficLoop {
  let stopped = false;
  const trips: Trip[] = [];
  const running = Promise.all(Array.from({ length: loops }, async (_, loop) => {
    for (let i = 0; !stopped; i++) {
      const trip: Trip = { startedAt: performance.now(), endedAt: 0, ok: false };
      trips.push(trip);
      try {
        using client = await Deno.connect(address);
        trip.port = client.localAddr.port;
        await echoes(client, size, seed + loop * 1_000_000 + i);
        trip.ok = true;
      } catch (error) {
        trip.error = error;
      }
      trip.endedAt = performance.now();
      if (!trip.ok) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }));
  return {
    trips,
    get done() {
      return trips.filter(({ ok }) => ok).length;
    },
    get failed() {
      return trips.filter(({ ok, endedAt }) => !ok && endedAt > 0);
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}

/** One access-log line of the CLI run with `--log-format json`. */
export interface AccessLine {
  id: number;
  client: string;
  upstream: string | null;
  bytesUp: number;
  bytesDown: number;
  reason: string;
  error?: string;
}

/** The access-log lines among the CLI's JSON log lines. */
export function accessLines(lines: readonly string[]): AccessLine[] {
  return jsonLines(lines).filter((line) => line.logger === "minginx.access")
    .map((line) => line.properties as unknown as AccessLine);
}

/** The CLI's JSON log lines, parsed (lines that are not JSON are left out). */
export function jsonLines(
  lines: readonly string[],
): { logger: string; level: string; message: string; properties: Record<string, unknown> }[] {
  return lines.flatMap((line) => {
    if (!line.startsWith("{")) return [];
    try {
      return [JSON.parse(line)];
    } catch {
      return [];
    }
  });
}

/** How many access-log lines there are for each close reason. */
export function reasons(lines: readonly AccessLine[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { reason } of lines) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}

/**
 * Deno flags that let a test run a full GC in the CLI: on SIGUSR2 it collects three times and
 * logs its heap figures on a line of its own (SIGUSR1 would open the inspector). It changes
 * nothing else: the hook is a module loaded before main.ts, and a signal listener does not keep
 * the process alive.
 */
const GC_HOOK = [
  "--v8-flags=--expose-gc",
  "--preload=data:text/javascript," +
  'Deno.addSignalListener("SIGUSR2", () => { for (let i = 0; i < 3; i++) globalThis.gc(); ' +
  "const m = Deno.memoryUsage(); " +
  "console.error(`chaos-gc heap=${m.heapUsed} heapTotal=${m.heapTotal} external=${m.external}`); });",
];

/** The CLI as the harness's {@linkcode ChaosCli}, and a full GC on demand. */
export interface GcCli extends ChaosCli {
  /**
   * Runs a full GC in the CLI and returns, right after, its heap in use, the heap V8 holds, the
   * memory outside the heap that V8 knows of (array buffers), and the RSS, in bytes.
   */
  collect(): Promise<{ heap: number; heapTotal: number; external: number; rss: number }>;
}

/** Waits until `lines` has not grown for 300 ms (three of the log's flushes), 20 s at most. */
async function quiet(lines: string[]): Promise<void> {
  let seen = lines.length;
  let since = performance.now();
  for (const end = since + 20_000; performance.now() < end;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (lines.length !== seen) [seen, since] = [lines.length, performance.now()];
    else if (performance.now() - since >= 300) return;
  }
}

/**
 * Starts the CLI as `chaosCli()` does (before `upstream`, or a fresh in-process echo), with the
 * {@linkcode GC_HOOK}, and takes its baseline after one served connection and a full GC.
 * `first` are arguments that go before its `-u`, for upstreams listed ahead of the echo.
 */
export async function gcCli(args: string[] = [], options: SpawnOptions = {}): Promise<GcCli> {
  const { proxy, port, echo, dispose } = spawnCli(args, { ...options, denoFlags: GC_HOOK });
  return await withBaseline(proxy, port, echo, dispose);
}

/**
 * Starts the CLI with `--config path` (a file that listens on 127.0.0.1:`port`), with
 * `--allow-net` for that port and `upstreams`, and the {@linkcode GC_HOOK}; takes its baseline
 * after one echo through it. `upstreams[0]` is the {@linkcode ChaosCli}'s `echo`.
 */
export async function configCli(
  path: string,
  port: number,
  upstreams: TestServer[],
): Promise<GcCli> {
  const net = [port, ...upstreams.map(({ address }) => address.port)]
    .map((p) => `127.0.0.1:${p}`).join(",");
  const proxy = new CliProcess(["--config", path], net, [
    `--allow-read=${path}`,
    ...GC_HOOK,
  ]);
  return await withBaseline(proxy, port, upstreams[0], () => proxy[Symbol.asyncDispose]());
}

async function withBaseline(
  proxy: CliProcess,
  port: number,
  echo: TestServer,
  dispose: () => Promise<void>,
): Promise<GcCli> {
  try {
    await proxy.waitFor(/listening on|running /);
    await assertServes(port);
  } catch (error) {
    await dispose();
    throw error;
  }
  const pid = proxy.child.pid;
  const gcLines = () => proxy.lines.filter((line) => line.startsWith("chaos-gc "));
  const collect = async () => {
    // Access-log lines wait in the proxy's heap until standard error takes them: measure once
    // they are out, not while a slow reader leaves thousands of them waiting.
    await quiet(proxy.lines);
    const before = gcLines().length;
    proxy.child.kill("SIGUSR2");
    await until(5_000, "a full GC in the proxy", () => gcLines().length > before);
    const figure = (name: string) =>
      Number(gcLines().at(-1)?.match(new RegExp(` ${name}=(\\d+)`))?.[1]);
    return {
      heap: figure("heap"),
      heapTotal: figure("heapTotal"),
      external: figure("external"),
      rss: rssBytes(pid),
    };
  };
  await collect();
  return {
    proxy,
    port,
    pid,
    echo,
    baseline: { fds: fdCount(pid), rss: rssBytes(pid) },
    collect,
    [Symbol.asyncDispose]: dispose,
  };
}

if (import.meta.main) {
  const echo = startEcho();
  console.log(echo.address.port);
  // Until the parent closes standard input (or the process is killed).
  for await (const _ of Deno.stdin.readable) { /* nothing is sent */ }
  await echo.close();
}
