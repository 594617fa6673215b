/**
 * The report: one Markdown page a person reads, and one JSON document with every raw run, both
 * written to `bench/results/`.
 *
 * @module
 */

import { type KeepAliveResult, NOISE_CORES } from "./http_keepalive.ts";
import type { IdleResult } from "./idle_memory.ts";
import type { BenchOptions } from "./options.ts";
import { type Target, TARGETS } from "./proxies.ts";
import type { Ratio, Spread, Summary } from "./summary.ts";

/** Everything one run of the benchmark produced. */
export interface BenchReport {
  /** When the run started, ISO 8601. */
  startedAt: string;
  /** How long it took, in seconds. */
  elapsedSeconds: number;
  /** The machine and the versions of the programs measured. */
  environment: Record<string, string>;
  /** The options the run used. */
  options: Omit<BenchOptions, "help" | "outDir">;
  /** Targets that were asked for but could not run, and why. */
  skipped: { target: Target; reason: string }[];
  /** Measurements that failed, and why. */
  failures: { target: Target; workload: string; error: string }[];
  /** Every keep-alive run. */
  keepAlive: KeepAliveResult[];
  /** Every idle-memory run. */
  idle: IdleResult[];
  /** Medians, ratios and acceptance. */
  summary: Summary;
}

/**
 * Renders the report as Markdown: the setup, one table per workload, the ratios, and the
 * acceptance targets. With several rounds each figure is `median (min–max)`.
 *
 * @param report The report.
 * @returns The Markdown text.
 */
