/**
 * The targets of the performance issue, of the middleware issue for what the layer stack may
 * cost, and of the metrics issue for what counting may cost, and how a run measures up to them.
 * The report states them; it does not fail the run on them.
 *
 * @module
 */

import { type Figure, figureById } from "./figures.ts";
import { paired, type Ratio, type Spread } from "./stats.ts";

/** minginx's CPU per keep-alive request may be at most this many times nginx's. */
export const MAX_CPU_PER_REQUEST_VS_NGINX = 1.0;
/** minginx's CPU per new connection may be at most this many times nginx's. */
export const MAX_CPU_PER_CONNECTION_VS_NGINX = 1.0;
/** minginx's CPU per GiB of bulk transfer, in each direction, at most this many times nginx's. */
export const MAX_CPU_PER_GIB_VS_NGINX = 0.5;
/** minginx may use at most this many KiB per idle proxied connection. */
export const MAX_IDLE_KIB = 8;
/**
 * minginx's CPU per keep-alive request with the five layers of `minginx-layers` may be at most
 * this many times the bare proxy's, as the median of the ratios within each round of one run.
 */
export const MAX_LAYER_CPU_VS_BARE = 1.05;
/**
 * minginx's CPU per keep-alive request with the admin API on (`minginx-metrics`: metrics counted,
 * `/metrics` scraped once a second) may be at most this many times the bare proxy's, as the median
 * of the ratios within each round of one run (the two run back to back in a round).
 */
export const MAX_METRICS_CPU_VS_BARE = 1.05;
/** minginx's p99 latency may be at most this many times nginx's... */
export const MAX_P99_VS_NGINX = 1.2;
/** ...with this many keep-alive connections. */
export const P99_CONNECTIONS = 50;

/**
 * How far a single run of a figure moves from run to run, as a share of it: about what runs of
 * several rounds on the project's 2-core machines showed.
 */
export const TOLERANCE = {
  /** CPU per keep-alive request. */
  cpu: 0.1,
  /**
   * minginx-layers' CPU per keep-alive request over bare minginx's in the same round: the two
   * run back to back, so the machine's drift mostly cancels out (5 rounds on a 2-core VM gave
   * per-round ratios from 0.97 to 1.05).
   */
  layerCpu: 0.05,
  /** minginx-metrics' over bare minginx's, measured the same way as `layerCpu`. */
  metricsCpu: 0.05,
  /** CPU per new connection: the kernel's share of it varies more. */
  connectCpu: 0.15,
  /** CPU per GiB of bulk transfer. */
  bulkCpu: 0.15,
  /** KiB per idle connection. */
  memory: 0.03,
  /** p99 latency: one garbage collection more or less moves it a lot. */
  latency: 0.3,
} as const;

/** One target and how the run compares with it. */
export interface Acceptance {
  /** What is measured, in words. */
  what: string;
  /** The target, in words, e.g. `≤ 1.0x nginx`. */
  limit: string;
  /** The measured value, or `null` if it could not be measured. */
  value: number | null;
  /** The value in words, e.g. `1.41x` or `30.6 KiB`. */
  measured: string;
  /** Whether the value is within the target; `null` if not measured or not comparable. */
  pass: boolean | null;
  /**
   * Whether the verdict could go the other way on another run: the per-round values straddle
   * the target, or the value is closer to it than `tolerance` divided by the square root of the
   * number of rounds.
   */
  borderline: boolean;
  /** How far a single run of this figure moves from run to run, as a share of it. */
  tolerance: number;
  /** Why the value is not judged, if it is not. */
  note?: string;
}

/**
 * Compares the figures of a run with the targets of the performance issue, the layer stack's and
 * metrics'.
 *
 * @param figures Every figure of the run.
 * @param connections The keep-alive connections the run used, for the latency target.
 * @returns One line per target, measured or not.
 */
