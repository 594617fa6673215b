/**
 * What the wrk workloads (keep-alive HTTP through the TCP proxies or the HTTP ones, and new
 * connections) share: start a target in front of the HTTP responder, warm it up, measure one wrk
 * run with the proxy's CPU sampled just before and just after it, and stop the target.
 *
 * @module
 */

import { CpuMeter, type RunCpu } from "./meter.ts";
import { HOST } from "./net.ts";
import { type ProxyOptions, type RunningProxy, startProxy, type Target } from "./proxies.ts";
import { runWrk, warmUp, type WrkResult } from "./wrk.ts";

/** How a wrk workload runs. */
export interface WrkLoadOptions {
  /** The HTTP responder's port. */
  upstreamPort: number;
  /** wrk's concurrent connections. */
  connections: number;
  /** The measured run, in seconds. */
  seconds: number;
  /** The warm-up run before it, not counted, in seconds; 0 for none. */
  warmupSeconds: number;
  /** The CPUs the proxy is pinned to. */
  proxyCpus: string;
  /** The CPUs wrk and the responder are pinned to. */
  clientCpus: string;
  /** Which round of the benchmark this is, counted from 1; copied into the result. */
  round: number;
}

/** What differs between the wrk workloads. */
export interface WrkLoad {
  /** Request headers wrk adds. */
  headers?: string[];
  /** The share of warm-up requests that may fail before the run is called off. */
  maxWarmupErrorShare?: number;
  /** How the progress line describes the measured run. */
  describe: string;
  /** Starts the target; {@linkcode startProxy} unless said otherwise. */
  start?: StartTarget;
}

/** Starts a target in front of the HTTP responder and waits until it accepts. */
export type StartTarget = (target: Target, options: ProxyOptions) => Promise<RunningProxy>;

/** One measured wrk run and the CPU reading over it. */
export interface WrkMeasurement {
  /** What wrk counted. */
  run: WrkResult;
  /** What /proc said about the run. */
  cpu: RunCpu;
  /** CPU seconds turned into microseconds per request completed; `null` stays `null`. */
  perRequestUs(seconds: number | null): number | null;
}

/**
 * Runs one wrk workload against one target.
 *
 * @param target Which proxy, or `direct`.
 * @param options The upstream, the load, and the CPUs.
 * @param load Headers, warm-up tolerance and the progress wording.
 * @param progress Receives a line for each step.
 * @returns The run and its CPU reading.
 * @throws {Error} If the warm-up completes nothing or too many of its requests fail.
 */
export async function measureUnderWrk(
  target: Target,
  options: WrkLoadOptions,
  load: WrkLoad,
  progress: (line: string) => void,
): Promise<WrkMeasurement> {
  const proxy = await (load.start ?? startProxy)(target, {
    upstreamPort: options.upstreamPort,
    cpus: options.proxyCpus,
    maxSockets: options.connections * 2 + 100,
  });
  try {
    const wrk = {
      url: `http://${HOST}:${proxy.port}/`,
      connections: options.connections,
      cpus: options.clientCpus,
      headers: load.headers,
    };
    if (options.warmupSeconds > 0) {
      progress(`${target}: warming up for ${options.warmupSeconds}s`);
      await warmUp({ ...wrk, seconds: options.warmupSeconds }, load.maxWarmupErrorShare);
    }
    progress(`${target}: measuring for ${options.seconds}s, ${load.describe}`);
    const meter = await CpuMeter.start({
      proxyPid: proxy.pid,
      proxyCore: Number.parseInt(options.proxyCpus),
      clientCore: Number.parseInt(options.clientCpus),
    });
    const run = await runWrk({ ...wrk, seconds: options.seconds });
    const cpu = await meter.stop();
    const perRequestUs = (seconds: number | null) =>
      seconds === null || run.requests === 0 ? null : (seconds * 1e6) / run.requests;
    return { run, cpu, perRequestUs };
  } finally {
    await proxy.stop();
  }
}
