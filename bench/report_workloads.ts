/**
 * The report's table for each workload: what each target did, with the proxy's CPU time and the
 * load on the generator's core beside it.
 *
 * @module
 */

import { cell, fmt, share } from "./format.ts";
import { DIRECTION_NAMES, DIRECTIONS } from "./iperf3.ts";
import { NOISE_CORES } from "./meter.ts";
import { type Target, TARGETS } from "./proxies.ts";
import type { BenchReport } from "./report.ts";
import type { Spread } from "./stats.ts";
import type { KeepAliveSummary, RunCount } from "./summary.ts";

// Above this share of its core busy, the load generator may be what limits the rate.
const GENERATOR_BUSY = 0.95;

/**
 * The keep-alive HTTP section.
 *
 * @param report The report.
 * @returns Markdown lines; none if the workload did not run.
 */
export function keepAliveSection({ options, summary }: BenchReport): string[] {
  if (!TARGETS.some((t) => summary.keepAlive[t])) return [];
  return [
    `## Keep-alive HTTP: wrk -t1 -c${options.connections} -d${options.durationSeconds}s ` +
    `${warmup(options.warmupSeconds)}, 13-byte responses`,
    "",
    "Proxy CPU is user + system time of the proxy's processes (/proc/PID/stat) over the " +
    "measured run, divided by the requests wrk completed. Softirq is interrupt time on the " +
    "proxy's core per request: the kernel moving loopback packets, charged to no process. " +
    "wrk and the HTTP responder share the other core.",
    "",
    ...keepAliveTable(summary.keepAlive),
  ];
}

/**
 * The table of a keep-alive workload (http, http-mode), one row per target, and the notes under
 * it on noisy runs and a saturated load generator.
 *
 * @param byTarget The workload's figures by target.
 * @returns Markdown lines; none if no target has figures.
 */
export function keepAliveTable(byTarget: Partial<Record<Target, KeepAliveSummary>>): string[] {
  const targets = TARGETS.filter((t) => byTarget[t]);
  if (targets.length === 0) return [];
  const lines = [
    "| target | requests/s | p50 latency | p99 latency | proxy CPU per request | " +
    "of it in the kernel | proxy core busy | softirq per request | wrk core busy |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const target of targets) {
    const s = byTarget[target]!;
    lines.push(
      `| ${target} | ${fmt(s.requestsPerSecond, 0)} | ${cell(s.p50Us, 0, "µs")} | ` +
        `${cell(s.p99Us, 0, "µs")} | ${cell(s.cpuUsPerRequest, 2, "µs")} | ` +
        `${cell(s.systemUsPerRequest, 2, "µs")} | ${share(s.proxyCoreShare)} | ` +
        `${cell(s.irqUsPerRequest, 2, "µs")} | ${share(s.clientCoreBusy)} |` +
        (s.errors > 0 ? ` **${s.errors} errors**` : ""),
    );
  }
  const summaries = targets.map((t) => [t, byTarget[t]!] as const);
  return [...lines, "", ...notes(summaries, "wrk and the HTTP responder")];
}

/**
 * The new-connection section.
 *
 * @param report The report.
 * @returns Markdown lines; none if the workload did not run.
 */
export function connectSection({ options, summary }: BenchReport): string[] {
  const targets = TARGETS.filter((t) => summary.connect[t]);
  if (targets.length === 0) return [];
  const lines = [
    `## New connections: wrk -t1 -c${options.connections} -d${options.durationSeconds}s ` +
    `-H "Connection: close" ${warmup(options.warmupSeconds)}`,
    "",
    "Every request opens a connection through the proxy, which opens one to the HTTP " +
    "responder; the responder answers and closes, and wrk connects again. Proxy CPU and " +
    "softirq are as above, per connection; wrk CPU is wrk's own time per connection.",
    "",
    "| target | connections/s | proxy CPU per connection | of it in the kernel | " +
    "proxy core busy | softirq per connection | wrk CPU per connection | wrk core busy |",
    "|---|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const target of targets) {
    const s = summary.connect[target]!;
    lines.push(
      `| ${target} | ${fmt(s.connectionsPerSecond, 0)} | ${
        cell(s.cpuUsPerConnection, 1, "µs")
      } | ` +
        `${cell(s.systemUsPerConnection, 1, "µs")} | ${share(s.proxyCoreShare)} | ` +
        `${cell(s.irqUsPerConnection, 1, "µs")} | ${cell(s.generatorUsPerConnection, 1, "µs")} | ` +
        `${share(s.clientCoreBusy)} |` + (s.errors > 0 ? ` **${s.errors} errors**` : ""),
    );
  }
  const summaries = targets.map((t) => [t, summary.connect[t]!] as const);
  return [...lines, "", ...notes(summaries, "wrk and the HTTP responder")];
}