export function judge(figures: Figure[], connections: number): Acceptance[] {
  const vsNginx = (id: string) => figureById(figures, id)?.minginx.nginx ?? null;
  const againstNginx = (what: string, id: string, max: number, tolerance: number) =>
    ratioCheck(what, vsNginx(id), `≤ ${max.toFixed(1)}x nginx`, max, tolerance);
  const idle = figureById(figures, "kibPerIdleConnection")?.byTarget.minginx?.value ?? null;
  const latency = againstNginx(
    `minginx p99 latency at ${P99_CONNECTIONS} keep-alive connections / nginx's`,
    "p99Latency",
    MAX_P99_VS_NGINX,
    TOLERANCE.latency,
  );
  if (connections !== P99_CONNECTIONS && latency.value !== null) {
    latency.pass = null;
    latency.borderline = false;
    latency.note = `measured with --connections ${connections}, not judged`;
  }
  return [
    againstNginx(
      "minginx CPU per keep-alive request / nginx's",
      "cpuPerRequest",
      MAX_CPU_PER_REQUEST_VS_NGINX,
      TOLERANCE.cpu,
    ),
    againstNginx(
      "minginx CPU per new connection / nginx's",
      "cpuPerConnection",
      MAX_CPU_PER_CONNECTION_VS_NGINX,
      TOLERANCE.connectCpu,
    ),
    ...(["Up", "Down", "Both"] as const).map((d) =>
      againstNginx(
        `minginx CPU per GiB, bulk ${
          { Up: "client → upstream", Down: "upstream → client", Both: "both ways" }[d]
        } / nginx's`,
        `cpuPerGiB${d}`,
        MAX_CPU_PER_GIB_VS_NGINX,
        TOLERANCE.bulkCpu,
      )
    ),
    check(
      "minginx memory per idle proxied connection",
      `≤ ${MAX_IDLE_KIB} KiB`,
      idle?.median ?? null,
      idle,
      MAX_IDLE_KIB,
      TOLERANCE.memory,
      (v) => `${v.toFixed(1)} KiB`,
    ),
    latency,
    ratioCheck(
      `Layer stack: CPU per request with 5 layers within ${
        Math.round((MAX_LAYER_CPU_VS_BARE - 1) * 100)
      }% of the bare proxy`,
      figureById(figures, "cpuPerRequest")?.layerStack ?? null,
      `≤ ${MAX_LAYER_CPU_VS_BARE.toFixed(2)}x bare minginx`,
      MAX_LAYER_CPU_VS_BARE,
      TOLERANCE.layerCpu,
      paired,
    ),
    ratioCheck(
      `Metrics: CPU per request with the admin API on within ${
        Math.round((MAX_METRICS_CPU_VS_BARE - 1) * 100)
      }% of bare minginx`,
      figureById(figures, "cpuPerRequest")?.metrics ?? null,
      `≤ ${MAX_METRICS_CPU_VS_BARE.toFixed(2)}x bare minginx`,
      MAX_METRICS_CPU_VS_BARE,
      TOLERANCE.metricsCpu,
      paired,
    ),
  ];
}

function ratioCheck(
  what: string,
  ratio: Ratio | null,
  limit: string,
  max: number,
  tolerance: number,
  value: (r: Ratio) => number = (r) => r.ofMedians,
) {
  return check(
    what,
    limit,
    ratio ? value(ratio) : null,
    ratio?.perRound ?? null,
    max,
    tolerance,
    (v) => `${v.toFixed(2)}x`,
  );
}

function check(
  what: string,
  limit: string,
  value: number | null,
  runs: Spread | null,
  max: number,
  tolerance: number,
  format: (value: number) => string,
): Acceptance {
  if (value === null) {
    return { what, limit, value, measured: "–", pass: null, borderline: false, tolerance };
  }
  // Rounds on both sides of the target, or a median closer to it than the spread of a median
  // of that many runs.
  const n = runs?.n ?? 1;
  const borderline = (runs !== null && runs.min <= max && runs.max > max) ||
    Math.abs(value / max - 1) < tolerance / Math.sqrt(n);
  return { what, limit, value, measured: format(value), pass: value <= max, borderline, tolerance };
}
