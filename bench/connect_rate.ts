/**
 * The connect workload, new connections per second: wrk sends every request with
 * `Connection: close`, so each request opens a connection through the proxy, which opens one to
 * the HTTP responder; the responder answers and closes, and wrk reconnects. The proxy's own CPU
 * time is divided by the connections completed, and wrk's by the same, to show whether the load
 * generator rather than the proxy set the pace.
 *
 * @module
 */

import { type MachineLoad, machineLoad } from "./http_keepalive.ts";
import { noiseNote, percent, type RunCpu } from "./meter.ts";
import type { Target } from "./proxies.ts";
import { measureUnderWrk, type WrkLoadOptions } from "./wrk_load.ts";

/** The request header that makes every request a new connection. */
export const CLOSE_HEADER = "Connection: close";
// Connect errors a warm-up may have, as a share of its connections, before the run is called off.
const MAX_WARMUP_ERROR_SHARE = 0.01;

/** How the connect workload runs: wrk's connections are each replaced after every request. */
export type ConnectOptions = WrkLoadOptions;

/** What the connect workload measured for one target. */
export interface ConnectResult {
  /** Which target. */
  target: Target;
  /** The round, counted from 1: runs of one round ran one after the other. */
  round: number;
  /** Connections completed (one request and response each) in the measured run. */
  connections: number;
  /** Connections completed per second. */
  connectionsPerSecond: number;
  /** 99th percentile of wrk's request latency, in microseconds (connecting not included). */
  p99Us: number;
  /** wrk's socket errors and non-2xx responses. */
  errors: number;
  /** The proxy's user plus system CPU time over the run, in seconds; `null` for direct. */
  proxyCpuSeconds: number | null;
  /** The proxy's CPU time per connection, in microseconds; `null` for direct. */
  cpuUsPerConnection: number | null;
  /** The part of `cpuUsPerConnection` spent in the kernel; `null` for direct. */
  systemUsPerConnection: number | null;
  /** The share of its core the proxy used during the run, 0 to 1; `null` for direct. */
  proxyCoreShare: number | null;
  /** What else the machine did, per connection where it says "per request". */
  machine: MachineLoad;
  /** Whether other processes or the hypervisor took enough CPU to make the run suspect. */
  noisy: boolean;
  /** The raw CPU reading of the run. */
  cpu: RunCpu;
}

/**
 * Starts a target in front of the HTTP responder, warms it up with new connections, measures
 * one wrk run with `Connection: close`, and stops it.
 *
 * @param target Which proxy, or `direct`.
 * @param options The upstream, the load, and the CPUs.
 * @param progress Receives a line for each step.
 * @returns The figures.
 * @throws {Error} If the warm-up completes no connection or too many fail.
 */
export async function measureConnectRate(
  target: Target,
  options: ConnectOptions,
  progress: (line: string) => void,
): Promise<ConnectResult> {
  const { run, cpu, perRequestUs } = await measureUnderWrk(target, options, {
    headers: [CLOSE_HEADER],
    maxWarmupErrorShare: MAX_WARMUP_ERROR_SHARE,
    describe: `${options.connections} at a time, a new connection per request`,
  }, progress);
  const result: ConnectResult = {
    target,
    round: options.round,
    connections: run.requests,
    connectionsPerSecond: run.requestsPerSecond,
    p99Us: run.p99Us,
    errors: run.errors,
    proxyCpuSeconds: cpu.proxySeconds,
    cpuUsPerConnection: perRequestUs(cpu.proxySeconds),
    systemUsPerConnection: perRequestUs(cpu.proxySystemSeconds),
    proxyCoreShare: cpu.proxyCoreShare,
    machine: machineLoad(cpu, run.requests),
    noisy: cpu.noisy,
    cpu,
  };
  progress(`${target}: ${describe(result)}`);
  return result;
}

function describe(r: ConnectResult): string {
  const parts = [`${Math.round(r.connectionsPerSecond)} connections/s`];
  if (r.cpuUsPerConnection !== null) {
    parts.push(
      `${r.cpuUsPerConnection.toFixed(1)} µs CPU/connection ` +
        `(${r.systemUsPerConnection?.toFixed(1)} in the kernel, ` +
        `${percent(r.proxyCoreShare ?? 0)} of its core)`,
      `${r.machine.irqUsPerRequest.toFixed(1)} µs softirq/connection on its core`,
    );
  }
  parts.push(
    `wrk ${r.machine.generatorUsPerRequest.toFixed(1)} µs CPU/connection, its core ` +
      `${percent(r.machine.clientCoreBusy)} busy`,
  );
  const noise = noiseNote(r.cpu);
  if (noise) parts.push(noise);
  if (r.errors > 0) parts.push(`${r.errors} ERRORS`);
  return parts.join(", ");
}
