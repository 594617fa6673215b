/**
 * From raw measurements to figures: medians and ranges over rounds, ratios of minginx to the
 * other proxies, and the acceptance targets of issue 2.
 *
 * @module
 */

import type { KeepAliveResult } from "./http_keepalive.ts";
import type { IdleResult } from "./idle_memory.ts";
import type { Target } from "./proxies.ts";

/** The median and range of one figure over the rounds. */
export interface Spread {
  /** The median. */
  median: number;
  /** The smallest value. */
  min: number;
  /** The largest value. */
  max: number;
  /** How many values. */
  n: number;
}

/** Keep-alive figures of one target, over the rounds. */
export interface KeepAliveSummary {
  /** Requests per second. */
  requestsPerSecond: Spread;
  /** Median latency, in microseconds. */
  p50Us: Spread;
  /** 99th percentile latency, in microseconds. */
  p99Us: Spread;
  /** The proxy's CPU time per request, in microseconds; `null` for direct. */
  cpuUsPerRequest: Spread | null;
  /** The kernel (system time) part of `cpuUsPerRequest`; `null` for direct. */
  systemUsPerRequest: Spread | null;
  /** The share of its core the proxy used, 0 to 1; `null` for direct. */
  proxyCoreShare: Spread | null;
  /** Interrupt time on the proxy's core per request, in microseconds; `null` for direct. */
  irqUsPerRequest: Spread | null;
  /** wrk errors, summed over the runs used. */
  errors: number;
  /** How many runs there were. */
  runs: number;
  /** How many of them were noisy: all of them were used only if every one was. */
  noisyRuns: number;
}

/**
 * minginx's figure over another proxy's: the ratio of the medians, and the range of the ratios
 * within each round (runs of one round ran back to back, so drift of the machine cancels out).
 */
export interface Ratio {
  /** minginx's median over the other's median. */
  ofMedians: number;
  /** The smallest and largest ratio within a round; `null` if no round measured both. */
  perRound: Spread | null;
}

/** One acceptance target and how the run compares with it. */
export interface Acceptance {
  /** What is measured, in words. */
  what: string;
  /** The limit, in words. */
  limit: string;
  /** The measured value, or `null` if it could not be measured. */
  value: number | null;
  /** Whether the value is within the limit; `null` if not measured. */
  pass: boolean | null;
  /**
   * Whether the verdict could go the other way on another run: the per-round values straddle
   * the limit, or the value is closer to it than `tolerance` divided by the square root of the
   * number of rounds.
   */
  borderline: boolean;
  /** How far a single run of this figure moves from run to run, as a share of it. */
  tolerance: number;
}

/** Run-to-run spread of CPU per request measured on the project's 2-core machines. */
export const CPU_TOLERANCE = 0.1;
/** Run-to-run spread of KiB per idle connection measured on the project's 2-core machines. */
export const MEMORY_TOLERANCE = 0.03;

/** Everything the report shows besides the raw runs. */
export interface Summary {
  /** Keep-alive figures by target. */
  keepAlive: Partial<Record<Target, KeepAliveSummary>>;
  /** KiB per idle connection by proxy. */
  idle: Partial<Record<Target, Spread>>;
  /** minginx over nginx and over HAProxy. */
  ratios: {
    /** CPU time per keep-alive request. */
    cpuPerRequest: { nginx: Ratio | null; haproxy: Ratio | null };
    /** Memory per idle connection. */
    kibPerIdleConnection: { nginx: Ratio | null; haproxy: Ratio | null };
  };
  /** The acceptance targets of issue 2. */
  acceptance: Acceptance[];
}

/** minginx's CPU per keep-alive request may be at most this many times nginx's. */
export const MAX_CPU_RATIO_VS_NGINX = 1.5;
/** minginx may use at most this many KiB per idle proxied connection. */
export const MAX_IDLE_KIB = 40;

/**
 * The median and range of some values.
 *
 * @param values The values; may be empty.
 * @returns The spread, or `null` for no values.
 */
export function spread(values: number[]): Spread | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted.at(-1)!, n: sorted.length };
}

/**
 * Summarizes the runs of both workloads. Keep-alive runs disturbed by other processes are left
 * out of a target's medians when it has at least one undisturbed run.
 *
 * @param keepAlive Every keep-alive run, of every target and round.
 * @param idle Every idle-memory run.
 * @returns Medians, ratios and the acceptance targets.
 */
