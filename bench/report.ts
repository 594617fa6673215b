/**
 * The report: one Markdown page a person reads, and one JSON document with every raw run, both
 * written to `bench/results/`.
 *
 * @module
 */

import type { BulkResult } from "./bulk_throughput.ts";
import type { ConnectResult } from "./connect_rate.ts";
import type { KeepAliveResult } from "./http_keepalive.ts";
import type { IdleResult } from "./idle_memory.ts";
import type { BenchOptions, Workload } from "./options.ts";
import type { Target } from "./proxies.ts";
import { figuresSection, minginxSection, targetsSection } from "./report_comparison.ts";
import { httpModeSection, type HttpModeSummary } from "./report_http_mode.ts";
import { tlsSection, type TlsSummary } from "./report_tls.ts";
import { layerStackSection, metricsSection } from "./report_variants.ts";
import { bulkSection, connectSection, idleSection, keepAliveSection } from "./report_workloads.ts";
import type { Failure } from "./rounds.ts";
import type { Summary } from "./summary.ts";
import type { TlsResult } from "./tls.ts";

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
  /** Workloads that were asked for but could not run, and why. */
  skippedWorkloads: { workload: Workload; reason: string }[];
  /** Measurements that failed, and why. */
  failures: Failure[];
  /** Every keep-alive run. */
  keepAlive: KeepAliveResult[];
  /** Every new-connection run. */
  connect: ConnectResult[];
  /** Every bulk run, one per direction. */
  bulk: BulkResult[];
  /** Every idle-memory run. */
  idle: IdleResult[];
  /** Medians, ratios and the targets of the performance issue. */
  summary: Summary;
  /** Every TLS run (minginx and nginx terminating TLS), and their medians and ratios. */
  tls: { runs: TlsResult[]; summary: TlsSummary };
  /**
   * Every http-mode run (minginx with `--mode http`, nginx's HTTP proxy, direct), and their
   * medians and ratios.
   */
  httpMode: { runs: KeepAliveResult[]; summary: HttpModeSummary };
}

/**
 * Renders the report as Markdown: the setup, one table per workload (tls's and http-mode's
 * with minginx over nginx), every figure against nginx and direct, minginx against the others,
 * the costs of the layer stack and of metrics, and the targets. With several rounds each figure is `median (min–max)`.
 *
 * @param report The report.
 * @returns The Markdown text.
 */
export function renderMarkdown(report: BenchReport): string {
  const { options } = report;
  const lines: string[] = [
    `# minginx benchmark${options.quick ? " (--quick smoke test)" : ""}`,
    "",
    `${report.startedAt}, ${
      Object.entries(report.environment).map(([k, v]) => `${k} ${v}`).join(", ")
    }; ${report.elapsedSeconds} s in all.`,
    "",
    "Proxies pinned to CPU 0; the load generators (wrk with one thread, iperf3) and the " +
    "upstream servers pinned to CPU 1. " +
    `${options.rounds} round${options.rounds === 1 ? "" : "s"}` +
    (options.rounds > 1 ? "; figures are median (min–max)." : "."),
    "",
  ];
  for (const { target, reason } of report.skipped) lines.push(`- **${target} skipped**: ${reason}`);
  for (const { workload, reason } of report.skippedWorkloads) {
    lines.push(`- **workload ${workload} skipped**: ${reason}`);
  }
  for (const { target, workload, error } of report.failures) {
    lines.push(`- **${target} failed** (${workload}): ${error.split("\n")[0]}`);
  }
  if (report.skipped.length + report.skippedWorkloads.length + report.failures.length > 0) {
    lines.push("");
  }
  lines.push(
    ...keepAliveSection(report),
    ...connectSection(report),
    ...tlsSection(report),
    ...httpModeSection(report),
    ...bulkSection(report),
    ...idleSection(report),
    ...figuresSection(report),
    ...minginxSection(report),
    ...layerStackSection(report),
    ...metricsSection(report),
    ...targetsSection(report),
  );
  return lines.join("\n");
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
