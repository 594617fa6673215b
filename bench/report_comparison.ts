/**
 * The report's comparisons: every figure of every target against nginx and direct, minginx
 * against the other proxies, and the targets of the performance issue.
 *
 * @module
 */

import {
  MAX_CPU_PER_CONNECTION_VS_NGINX,
  MAX_CPU_PER_GIB_VS_NGINX,
  MAX_CPU_PER_REQUEST_VS_NGINX,
  MAX_IDLE_KIB,
  MAX_LAYER_CPU_VS_BARE,
  MAX_METRICS_CPU_VS_BARE,
  MAX_P99_VS_NGINX,
  P99_CONNECTIONS,
} from "./acceptance.ts";
import type { Figure } from "./figures.ts";
import { fmt, times } from "./format.ts";
import { TARGETS } from "./proxies.ts";
import type { BenchReport } from "./report.ts";

// The figures whose minginx-over-others ratio the performance issue sets targets for.
const TARGETED = [
  "cpuPerRequest",
  "p99Latency",
  "cpuPerConnection",
  "cpuPerGiBUp",
  "cpuPerGiBDown",
  "cpuPerGiBBoth",
  "kibPerIdleConnection",
];

/**
 * Every figure of every target, with its ratios to nginx and direct.
 *
 * @param report The report.
 * @returns Markdown lines; none if nothing was measured.
 */
export function figuresSection({ summary }: BenchReport): string[] {
  const { figures } = summary;
  if (figures.length === 0) return [];
  const targets = TARGETS.filter((t) => figures.some((f) => f.byTarget[t]));
  const lines = [
    "## Every figure against nginx and direct",
    "",
    "Rates and latencies are compared with nginx's and with a direct connection's (0.50x " +
    "direct: half the rate without a proxy); costs (CPU, memory) with nginx's only, since a " +
    "direct connection has no proxy to pay for. Ratios are of the medians.",
    "",
    `| figure | ${targets.join(" | ")} |`,
    `|---|${targets.map(() => "--:").join("|")}|`,
  ];
  for (const f of figures) {
    const cells = targets.map((t) => {
      const v = f.byTarget[t];
      if (!v) return "–";
      const ratios = [
        v.vsNginx && `${v.vsNginx.ofMedians.toFixed(2)}x nginx`,
        v.vsDirect && `${v.vsDirect.ofMedians.toFixed(2)}x direct`,
      ].filter(Boolean);
      return fmt(v.value, f.digits) + (ratios.length > 0 ? ` · ${ratios.join(" · ")}` : "");
    });
    lines.push(`| ${label(f)} | ${cells.join(" | ")} |`);
  }
  return [...lines, ""];
}

/**
 * minginx's costs and latency over nginx's and HAProxy's, with the range within rounds.
 *
 * @param report The report.
 * @returns Markdown lines.
 */
export function minginxSection({ options, summary }: BenchReport): string[] {
  const rows = TARGETED.map((id) => summary.figures.find((f) => f.id === id))
    .filter((f): f is Figure => f !== undefined);
  const value = (f: Figure, t: "minginx" | "nginx" | "haproxy") => {
    const v = f.byTarget[t]?.value;
    return v ? fmt(v, f.digits) : "–";
  };
  return [
    "## minginx against the others",
    "",
    "| figure | minginx | nginx | HAProxy | minginx / nginx | minginx / HAProxy |",
    "|---|--:|--:|--:|--:|--:|",
    ...rows.map((f) =>
      `| ${label(f)} | ${value(f, "minginx")} | ${value(f, "nginx")} | ${value(f, "haproxy")} | ` +
      `${times(f.minginx.nginx)} | ${times(f.minginx.haproxy)} |`
    ),
    ...(rows.length === 0 ? ["| nothing measured | – | – | – | – | – |"] : []),
    ...(options.rounds > 1
      ? ["", "Ratios are of the medians; in brackets, the range of the ratios within each round."]
      : []),
    "",
  ];
}

/**
 * The targets of the performance issue, the layer stack's and metrics', measured against them;
 * for `--quick`, a line saying they are not judged.
 *
 * @param report The report.
 * @returns Markdown lines.
 */
export function targetsSection({ options, summary }: BenchReport): string[] {
  const lines = ["## Targets of the performance issue, the layer stack and metrics", ""];
  if (options.quick) {
    return [
      ...lines,
      "Not judged: `--quick` is a smoke test, too short to compare with the targets " +
      `(CPU per keep-alive request ≤ ${MAX_CPU_PER_REQUEST_VS_NGINX.toFixed(1)}x nginx, per ` +
      `new connection ≤ ${MAX_CPU_PER_CONNECTION_VS_NGINX.toFixed(1)}x, per GiB of bulk ` +
      `≤ ${MAX_CPU_PER_GIB_VS_NGINX}x, idle memory ≤ ${MAX_IDLE_KIB} KiB per connection, p99 ` +
      `latency at ${P99_CONNECTIONS} connections ≤ ${MAX_P99_VS_NGINX}x nginx; CPU per ` +
      `request with 5 layers ≤ ${MAX_LAYER_CPU_VS_BARE}x bare minginx, with the admin API ` +
      `on ≤ ${MAX_METRICS_CPU_VS_BARE}x).`,
      "",
    ];
  }
  lines.push(
    "Stated, not enforced: the run's exit code does not depend on them.",
    "",
    "| target | limit | measured | verdict |",
    "|---|---|--:|---|",
  );
  for (const a of summary.acceptance) {
    const verdict = a.note ?? (a.pass === null ? "not measured" : a.pass ? "met" : "**not met**");
    const doubt = !a.borderline ? "" : `, borderline: runs vary by about ${a.tolerance * 100}% ` +
      "here, too much to be sure this close to the target; repeat with more --rounds";
    lines.push(`| ${a.what} | ${a.limit} | ${a.measured} | ${verdict}${doubt} |`);
  }
  return [...lines, ""];
}

/**
 * A figure's name in a table, with its unit.
 *
 * @param f The figure.
 * @returns E.g. `CPU per keep-alive request (µs)`.
 */
export function label(f: Figure): string {
  return f.unit ? `${f.label} (${f.unit})` : f.label;
}
