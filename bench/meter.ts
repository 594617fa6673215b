/**
 * Where the CPU time went during one measured run: the proxy's process tree, the load generator
 * (wrk or iperf3's client, which exits at the end of the run), the two cores, and whatever else
 * ran on the machine. Every workload that puts load on a proxy reads it the same way: start a
 * meter just before the run, stop it just after; the proxy is idle on either side.
 *
 * @module
 */

import { cpuDelta, type CpuTimes, type OwnCpu, ownCpu, sampleCpus, sampleTree } from "./proc.ts";

/** Other processes or steal above this many cores make a run suspect. */
export const NOISE_CORES = 0.05;

/** What the CPUs did over one run, in seconds unless said otherwise. */
export interface RunCpu {
  /** Wall-clock time between the two readings. */
  wallSeconds: number;
  /** User plus system time of the proxy's process tree; `null` without a proxy (direct). */
  proxySeconds: number | null;
  /** The system (kernel) part of `proxySeconds`; `null` without a proxy. */
  proxySystemSeconds: number | null;
  /** `proxySeconds` over `wallSeconds`: how busy the proxy kept its core, 0 to 1; or `null`. */
  proxyCoreShare: number | null;
  /**
   * Interrupt time on the proxy's core: mostly the kernel moving loopback packets, charged to
   * no process, so not in `proxySeconds`.
   */
  proxyCoreIrqSeconds: number;
  /** The load generator's own time: every child of the benchmark that exited during the run. */
  generatorSeconds: number;
  /**
   * The share of the load generators' core that was busy (user, system, interrupts), 0 to 1:
   * near 1, the generator and upstream, not the proxy, may be what limits the rate.
   */
  clientCoreBusy: number;
  /** Time used by processes the benchmark did not start, over all CPUs. */
  otherSeconds: number;
  /** Time a hypervisor took away over all CPUs (steal time). */
  stealSeconds: number;
  /** Whether other processes or steal took over {@linkcode NOISE_CORES} of a core. */
  noisy: boolean;
}

/** Which process and cores a meter watches. */
export interface MeterOptions {
  /** The root of the proxy's process tree; `undefined` for direct. */
  proxyPid: number | undefined;
  /** The core the proxy is pinned to. */
  proxyCore: number;
  /** The core the load generator and upstream are pinned to. */
  clientCore: number;
}

interface Reading {
  at: number;
  proxy: { cpuSeconds: number; systemSeconds: number } | undefined;
  cpus: CpuTimes[];
  own: OwnCpu;
}

/** Measures the CPU time spent between {@linkcode CpuMeter.start} and {@linkcode stop}. */
export class CpuMeter {
  #options: MeterOptions;
  #before: Reading;

  private constructor(options: MeterOptions, before: Reading) {
    this.#options = options;
    this.#before = before;
  }

  /**
   * Takes the first reading.
   *
   * @param options The proxy's process and the two cores.
   * @returns The running meter.
   */
  static async start(options: MeterOptions): Promise<CpuMeter> {
    // Proxy first and own last, so that the shells reading them fall outside the run.
    const proxy = options.proxyPid === undefined ? undefined : await sampleTree(options.proxyPid);
    const cpus = await sampleCpus();
    const own = await ownCpu();
    return new CpuMeter(options, { at: performance.now(), proxy, cpus, own });
  }

  /**
   * Takes the second reading.
   *
   * @returns What the CPUs did in between.
   */
  async stop(): Promise<RunCpu> {
    const at = performance.now();
    const own = await ownCpu();
    const cpus = await sampleCpus();
    const { proxyPid, proxyCore, clientCore } = this.#options;
    const proxy = proxyPid === undefined ? undefined : await sampleTree(proxyPid);
    const before = this.#before;
    const wallSeconds = (at - before.at) / 1000;
    let busy = 0;
    let steal = 0;
    cpus.forEach((after, cpu) => {
      const delta = cpuDelta(before.cpus[cpu], after);
      busy += delta.user + delta.system;
      steal += delta.steal;
    });
    const client = cpuDelta(before.cpus[clientCore], cpus[clientCore]);
    const clientTotal = client.user + client.system + client.irq + client.steal + client.idle;
    const otherSeconds = Math.max(0, busy - (own.totalSeconds - before.own.totalSeconds));
    const proxySeconds = proxy && before.proxy ? proxy.cpuSeconds - before.proxy.cpuSeconds : null;
    return {
      wallSeconds,
      proxySeconds,
      proxyCoreShare: proxySeconds === null ? null : proxySeconds / wallSeconds,
      proxySystemSeconds: proxy && before.proxy
        ? proxy.systemSeconds - before.proxy.systemSeconds
        : null,
      proxyCoreIrqSeconds: cpus[proxyCore].irq - before.cpus[proxyCore].irq,
      generatorSeconds: own.reapedSeconds - before.own.reapedSeconds,
      clientCoreBusy: clientTotal > 0
        ? (client.user + client.system + client.irq) / clientTotal
        : 0,
      otherSeconds,
      stealSeconds: steal,
      noisy: Math.max(otherSeconds, steal) / wallSeconds > NOISE_CORES,
    };
  }
}

/**
 * Formats a share of a core as a percentage.
 *
 * @param share 0 to 1.
 * @returns E.g. `74%`.
 */
export function percent(share: number): string {
  return `${(share * 100).toFixed(0)}%`;
}

/**
 * Describes a noisy run for a progress line.
 *
 * @param cpu The run's CPU reading.
 * @returns The words to add, or `undefined` for a clean run.
 */
export function noiseNote(cpu: RunCpu): string | undefined {
  if (!cpu.noisy) return undefined;
  return `NOISY: other processes took ${percent(cpu.otherSeconds / cpu.wallSeconds)} and the ` +
    `hypervisor ${percent(cpu.stealSeconds / cpu.wallSeconds)} of a core`;
}
