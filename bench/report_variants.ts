/**
 * The report's sections on minginx's variants, each against bare minginx measured in the same
 * run: what CPU and memory cost with five layers that never touch bytes, and with metrics on.
 *
 * @module
 */

import { AGAINST_BARE_FIGURES, type Figure } from "./figures.ts";
import { fmt, pairedTimes } from "./format.ts";
import { ADMIN_FLAG, LAYER_ARGS } from "./minginx_proxy.ts";
import { HOST } from "./net.ts";
import { label } from "./report_comparison.ts";
import type { BenchReport } from "./report.ts";
import { SCRAPE_INTERVAL_MS } from "./scraper.ts";

/**
 * minginx-layers against bare minginx: CPU per keep-alive request, per new connection and per
 * GiB of bulk, and memory per idle connection, each with its ratio.
 *
 * @param report The report.
 * @returns Markdown lines; none if minginx-layers measured nothing.
 */
export function layerStackSection(report: BenchReport): string[] {
  return againstBare(report, {
    variant: "minginx-layers",
    title: "The layer stack: minginx-layers against bare minginx",
    intro: `minginx-layers is the same command line with \`${LAYER_ARGS.join(" ")}\`: five ` +
      "layers (an IP filter, a rate limit, a per-IP and a global connection limit, a fault " +
      "that never fires) that let every connection through and never touch its bytes.",
    column: "layers / bare",
    ratio: (f) => f.layerStack,
    nothing: "the stack",
  });
}

/**
 * minginx-metrics against bare minginx: the same figures as {@linkcode layerStackSection}.
 *
 * @param report The report.
 * @returns Markdown lines; none if minginx-metrics measured nothing.
 */
export function metricsSection(report: BenchReport): string[] {
  return againstBare(report, {
    variant: "minginx-metrics",
    title: "Metrics: minginx-metrics against bare minginx",
    intro: `minginx-metrics is the same command line with \`${ADMIN_FLAG} ${HOST}:PORT\`, ` +
      "which turns counting on (per connection and per upstream connect, never per byte), and " +
      `the benchmark GETs its \`/metrics\` every ${SCRAPE_INTERVAL_MS / 1000} s while it runs ` +
      "(Prometheus scrapes every 15 to 60 s); serving the scrapes is part of its CPU time.",
    column: "metrics / bare",
    ratio: (f) => f.metrics,
    nothing: "having metrics on",
  });
}

interface Variant {
  variant: "minginx-layers" | "minginx-metrics";
  title: string;
  intro: string;
  column: string;
  ratio: (f: Figure) => Figure["metrics"];
  nothing: string;
}

function againstBare({ options, summary }: BenchReport, v: Variant): string[] {
  const rows = AGAINST_BARE_FIGURES.map((id) => summary.figures.find((f) => f.id === id))
    .filter((f): f is Figure => f !== undefined);
  if (!rows.some((f) => f.byTarget[v.variant])) return [];
  const value = (f: Figure, t: "minginx" | Variant["variant"]) => {
    const s = f.byTarget[t]?.value;
    return s ? fmt(s, f.digits) : "–";
  };
  return [
    `## ${v.title}`,
    "",
    `${v.intro} The two run back to back in every round, swapping places every other round. ` +
    `The ratio is what ${v.nothing} costs: 1.00x is nothing.`,
    "",
    `| figure | minginx | ${v.variant} | ${v.column} |`,
    "|---|--:|--:|--:|",
    ...rows.map((f) =>
      `| ${label(f)} | ${value(f, "minginx")} | ${value(f, v.variant)} | ${
        pairedTimes(v.ratio(f))
      } |`
    ),
    ...(options.rounds > 1
      ? [
        "",
        "Each ratio is the median of the ratios within each round, where the two ran back to " +
        "back (the machine's drift between rounds cancels out); in brackets, their range.",
      ]
      : []),
    "",
  ];
}
