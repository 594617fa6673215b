/**
 * Every headline figure of every workload, for every target, with its ratio to nginx's and to a
 * direct connection's where that means something: rates and latencies against both (how much
 * of a direct connection's rate a proxy keeps, how it compares with nginx), costs (CPU time,
 * memory) against nginx only, since a direct connection has no proxy to cost anything; and
 * minginx with layers and with metrics against bare minginx, for what each costs.
 *
 * @module
 */

import type { BulkResult } from "./bulk_throughput.ts";
import type { ConnectResult } from "./connect_rate.ts";
import type { KeepAliveResult } from "./http_keepalive.ts";
import type { IdleResult } from "./idle_memory.ts";
import type { Direction } from "./iperf3.ts";
import { type Target, TARGETS } from "./proxies.ts";
import { compare, type Ratio, type Run, type Spread, spreadOf } from "./stats.ts";

/** Every run of every workload. */
export interface Measurements {
  /** Keep-alive HTTP runs. */
  keepAlive: KeepAliveResult[];
  /** New-connection runs. */
  connect: ConnectResult[];
  /** Bulk runs, one per direction. */
  bulk: BulkResult[];
  /** Idle-memory runs. */
  idle: IdleResult[];
}

/**
 * What a figure measures, which decides what it is compared with: a `rate` (more is better) and
 * a `latency` (less is better) against nginx and direct, a `cost` (less is better) against nginx.
 */
export type FigureKind = "rate" | "latency" | "cost";

/** One figure of one target. */
export interface TargetFigure {
  /** The median and range over the rounds. */
  value: Spread;
  /** Over nginx's; `null` for nginx itself, for direct, or if nginx has no figure. */
  vsNginx: Ratio | null;
  /** Over direct's, for rates and latencies of proxies; `null` otherwise. */
  vsDirect: Ratio | null;
}

/** One figure across the targets. */
export interface Figure {
  /** A stable name for the JSON, e.g. `cpuPerRequest`. */
  id: string;
  /** The figure in words, for the report. */
  label: string;
  /** Its unit, for the report. */
  unit: string;
  /** Decimal places to show. */
  digits: number;
  /** Rate, latency or cost. */
  kind: FigureKind;
  /** Each target that has the figure. */
  byTarget: Partial<Record<Target, TargetFigure>>;
  /** minginx over nginx and over HAProxy; `null` where either has no figure. */
  minginx: { nginx: Ratio | null; haproxy: Ratio | null };
  /** minginx-layers over bare minginx; `null` where either has no figure. */
  layerStack: Ratio | null;
  /** minginx-metrics over bare minginx; `null` where either has no figure. */
  metrics: Ratio | null;
}

/**
 * The figures the variants of minginx (the layer stack, metrics) are reported for, as the
 * variant over bare minginx: the proxy's CPU per request, per connection and per GiB, and its
 * memory per idle connection.
 */
export const AGAINST_BARE_FIGURES = [
  "cpuPerRequest",
  "cpuPerConnection",
  "cpuPerGiBUp",
  "cpuPerGiBDown",
  "cpuPerGiBBoth",
  "kibPerIdleConnection",
] as const;

type Meta = Pick<Figure, "id" | "label" | "unit" | "digits" | "kind">;

function figure<R extends Run>(meta: Meta, runs: R[], value: (run: R) => number | null): Figure {
  const byTarget: Partial<Record<Target, TargetFigure>> = {};
  for (const target of TARGETS) {
    const spread = spreadOf(runs, target, value);
    if (spread === null) continue;
    const proxy = target !== "direct";
    byTarget[target] = {
      value: spread,
      vsNginx: proxy && target !== "nginx" ? compare(runs, value, target, "nginx") : null,
      vsDirect: proxy && meta.kind !== "cost" ? compare(runs, value, target, "direct") : null,
    };
  }
  return {
    ...meta,
    byTarget,
    minginx: {
      nginx: compare(runs, value, "minginx", "nginx"),
      haproxy: compare(runs, value, "minginx", "haproxy"),
    },
    layerStack: compare(runs, value, "minginx-layers", "minginx"),
    metrics: compare(runs, value, "minginx-metrics", "minginx"),
  };
}

