/**
 * Workload 1, keep-alive HTTP request rate: wrk drives small HTTP/1.1 requests over keep-alive
 * connections through a proxy to the HTTP responder, and the proxy's own CPU time is divided by
 * the requests completed.
 *
 * @module
 */

import { HOST } from "./net.ts";
import { type CpuTimes, ownCpuSeconds, sampleCpus, sampleTree } from "./proc.ts";
import { startProxy, type Target } from "./proxies.ts";
import { runWrk } from "./wrk.ts";

/** How the keep-alive workload runs. */
export interface KeepAliveOptions {
  /** The HTTP responder's port. */
  upstreamPort: number;
  /** wrk's open connections. */
  connections: number;
  /** The measured run, in seconds. */
  seconds: number;
  /** The warm-up run before it, not counted, in seconds. */
  warmupSeconds: number;
  /** The CPUs the proxy is pinned to. */
  proxyCpus: string;
  /** The CPUs wrk is pinned to. */
  clientCpus: string;
  /** Which round of the benchmark this is, counted from 1; copied into the result. */
  round: number;
}

/** What the keep-alive workload measured for one target. */
export interface KeepAliveResult {
  /** Which target. */
  target: Target;
  /** The round, counted from 1: runs of one round ran one after the other. */
  round: number;
  /** Requests completed in the measured run. */
  requests: number;
  /** Requests per second. */
  requestsPerSecond: number;
  /** Median latency, in microseconds. */
  p50Us: number;
  /** 99th percentile latency, in microseconds. */
  p99Us: number;
  /** wrk's socket errors and non-2xx responses. */
  errors: number;
  /** The proxy's user plus system CPU time over the run, in seconds; `null` for direct. */
  proxyCpuSeconds: number | null;
  /** The proxy's CPU time per request completed, in microseconds; `null` for direct. */
  cpuUsPerRequest: number | null;
  /** The part of `cpuUsPerRequest` spent in the kernel (system time); `null` for direct. */
  systemUsPerRequest: number | null;
  /** The share of its core the proxy used during the run, 0 to 1; `null` for direct. */
  proxyCoreShare: number | null;
  /** What else the machine did during the run. */
  machine: MachineLoad;
  /** Whether other processes or the hypervisor took enough CPU to make the run suspect. */
  noisy: boolean;
}

/** What the machine did during a run besides the processes the benchmark runs. */
export interface MachineLoad {
  /**
   * Interrupt time on the proxy's core per request, in microseconds: mostly the kernel moving
   * loopback packets, charged to no process, so not in the proxy's CPU time.
   */
  irqUsPerRequest: number;
  /**
   * CPU used by processes the benchmark did not start, over all CPUs, in cores (0.1 is a tenth
   * of one core for the whole run).
   */
  otherCores: number;
  /** Time a hypervisor took away over all CPUs (steal time), in cores. */
  stealCores: number;
}

/** Other processes or steal above this many cores make a run suspect. */
export const NOISE_CORES = 0.05;

/**
 * Starts a target in front of the HTTP responder, warms it up, measures one wrk run, and stops
 * it. The proxy's CPU time is sampled over its whole process tree just before and just after the
 * measured run; the proxy is idle on either side of it.
 *
 * @param target Which proxy, or `direct`.
 * @param options The upstream, the load, and the CPUs.
 * @param progress Receives a line for each step.
 * @returns The figures.
 * @throws {Error} If the warm-up completes no request or reports errors.
 */
