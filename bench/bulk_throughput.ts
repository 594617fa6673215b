/**
 * The bulk workload, throughput of large transfers: iperf3's client sends through a proxy to
 * iperf3's server one way (client → upstream), then the other way (`-R`), then both ways at
 * once (`--bidir`), one TCP stream each way. iperf3 opens a control connection and the data
 * connections to the same port, which a TCP proxy forwards like any other. The proxy's CPU time
 * over each run is divided by the GiB it moved, both directions added up.
 *
 * @module
 */

import {
  type Direction,
  DIRECTION_NAMES,
  DIRECTIONS,
  runIperf,
  startIperfServer,
} from "./iperf3.ts";
import { CpuMeter, noiseNote, percent, type RunCpu } from "./meter.ts";
import { freePort } from "./net.ts";
import { startProxy, type Target } from "./proxies.ts";

const GIB = 2 ** 30;
// Lets the connections of one run close before the next run's CPU clock starts.
const PAUSE_MS = 200;

/** How the bulk workload runs. */
export interface BulkOptions {
  /** One measured run per direction, in whole seconds. */
  seconds: number;
  /** One uncounted run client → upstream before them, in whole seconds; 0 for none. */
  warmupSeconds: number;
  /** The CPUs the proxy is pinned to. */
  proxyCpus: string;
  /** The CPUs iperf3's client and server are pinned to. */
  clientCpus: string;
  /** Which round of the benchmark this is, counted from 1; copied into the result. */
  round: number;
}

/** What one bulk run measured for one target in one direction. */
export interface BulkResult {
  /** Which target. */
  target: Target;
  /** The round, counted from 1: runs of one round ran one after the other. */
  round: number;
  /** Which way the data flowed. */
  direction: Direction;
  /** Client-to-upstream rate as the upstream received it, in Gbit/s; 0 for `down`. */
  upGbps: number;
  /** Upstream-to-client rate as the client received it, in Gbit/s; 0 for `up`. */
  downGbps: number;
  /** Bytes received at either end, both directions added up. */
  bytes: number;
  /** The proxy's user plus system CPU time over the run, in seconds; `null` for direct. */
  proxyCpuSeconds: number | null;
  /** The proxy's CPU seconds per GiB moved; `null` for direct. */
  cpuSecondsPerGiB: number | null;
  /** The part of `cpuSecondsPerGiB` spent in the kernel; `null` for direct. */
  systemSecondsPerGiB: number | null;
  /** The share of its core the proxy used during the run, 0 to 1; `null` for direct. */
  proxyCoreShare: number | null;
  /** The share of the core iperf3's client and server share that was busy, 0 to 1. */
  clientCoreBusy: number;
  /** Whether other processes or the hypervisor took enough CPU to make the run suspect. */
  noisy: boolean;
  /** The raw CPU reading of the run. */
  cpu: RunCpu;
}

/**
 * Starts iperf3's server and a target in front of it, warms the proxy up, measures one run in
 * each direction, and stops both.
 *
 * @param target Which proxy, or `direct`.
 * @param options Run lengths and CPUs.
 * @param progress Receives a line for each step.
 * @returns One result per direction, in the order of {@linkcode DIRECTIONS}.
 * @throws {Error} If iperf3 fails through the proxy.
 */
export async function measureBulk(
  target: Target,
  options: BulkOptions,
  progress: (line: string) => void,
): Promise<BulkResult[]> {
  const serverPort = freePort();
  const server = await startIperfServer(serverPort, options.clientCpus);
  try {
    const proxy = await startProxy(target, {
      upstreamPort: serverPort,
      cpus: options.proxyCpus,
      maxSockets: 100,
    });
    try {
      const iperf = { port: proxy.port, cpus: options.clientCpus };
      // Waiting for the proxy to accept made it connect to iperf3 and hang up: an aborted test,
      // which iperf3 needs a moment to clear before it takes the next client.
      await sleep(PAUSE_MS);
      if (options.warmupSeconds > 0) {
        progress(`${target}: warming up for ${options.warmupSeconds}s, client → upstream`);
        await runIperf({ ...iperf, direction: "up", seconds: options.warmupSeconds });
        await sleep(PAUSE_MS);
      }
      const results: BulkResult[] = [];
      for (const direction of DIRECTIONS) {
        progress(`${target}: ${DIRECTION_NAMES[direction]} for ${options.seconds}s`);
        const meter = await CpuMeter.start({
          proxyPid: proxy.pid,
          proxyCore: Number.parseInt(options.proxyCpus),
          clientCore: Number.parseInt(options.clientCpus),
        });
        const run = await runIperf({ ...iperf, direction, seconds: options.seconds });
        const cpu = await meter.stop();
        const bytes = run.upBytes + run.downBytes;
        const perGiB = (seconds: number | null) =>
          seconds === null || bytes === 0 ? null : seconds / (bytes / GIB);
        const result: BulkResult = {
          target,
          round: options.round,
          direction,
          upGbps: run.upGbps,
          downGbps: run.downGbps,
          bytes,
          proxyCpuSeconds: cpu.proxySeconds,
          cpuSecondsPerGiB: perGiB(cpu.proxySeconds),
          systemSecondsPerGiB: perGiB(cpu.proxySystemSeconds),
          proxyCoreShare: cpu.proxyCoreShare,
          clientCoreBusy: cpu.clientCoreBusy,
          noisy: cpu.noisy,
          cpu,
        };
        progress(`${target}: ${DIRECTION_NAMES[direction]}: ${describe(result)}`);
        results.push(result);
        await sleep(PAUSE_MS);
      }
      return results;
    } finally {
      await proxy.stop();
    }
  } finally {
    await server.stop();
  }
}

function describe(r: BulkResult): string {
  const rates = r.direction === "both"
    ? `${r.upGbps.toFixed(2)} Gbit/s up + ${r.downGbps.toFixed(2)} Gbit/s down`
    : `${(r.upGbps + r.downGbps).toFixed(2)} Gbit/s`;
  const parts = [rates, `${(r.bytes / GIB).toFixed(2)} GiB`];
  if (r.cpuSecondsPerGiB !== null) {
    parts.push(
      `${r.cpuSecondsPerGiB.toFixed(3)} s CPU/GiB ` +
        `(${r.systemSecondsPerGiB?.toFixed(3)} in the kernel, ` +
        `${percent(r.proxyCoreShare ?? 0)} of its core)`,
    );
  }
  parts.push(`iperf3's core ${percent(r.clientCoreBusy)} busy`);
  const noise = noiseNote(r.cpu);
  if (noise) parts.push(noise);
  return parts.join(", ");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