/**
 * Works out every figure from the runs. A figure no run measured is left out.
 *
 * @param m Every run of every workload.
 * @returns The figures, in the order of the report.
 */
export function computeFigures(m: Measurements): Figure[] {
  const ka = of(m.keepAlive);
  const cn = of(m.connect);
  const bulk = of(m.bulk);
  const idle = of(m.idle.map((r) => ({ ...r, noisy: false })));
  // A bulk figure is read from the run of one direction.
  const only = (direction: Direction, value: (r: BulkResult) => number | null) => (r: BulkResult) =>
    r.direction === direction ? value(r) : null;
  const up = (direction: Direction) => only(direction, (r) => r.upGbps);
  const down = (direction: Direction) => only(direction, (r) => r.downGbps);
  const figures = [
    ka("requestsPerSecond", "keep-alive requests/s", "", 0, "rate", (r) => r.requestsPerSecond),
    ka("p50Latency", "keep-alive p50 latency", "µs", 0, "latency", (r) => r.p50Us),
    ka("p99Latency", "keep-alive p99 latency", "µs", 0, "latency", (r) => r.p99Us),
    ka("cpuPerRequest", "CPU per keep-alive request", "µs", 2, "cost", (r) => r.cpuUsPerRequest),
    cn("connectionsPerSecond", "new connections/s", "", 0, "rate", (r) => r.connectionsPerSecond),
    cn("cpuPerConnection", "CPU per new connection", "µs", 1, "cost", (r) => r.cpuUsPerConnection),
    bulk("bulkUpGbps", "bulk client → upstream", GBPS, 2, "rate", up("up")),
    bulk("bulkDownGbps", "bulk upstream → client", GBPS, 2, "rate", down("down")),
    bulk("bulkBothUpGbps", `${BOTH}: client → upstream`, GBPS, 2, "rate", up("both")),
    bulk("bulkBothDownGbps", `${BOTH}: upstream → client`, GBPS, 2, "rate", down("both")),
    bulk("cpuPerGiBUp", `${PER_GIB}, client → upstream`, "s", 3, "cost", only("up", perGiB)),
    bulk("cpuPerGiBDown", `${PER_GIB}, upstream → client`, "s", 3, "cost", only("down", perGiB)),
    bulk("cpuPerGiBBoth", `${PER_GIB}, both ways`, "s", 3, "cost", only("both", perGiB)),
    idle("kibPerIdleConnection", "memory per idle connection", "KiB", 1, "cost", kibPerConnection),
  ];
  return figures.filter((f) => Object.keys(f.byTarget).length > 0);
}

const GBPS = "Gbit/s";
const BOTH = "bulk both ways";
const PER_GIB = "CPU per GiB";

function perGiB(r: BulkResult): number | null {
  return r.cpuSecondsPerGiB;
}

function kibPerConnection(r: IdleResult): number {
  return r.kibPerConnection;
}

// Makes figures out of one workload's runs: of(runs)(id, label, unit, digits, kind, value).
function of<R extends Run>(runs: R[]) {
  return (
    id: string,
    label: string,
    unit: string,
    digits: number,
    kind: FigureKind,
    value: (run: R) => number | null,
  ): Figure => figure({ id, label, unit, digits, kind }, runs, value);
}

/**
 * Finds a figure by its id.
 *
 * @param figures The figures.
 * @param id E.g. `cpuPerRequest`.
 * @returns The figure, or `undefined` if no run measured it.
 */
export function figureById(figures: Figure[], id: string): Figure | undefined {
  return figures.find((f) => f.id === id);
}
