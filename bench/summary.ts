/**
 * From raw measurements to figures: medians and ranges over rounds for each workload's table,
 * every figure against nginx and direct, minginx against the other proxies, the costs of the
 * layer stack and of metrics, and the targets of the performance issue.
 *
 * @module
 */

import { type Acceptance, judge } from "./acceptance.ts";
import type { BulkResult } from "./bulk_throughput.ts";
import {
  AGAINST_BARE_FIGURES,
  computeFigures,
  type Figure,
  figureById,
  type Measurements,
} from "./figures.ts";
import type { KeepAliveResult } from "./http_keepalive.ts";
import type { Direction } from "./iperf3.ts";
import { type Target, TARGETS } from "./proxies.ts";
import { type Ratio, type Run, type Spread, spreadOf, usedRuns } from "./stats.ts";

export type { Ratio, Spread } from "./stats.ts";

/** How many runs a target had, and how many of them were disturbed. */
export interface RunCount {
  /** How many runs there were. */
  runs: number;
  /** How many of them were noisy: all of them were used only if every one was. */
  noisyRuns: number;
}

/** Keep-alive figures of one target, over the rounds. */
export interface KeepAliveSummary extends RunCount {
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
  /** wrk's CPU time per request, in microseconds. */
  generatorUsPerRequest: Spread;
  /** The share of wrk's core that was busy, 0 to 1. */
  clientCoreBusy: Spread;
  /** wrk errors, summed over the runs used. */
  errors: number;
}

/** New-connection figures of one target, over the rounds. */
export interface ConnectSummary extends RunCount {
  /** Connections per second. */
  connectionsPerSecond: Spread;
  /** The proxy's CPU time per connection, in microseconds; `null` for direct. */
  cpuUsPerConnection: Spread | null;
  /** The kernel (system time) part of `cpuUsPerConnection`; `null` for direct. */
  systemUsPerConnection: Spread | null;
  /** The share of its core the proxy used, 0 to 1; `null` for direct. */
  proxyCoreShare: Spread | null;
  /** Interrupt time on the proxy's core per connection, in microseconds; `null` for direct. */
  irqUsPerConnection: Spread | null;
  /** wrk's CPU time per connection, in microseconds. */
  generatorUsPerConnection: Spread;
  /** The share of wrk's core that was busy, 0 to 1. */
  clientCoreBusy: Spread;
  /** wrk errors, summed over the runs used. */
  errors: number;
}

/** Bulk figures of one target in one direction, over the rounds. */
export interface BulkSummary extends RunCount {
  /** Client-to-upstream rate, in Gbit/s; `null` for `down`. */
  upGbps: Spread | null;
  /** Upstream-to-client rate, in Gbit/s; `null` for `up`. */
  downGbps: Spread | null;
  /** The proxy's CPU seconds per GiB moved; `null` for direct. */
  cpuSecondsPerGiB: Spread | null;
  /** The kernel (system time) part of `cpuSecondsPerGiB`; `null` for direct. */
  systemSecondsPerGiB: Spread | null;
  /** The share of its core the proxy used, 0 to 1; `null` for direct. */
  proxyCoreShare: Spread | null;
  /** The share of iperf3's core that was busy, 0 to 1. */
  clientCoreBusy: Spread;
}

/** Everything the report shows besides the raw runs. */
export interface Summary {
  /** Keep-alive figures by target. */
  keepAlive: Partial<Record<Target, KeepAliveSummary>>;
  /** New-connection figures by target. */
  connect: Partial<Record<Target, ConnectSummary>>;
  /** Bulk figures by target and direction. */
  bulk: Partial<Record<Target, Partial<Record<Direction, BulkSummary>>>>;
  /** KiB per idle connection by proxy. */
  idle: Partial<Record<Target, Spread>>;
  /** Every figure of every target, against nginx and direct. */
  figures: Figure[];
  /** minginx over nginx and over HAProxy, by figure id (`cpuPerRequest`, ...). */
  ratios: Record<string, { nginx: Ratio | null; haproxy: Ratio | null }>;
  /**
   * What the layer stack costs: minginx-layers over bare minginx in the same run, by figure id,
   * for those of {@linkcode AGAINST_BARE_FIGURES} that were measured; `null` where either target
   * has no figure.
   */
  layerStack: Record<string, Ratio | null>;
  /** What metrics cost: minginx-metrics over bare minginx, as `layerStack` is for layers. */
  metrics: Record<string, Ratio | null>;
  /** The targets of the performance issue; empty for `--quick`, which judges nothing. */
  acceptance: Acceptance[];
}

/**
 * Summarizes the runs of every workload. Runs disturbed by other processes are left out of a
 * target's medians when it has at least one undisturbed run.
 *
 * @param m Every run of every workload, target and round.
 * @param options `quick` leaves the targets unjudged; `connections` is what the keep-alive
 *   runs used.
 * @returns Medians, ratios and the targets.
 */