export function renderMarkdown(report: BenchReport): string {
  const { options, summary } = report;
  const lines: string[] = [
    "# minginx benchmark",
    "",
    `${report.startedAt}, ${
      Object.entries(report.environment).map(([k, v]) => `${k} ${v}`).join(", ")
    }.`,
    "",
    "Proxies pinned to CPU 0; wrk (one thread) and the HTTP responder pinned to CPU 1. " +
    `${options.rounds} round${options.rounds === 1 ? "" : "s"}` +
    (options.rounds > 1 ? "; figures are median (min–max)." : "."),
    "",
  ];
  for (const { target, reason } of report.skipped) lines.push(`- **${target} skipped**: ${reason}`);
  for (const { target, workload, error } of report.failures) {
    lines.push(`- **${target} failed** (${workload}): ${error.split("\n")[0]}`);
  }
  if (report.skipped.length + report.failures.length > 0) lines.push("");

  const keepAliveTargets = TARGETS.filter((t) => summary.keepAlive[t]);
  if (keepAliveTargets.length > 0) {
    lines.push(
      `## Keep-alive HTTP: wrk -t1 -c${options.connections} -d${options.durationSeconds}s ` +
        `after a ${options.warmupSeconds}s warm-up, 13-byte responses`,
      "",
      "Proxy CPU is user + system time of the proxy's processes (/proc/PID/stat) over the " +
        "measured run, divided by the requests wrk completed. Softirq is interrupt time on the " +
        "proxy's core per request: the kernel moving loopback packets, charged to no process.",
      "",
      "| target | requests/s | p50 latency | p99 latency | proxy CPU per request | " +
        "of it in the kernel | proxy core busy | softirq per request |",
      "|---|--:|--:|--:|--:|--:|--:|--:|",
    );
    const notes: string[] = [];
    for (const target of keepAliveTargets) {
      const s = summary.keepAlive[target]!;
      const us = (spread: Spread | null) => spread ? `${fmt(spread, 2)} µs` : "–";
      lines.push(
        `| ${target} | ${fmt(s.requestsPerSecond, 0)} | ${fmt(s.p50Us, 0)} µs | ` +
          `${fmt(s.p99Us, 0)} µs | ${us(s.cpuUsPerRequest)} | ${us(s.systemUsPerRequest)} | ` +
          `${s.proxyCoreShare ? `${fmt(s.proxyCoreShare, 0, 100)} %` : "–"} | ` +
          `${us(s.irqUsPerRequest)} |` + (s.errors > 0 ? ` **${s.errors} errors**` : ""),
      );
      if (s.noisyRuns > 0) {
        notes.push(
          `- ${target}: ${s.noisyRuns} of ${s.runs} runs had other processes or the hypervisor ` +
            `take over ${NOISE_CORES * 100}% of a core; ` +
            (s.noisyRuns === s.runs ? "**all were used: treat with care**" : "left out"),
        );
      }
    }
    lines.push("", ...notes, ...(notes.length > 0 ? [""] : []));
  }

  const idleTargets = TARGETS.filter((t) => summary.idle[t]);
  if (idleTargets.length > 0) {
    lines.push(
      `## Idle memory: ${options.idleConnections} open proxied connections`,
      "",
      "Each connection carried one 6-byte message each way. RSS is VmRSS summed over the " +
        "proxy's processes, read after a " + `${options.settleMs} ms settle.`,
      "",
      "| proxy | RSS before | RSS after | KiB per connection |",
      "|---|--:|--:|--:|",
    );
    for (const target of idleTargets) {
      const runs = report.idle.filter((r) => r.target === target);
      const last = runs.at(-1)!;
      lines.push(
        `| ${target} | ${last.rssBeforeKiB} KiB | ${last.rssAfterKiB} KiB | ` +
          `${fmt(summary.idle[target]!, 1)} |`,
      );
    }
    if (options.rounds > 1) lines.push("", "RSS columns are from the last round.");
    lines.push("");
  }

  const cpu = (t: Target) => summary.keepAlive[t]?.cpuUsPerRequest ?? null;
  const kib = (t: Target) => summary.idle[t] ?? null;
  lines.push(
    "## minginx against the others",
    "",
    "| figure | minginx | nginx | HAProxy | minginx / nginx | minginx / HAProxy |",
    "|---|--:|--:|--:|--:|--:|",
    `| CPU µs per keep-alive request | ${cell(cpu("minginx"), 2)} | ${cell(cpu("nginx"), 2)} | ` +
      `${cell(cpu("haproxy"), 2)} | ${times(summary.ratios.cpuPerRequest.nginx)} | ` +
      `${times(summary.ratios.cpuPerRequest.haproxy)} |`,
    `| KiB per idle connection | ${cell(kib("minginx"), 1)} | ${cell(kib("nginx"), 1)} | ` +
      `${cell(kib("haproxy"), 1)} | ${times(summary.ratios.kibPerIdleConnection.nginx)} | ` +
      `${times(summary.ratios.kibPerIdleConnection.haproxy)} |`,
    ...(options.rounds > 1
      ? [
        "",
        "Ratios are of the medians; in brackets, the range of the ratios within each round.",
      ]
      : []),
    "",
    "## Acceptance (issue 2)",
    "",
    "| target | limit | measured | verdict |",
    "|---|---|--:|---|",
  );
  for (const a of summary.acceptance) {
    const verdict = a.pass === null ? "not measured" : a.pass ? "pass" : "**FAIL**";
    const value = a.value === null ? "–" : a.value.toFixed(2);
    const doubt = !a.borderline ? "" : `, borderline: runs vary by about ${a.tolerance * 100}% ` +
      "here, too much to be sure this close to the limit; repeat with more --rounds";
    lines.push(`| ${a.what} | ${a.limit} | ${value} | ${verdict}${doubt} |`);
  }
  lines.push("");
  return lines.join("\n");
}

function fmt(s: Spread, digits: number, scale = 1): string {
  const n = (v: number) =>
    (v * scale).toLocaleString("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  return s.n > 1 ? `${n(s.median)} (${n(s.min)}–${n(s.max)})` : n(s.median);
}

function cell(s: Spread | null, digits: number): string {
  return s ? fmt(s, digits) : "–";
}

function times(r: Ratio | null): string {
  if (r === null) return "–";
  const range = r.perRound && r.perRound.n > 1
    ? ` (${r.perRound.min.toFixed(2)}–${r.perRound.max.toFixed(2)})`
    : "";
  return `${r.ofMedians.toFixed(2)}x${range}`;
}

/**
 * Writes `latest.md` and `latest.json` into a directory, making it if needed.
 *
 * @param dir The directory, normally `bench/results`.
 * @param report The report.
 * @returns The paths written.
 */
export async function writeReport(dir: string, report: BenchReport): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const md = `${dir}/latest.md`;
  const json = `${dir}/latest.json`;
  await Deno.writeTextFile(md, renderMarkdown(report));
  await Deno.writeTextFile(json, JSON.stringify(report, null, 2) + "\n");
  return [md, json];
}
