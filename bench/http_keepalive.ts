/**
 * The http workload, keep-alive HTTP request rate: wrk drives small HTTP/1.1 requests over
 * keep-alive connections through a proxy to the HTTP responder, and the proxy's own CPU time is
 * divided by the requests completed.
 *
 * @module
 */

import { noiseNote, percent, type RunCpu } from "./meter.ts";
import type { Target } from "./proxies.ts";
import { measureUnderWrk, type StartTarget, type WrkLoadOptions } from "./wrk_load.ts";

/** How the keep-alive workload runs. */
export type KeepAliveOptions = WrkLoadOptions;

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
  /** The raw CPU reading of the run. */
  cpu: RunCpu;
}

/** What the machine did during a run besides the proxy's own work. */
export interface MachineLoad {
  /**
   * Interrupt time on the proxy's core per request, in microseconds: mostly the kernel moving
   * loopback packets, charged to no process, so not in the proxy's CPU time.
   */
  irqUsPerRequest: number;
  /** wrk's own CPU time per request, in microseconds. */
  generatorUsPerRequest: number;
  /** The share of the core wrk and the HTTP responder share that was busy, 0 to 1. */
  clientCoreBusy: number;
  /**
   * CPU used by processes the benchmark did not start, over all CPUs, in cores (0.1 is a tenth
   * of one core for the whole run).
   */
  otherCores: number;
  /** Time a hypervisor took away over all CPUs (steal time), in cores. */
  stealCores: number;
}

/**
 * The machine load of a run, per request and per second.
 *
 * @param cpu The run's CPU reading.
 * @param count Requests (or connections) completed in the run.
 * @returns The load.
 */
export function machineLoad(cpu: RunCpu, count: number): MachineLoad {
  const perUnit = (seconds: number) => count > 0 ? (seconds * 1e6) / count : 0;
  return {
    irqUsPerRequest: perUnit(cpu.proxyCoreIrqSeconds),
    generatorUsPerRequest: perUnit(cpu.generatorSeconds),
    clientCoreBusy: cpu.clientCoreBusy,
    otherCores: cpu.otherSeconds / cpu.wallSeconds,
    stealCores: cpu.stealSeconds / cpu.wallSeconds,
  };
}

/**
 * Starts a target in front of the HTTP responder, warms it up, measures one wrk run, and stops
 * it. The proxy's CPU time is sampled over its whole process tree just before and just after the
 * measured run; the proxy is idle on either side of it.
 *
 * @param target Which proxy, or `direct`.
 * @param options The upstream, the load, and the CPUs.
 * @param progress Receives a line for each step.
 * @param start Starts the target: the TCP proxies unless said otherwise (the HTTP-mode workload
 *   starts HTTP proxies).
 * @returns The figures.
 * @throws {Error} If the warm-up completes no request or reports errors.
 */
export async function measureKeepAlive(
  target: Target,
  options: KeepAliveOptions,
  progress: (line: string) => void,
  start?: StartTarget,
): Promise<KeepAliveResult> {
  const { run, cpu, perRequestUs } = await measureUnderWrk(target, options, {
    describe: `${options.connections} connections`,
    start,
  }, progress);
  const result: KeepAliveResult = {
    target,
    round: options.round,
    requests: run.requests,
    requestsPerSecond: run.requestsPerSecond,
    p50Us: run.p50Us,
    p99Us: run.p99Us,
    errors: run.errors,
    proxyCpuSeconds: cpu.proxySeconds,
    cpuUsPerRequest: perRequestUs(cpu.proxySeconds),
    systemUsPerRequest: perRequestUs(cpu.proxySystemSeconds),
    proxyCoreShare: cpu.proxyCoreShare,
    machine: machineLoad(cpu, run.requests),
    noisy: cpu.noisy,
    cpu,
  };
  progress(`${target}: ${describe(result)}`);
  return result;
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
  parts.push(
    `wrk ${r.machine.generatorUsPerRequest.toFixed(2)} µs CPU/request, its core ` +
      `${percent(r.machine.clientCoreBusy)} busy`,
  );
  const noise = noiseNote(r.cpu);
  if (noise) parts.push(noise);
  if (r.errors > 0) parts.push(`${r.errors} ERRORS`);
  return parts.join(", ");
}