export function summarize(
  m: Measurements,
  options: { quick: boolean; connections: number },
): Summary {
  const keepAlive = summarizeKeepAlive(m.keepAlive);
  const connect = byTarget(m.connect, (pick, errors): ConnectSummary => ({
    connectionsPerSecond: pick((r) => r.connectionsPerSecond)!,
    cpuUsPerConnection: pick((r) => r.cpuUsPerConnection),
    systemUsPerConnection: pick((r) => r.systemUsPerConnection),
    proxyCoreShare: pick((r) => r.proxyCoreShare),
    irqUsPerConnection: pick((r) =>
      r.cpuUsPerConnection === null ? null : r.machine.irqUsPerRequest
    ),
    generatorUsPerConnection: pick((r) => r.machine.generatorUsPerRequest)!,
    clientCoreBusy: pick((r) => r.machine.clientCoreBusy)!,
    ...errors,
  }));
  const bulk: Summary["bulk"] = {};
  for (const direction of ["up", "down", "both"] as const) {
    const runs = m.bulk.filter((r) => r.direction === direction);
    const summaries = byTarget(runs, (pick, { runs, noisyRuns }): BulkSummary => ({
      upGbps: direction === "down" ? null : pick((r: BulkResult) => r.upGbps),
      downGbps: direction === "up" ? null : pick((r: BulkResult) => r.downGbps),
      cpuSecondsPerGiB: pick((r) => r.cpuSecondsPerGiB),
      systemSecondsPerGiB: pick((r) => r.systemSecondsPerGiB),
      proxyCoreShare: pick((r) => r.proxyCoreShare),
      clientCoreBusy: pick((r) => r.clientCoreBusy)!,
      runs,
      noisyRuns,
    }));
    for (const [target, summary] of Object.entries(summaries) as [Target, BulkSummary][]) {
      (bulk[target] ??= {})[direction] = summary;
    }
  }
  const idle: Summary["idle"] = {};
  for (const target of new Set(m.idle.map((r) => r.target))) {
    idle[target] = spreadOf(
      m.idle.map((r) => ({ ...r, noisy: false })),
      target,
      (r) => r.kibPerConnection,
    )!;
  }
  const figures = computeFigures(m);
  const againstBare = AGAINST_BARE_FIGURES.map((id) => figureById(figures, id))
    .filter((f): f is Figure => f !== undefined);
  return {
    keepAlive,
    connect,
    bulk,
    idle,
    figures,
    ratios: Object.fromEntries(figures.map((f) => [f.id, f.minginx])),
    layerStack: Object.fromEntries(againstBare.map((f) => [f.id, f.layerStack])),
    metrics: Object.fromEntries(againstBare.map((f) => [f.id, f.metrics])),
    acceptance: options.quick ? [] : judge(figures, options.connections),
  };
}

/**
 * Summarizes keep-alive runs, of the http workload or of the http-mode workload, by target. Runs
 * disturbed by other processes are left out of a target's medians when it has at least one
 * undisturbed run.
 *
 * @param runs Every run of every target and round.
 * @returns Medians and ranges by target, for the targets that have runs.
 */
export function summarizeKeepAlive(
  runs: KeepAliveResult[],
): Partial<Record<Target, KeepAliveSummary>> {
  return byTarget(runs, (pick, errors): KeepAliveSummary => ({
    requestsPerSecond: pick((r) => r.requestsPerSecond)!,
    p50Us: pick((r) => r.p50Us)!,
    p99Us: pick((r) => r.p99Us)!,
    cpuUsPerRequest: pick((r) => r.cpuUsPerRequest),
    systemUsPerRequest: pick((r) => r.systemUsPerRequest),
    proxyCoreShare: pick((r) => r.proxyCoreShare),
    irqUsPerRequest: pick((r) => r.cpuUsPerRequest === null ? null : r.machine.irqUsPerRequest),
    generatorUsPerRequest: pick((r) => r.machine.generatorUsPerRequest)!,
    clientCoreBusy: pick((r) => r.machine.clientCoreBusy)!,
    ...errors,
  }));
}

type Pick<R> = (value: (run: R) => number | null) => Spread | null;

// Applies `summarize` to the runs of each target that has any, in the order of TARGETS.
function byTarget<R extends Run & { errors?: number }, S>(
  runs: R[],
  summarize: (pick: Pick<R>, counts: RunCount & { errors: number }) => S,
): Partial<Record<Target, S>> {
  const out: Partial<Record<Target, S>> = {};
  for (const target of TARGETS) {
    const all = runs.filter((r) => r.target === target);
    if (all.length === 0) continue;
    const used = usedRuns(runs, target);
    out[target] = summarize((value) => spreadOf(runs, target, value), {
      runs: all.length,
      noisyRuns: all.filter((r) => r.noisy).length,
      errors: used.reduce((sum, r) => sum + (r.errors ?? 0), 0),
    });
  }
  return out;
}