export async function measureKeepAlive(
  target: Target,
  options: KeepAliveOptions,
  progress: (line: string) => void,
): Promise<KeepAliveResult> {
  const proxy = await startProxy(target, {
    upstreamPort: options.upstreamPort,
    cpus: options.proxyCpus,
    maxSockets: options.connections * 2 + 100,
  });
  try {
    const wrk = {
      url: `http://${HOST}:${proxy.port}/`,
      connections: options.connections,
      cpus: options.clientCpus,
    };
    progress(`${target}: warming up for ${options.warmupSeconds}s`);
    const warmup = await runWrk({ ...wrk, seconds: options.warmupSeconds });
    if (warmup.requests === 0 || warmup.errors > 0) {
      throw new Error(
        `${target}: the warm-up completed ${warmup.requests} requests with ${warmup.errors} errors`,
      );
    }
    // Let the warm-up's connections close before the CPU clock starts.
    await new Promise((resolve) => setTimeout(resolve, 300));
    progress(
      `${target}: measuring for ${options.seconds}s with ${options.connections} connections`,
    );
    const core = Number.parseInt(options.proxyCpus);
    const before = proxy.pid === undefined ? undefined : await sampleTree(proxy.pid);
    const [cpusBefore, ownBefore] = [await sampleCpus(), await ownCpuSeconds()];
    const run = await runWrk({ ...wrk, seconds: options.seconds });
    const [ownAfter, cpusAfter] = [await ownCpuSeconds(), await sampleCpus()];
    const after = proxy.pid === undefined ? undefined : await sampleTree(proxy.pid);
    const machine = machineLoad(cpusBefore, cpusAfter, ownAfter - ownBefore, core, run.requests);
    const cpu = before && after ? after.cpuSeconds - before.cpuSeconds : null;
    const result: KeepAliveResult = {
      target,
      round: options.round,
      requests: run.requests,
      requestsPerSecond: run.requestsPerSecond,
      p50Us: run.p50Us,
      p99Us: run.p99Us,
      errors: run.errors,
      proxyCpuSeconds: cpu,
      cpuUsPerRequest: cpu === null || run.requests === 0 ? null : (cpu * 1e6) / run.requests,
      systemUsPerRequest: !before || !after || run.requests === 0
        ? null
        : ((after.systemSeconds - before.systemSeconds) * 1e6) / run.requests,
      proxyCoreShare: cpu === null ? null : cpu / run.seconds,
      machine: {
        irqUsPerRequest: machine.irqUsPerRequest,
        otherCores: machine.otherCores / run.seconds,
        stealCores: machine.stealCores / run.seconds,
      },
      noisy: Math.max(machine.otherCores, machine.stealCores) / run.seconds > NOISE_CORES,
    };
    progress(`${target}: ${describe(result)}`);
    return result;
  } finally {
    await proxy.stop();
  }
}

// Machine-wide CPU time in seconds (not yet divided by the run's length).
function machineLoad(
  before: CpuTimes[],
  after: CpuTimes[],
  ownSeconds: number,
  proxyCore: number,
  requests: number,
): MachineLoad {
  let busy = 0;
  let steal = 0;
  after.forEach((a, cpu) => {
    const b = before[cpu];
    busy += a.user - b.user + a.system - b.system;
    steal += a.steal - b.steal;
  });
  const irq = after[proxyCore].irq - before[proxyCore].irq;
  return {
    irqUsPerRequest: requests > 0 ? (irq * 1e6) / requests : 0,
    otherCores: Math.max(0, busy - ownSeconds),
    stealCores: steal,
  };
}

function describe(r: KeepAliveResult): string {
  const parts = [
    `${Math.round(r.requestsPerSecond)} req/s`,
    `p50 ${r.p50Us} µs`,
    `p99 ${r.p99Us} µs`,
  ];
  if (r.cpuUsPerRequest !== null) {
    parts.push(
      `${r.cpuUsPerRequest.toFixed(2)} µs CPU/request ` +
        `(${r.systemUsPerRequest?.toFixed(2)} in the kernel, ${percent(r.proxyCoreShare ?? 0)} ` +
        "of its core)",
      `${r.machine.irqUsPerRequest.toFixed(2)} µs softirq/request on its core`,
    );
  }
  if (r.noisy) {
    parts.push(
      `NOISY: other processes took ${percent(r.machine.otherCores)} and the hypervisor ` +
        `${percent(r.machine.stealCores)} of a core`,
    );
  }
  if (r.errors > 0) parts.push(`${r.errors} ERRORS`);
  return parts.join(", ");
}

function percent(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}
