/**
 * The report's section on the layer stack: what minginx's CPU and memory cost with five layers
 * that never touch bytes, as a ratio against the bare proxy measured in the same run.
 *
 * @module
 */

import { type Figure, LAYER_STACK_FIGURES } from "./figures.ts";
import { fmt, times } from "./format.ts";
import { LAYER_ARGS } from "./proxies.ts";
import { label } from "./report_comparison.ts";
import type { BenchReport } from "./report.ts";

/**
 * minginx-layers against bare minginx: CPU per keep-alive request, per new connection and per
 * GiB of bulk, and memory per idle connection, each with its ratio.
 *
 * @param report The report.
 * @returns Markdown lines; none if minginx-layers measured nothing.
 */
export function layerStackSection({ options, summary }: BenchReport): string[] {
  const rows = LAYER_STACK_FIGURES.map((id) => summary.figures.find((f) => f.id === id))
    .filter((f): f is Figure => f !== undefined);
  if (!rows.some((f) => f.byTarget["minginx-layers"])) return [];
  const value = (f: Figure, t: "minginx" | "minginx-layers") => {
    const v = f.byTarget[t]?.value;
    return v ? fmt(v, f.digits) : "–";
  };
  return [
    "## The layer stack: minginx-layers against bare minginx",
    "",
    `minginx-layers is the same command line with \`${LAYER_ARGS.join(" ")}\`: five layers ` +
    "(an IP filter, a rate limit, a per-IP and a global connection limit, a fault that never " +
    "fires) that let every connection through and never touch its bytes. The two run back to " +
    "back in every round, swapping places every other round. The ratio is what the stack " +
    "costs: 1.00x is nothing.",
    "",
    "| figure | minginx | minginx-layers | layers / bare |",
    "|---|--:|--:|--:|",
    ...rows.map((f) =>
      `| ${label(f)} | ${value(f, "minginx")} | ${value(f, "minginx-layers")} | ` +
      `${times(f.layerStack)} |`
    ),
    ...(options.rounds > 1
      ? ["", "Ratios are of the medians; in brackets, the range of the ratios within each round."]
      : []),
    "",
  ];
}