/**
 * The bulk section.
 *
 * @param report The report.
 * @returns Markdown lines; none if the workload did not run.
 */
export function bulkSection({ options, summary }: BenchReport): string[] {
  const targets = TARGETS.filter((t) => summary.bulk[t]);
  if (targets.length === 0) return [];
  const lines = [
    `## Bulk: iperf3 -t ${options.bulkSeconds} per direction, one TCP stream each way, ` +
    warmup(options.bulkWarmupSeconds),
    "",
    "Rates are as the receiving end counted them. Proxy CPU per GiB is the proxy's user + " +
    "system time over the run divided by the GiB received, both directions added up. iperf3's " +
    "client and server share the other core. nginx and HAProxy run with their default 16 KiB " +
    "buffers (proxy_buffer_size, tune.bufsize).",
    "",
    "| target | direction | client → upstream | upstream → client | proxy CPU per GiB | " +
    "of it in the kernel | proxy core busy | iperf3 core busy |",
    "|---|---|--:|--:|--:|--:|--:|--:|",
  ];
  const summaries: (readonly [string, RunCount & { clientCoreBusy: Spread }])[] = [];
  for (const target of targets) {
    for (const direction of DIRECTIONS) {
      const s = summary.bulk[target]![direction];
      if (!s) continue;
      summaries.push([`${target} (${DIRECTION_NAMES[direction]})`, s]);
      lines.push(
        `| ${target} | ${DIRECTION_NAMES[direction]} | ${cell(s.upGbps, 2, "Gbit/s")} | ` +
          `${cell(s.downGbps, 2, "Gbit/s")} | ${cell(s.cpuSecondsPerGiB, 3, "s")} | ` +
          `${cell(s.systemSecondsPerGiB, 3, "s")} | ${share(s.proxyCoreShare)} | ` +
          `${share(s.clientCoreBusy)} |`,
      );
    }
  }
  return [...lines, "", ...notes(summaries, "iperf3's client and server")];
}

/**
 * The idle-memory section.
 *
 * @param report The report.
 * @returns Markdown lines; none if the workload did not run.
 */
export function idleSection({ options, summary, idle }: BenchReport): string[] {
  const targets = TARGETS.filter((t) => summary.idle[t]);
  if (targets.length === 0) return [];
  const lines = [
    `## Idle memory: ${options.idleConnections} open proxied connections`,
    "",
    "Each connection carried one 6-byte message each way. RSS is VmRSS summed over the " +
    `proxy's processes, read after a ${options.settleMs} ms settle.`,
    "",
    "| proxy | RSS before | RSS after | KiB per connection |",
    "|---|--:|--:|--:|",
  ];
  for (const target of targets) {
    const last = idle.filter((r) => r.target === target).at(-1)!;
    lines.push(
      `| ${target} | ${last.rssBeforeKiB} KiB | ${last.rssAfterKiB} KiB | ` +
        `${fmt(summary.idle[target]!, 1)} |`,
    );
  }
  if (options.rounds > 1) lines.push("", "RSS columns are from the last round.");
  return [...lines, ""];
}

/**
 * Says how a measured run was warmed up, for a section's title.
 *
 * @param seconds The warm-up, in seconds; 0 for none.
 * @returns E.g. `after a 2s warm-up`.
 */
export function warmup(seconds: number): string {
  return seconds > 0 ? `after a ${seconds}s warm-up` : "without warm-up";
}

// Notes under a table: noisy runs, and a load generator that had its core to itself no longer.
function notes(
  summaries: readonly (readonly [string, RunCount & { clientCoreBusy: Spread }])[],
  generator: string,
): string[] {
  const out: string[] = [];
  for (const [name, s] of summaries) {
    if (s.noisyRuns > 0) {
      out.push(
        `- ${name}: ${s.noisyRuns} of ${s.runs} runs had other processes or the hypervisor ` +
          `take over ${NOISE_CORES * 100}% of a core; ` +
          (s.noisyRuns === s.runs ? "**all were used: treat with care**" : "left out"),
      );
    }
  }
  const saturated = summaries.filter(([, s]) => s.clientCoreBusy.median >= GENERATOR_BUSY);
  if (saturated.length > 0) {
    out.push(
      `- The core of ${generator} was over ${GENERATOR_BUSY * 100}% busy for ` +
        `${saturated.map(([name]) => name).join(", ")}: there the load generator, not the ` +
        "proxy, may have set the rate. CPU per unit is still the proxy's own.",
    );
  }
  return out.length > 0 ? [...out, ""] : [];
}