export function summarize(keepAlive: KeepAliveResult[], idle: IdleResult[]): Summary {
  const keepAliveByTarget: Partial<Record<Target, KeepAliveSummary>> = {};
  for (const target of new Set(keepAlive.map((r) => r.target))) {
    const all = keepAlive.filter((r) => r.target === target);
    const clean = all.filter((r) => !r.noisy);
    const runs = clean.length > 0 ? clean : all;
    const pick = (f: (r: KeepAliveResult) => number | null) =>
      spread(runs.map(f).filter((v): v is number => v !== null));
    keepAliveByTarget[target] = {
      requestsPerSecond: pick((r) => r.requestsPerSecond)!,
      p50Us: pick((r) => r.p50Us)!,
      p99Us: pick((r) => r.p99Us)!,
      cpuUsPerRequest: pick((r) => r.cpuUsPerRequest),
      systemUsPerRequest: pick((r) => r.systemUsPerRequest),
      proxyCoreShare: pick((r) => r.proxyCoreShare),
      irqUsPerRequest: pick((r) => r.cpuUsPerRequest === null ? null : r.machine.irqUsPerRequest),
      errors: runs.reduce((sum, r) => sum + r.errors, 0),
      runs: all.length,
      noisyRuns: all.length - clean.length,
    };
  }
  const idleByTarget: Partial<Record<Target, Spread>> = {};
  for (const target of new Set(idle.map((r) => r.target))) {
    idleByTarget[target] = spread(
      idle.filter((r) => r.target === target).map((r) => r.kibPerConnection),
    )!;
  }
  const cpu = (t: Target) => keepAliveByTarget[t]?.cpuUsPerRequest?.median ?? null;
  const kib = (t: Target) => idleByTarget[t]?.median ?? null;
  const cpuRatio = (other: Target) =>
    ratio(cpu("minginx"), cpu(other), pairedRatios(keepAlive, other));
  const kibRatio = (other: Target) => ratio(kib("minginx"), kib(other), null);
  const ratios = {
    cpuPerRequest: { nginx: cpuRatio("nginx"), haproxy: cpuRatio("haproxy") },
    kibPerIdleConnection: { nginx: kibRatio("nginx"), haproxy: kibRatio("haproxy") },
  };
  const idleRuns = idle.filter((r) => r.target === "minginx").map((r) => r.kibPerConnection);
  return {
    keepAlive: keepAliveByTarget,
    idle: idleByTarget,
    ratios,
    acceptance: [
      check(
        "minginx CPU per keep-alive request / nginx's",
        `≤ ${MAX_CPU_RATIO_VS_NGINX}x`,
        ratios.cpuPerRequest.nginx?.ofMedians ?? null,
        ratios.cpuPerRequest.nginx?.perRound ?? null,
        MAX_CPU_RATIO_VS_NGINX,
        CPU_TOLERANCE,
      ),
      check(
        "minginx KiB per idle proxied connection",
        `≤ ${MAX_IDLE_KIB} KiB`,
        kib("minginx"),
        spread(idleRuns),
        MAX_IDLE_KIB,
        MEMORY_TOLERANCE,
      ),
    ],
  };
}

// minginx's CPU per request over the other's, within each round where both have a clean run
// (or any run, if no round has two clean ones).
function pairedRatios(runs: KeepAliveResult[], other: Target): Spread | null {
  const pairs = (clean: boolean) => {
    const ratios: number[] = [];
    for (const a of runs) {
      if (a.target !== "minginx" || a.cpuUsPerRequest === null || (clean && a.noisy)) continue;
      const b = runs.find((r) => r.target === other && r.round === a.round);
      if (!b?.cpuUsPerRequest || (clean && b.noisy)) continue;
      ratios.push(a.cpuUsPerRequest / b.cpuUsPerRequest);
    }
    return ratios;
  };
  const clean = pairs(true);
  return spread(clean.length > 0 ? clean : pairs(false));
}

function ratio(a: number | null, b: number | null, perRound: Spread | null): Ratio | null {
  return a === null || b === null || b <= 0 ? null : { ofMedians: a / b, perRound };
}

function check(
  what: string,
  limit: string,
  value: number | null,
  runs: Spread | null,
  max: number,
  tolerance: number,
): Acceptance {
  if (value === null) return { what, limit, value, pass: null, borderline: false, tolerance };
  // Rounds on both sides of the limit, or a median closer to it than the spread of a median of
  // that many runs.
  const n = runs?.n ?? 1;
  const borderline = (runs !== null && runs.min <= max && runs.max > max) ||
    Math.abs(value / max - 1) < tolerance / Math.sqrt(n);
  return { what, limit, value, pass: value <= max, borderline, tolerance };
}
