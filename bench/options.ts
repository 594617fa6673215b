/**
 * The benchmark's command line: flags, defaults and the help text.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Target, TARGETS } from "./proxies.ts";

/** The workloads the benchmark can run. */
export const WORKLOADS = ["http", "idle"] as const;
/** One of {@linkcode WORKLOADS}. */
export type Workload = typeof WORKLOADS[number];

/** Everything the command line says, with defaults filled in. */
export interface BenchOptions {
  /** The measured wrk run per target, in whole seconds. */
  durationSeconds: number;
  /** The warm-up wrk run per target, in whole seconds. */
  warmupSeconds: number;
  /** wrk's keep-alive connections. */
  connections: number;
  /** Connections held open in the idle-memory workload. */
  idleConnections: number;
  /** Wait before each memory reading, in milliseconds. */
  settleMs: number;
  /** How many times each measurement is repeated, targets taking turns. */
  rounds: number;
  /** The targets to run, in order. */
  targets: Target[];
  /** The workloads to run, in order. */
  workloads: Workload[];
  /** Where latest.md and latest.json go. */
  outDir: string;
  /** `--help` was given. */
  help: boolean;
}

/** The help text. */
export const HELP = `Usage: deno task bench [options]

Measures minginx against nginx (stream), HAProxy (mode tcp) and a direct connection, in one run.
Proxies are pinned to CPU 0, wrk and the HTTP responder to CPU 1.

Options:
  --duration DURATION   Measured wrk run per target (default: 10s)
  --warmup DURATION     Uncounted wrk run before it (default: 2s)
  --connections N       wrk keep-alive connections (default: 50)
  --idle N              Connections held open for the memory reading (default: 2000)
  --settle DURATION     Wait before each memory reading (default: 1000ms)
  --rounds N            Repeat every measurement N times and report medians (default: 1)
  --only LIST           Targets, comma-separated: ${TARGETS.join(",")} (default: all)
  --workloads LIST      Workloads, comma-separated: ${WORKLOADS.join(",")} (default: all)
  --out DIR             Where latest.md and latest.json go (default: bench/results)
  -h, --help            Show this help
`;

/**
 * Parses the command line.
 *
 * @param args The arguments after the script name.
 * @returns The options.
 * @throws {Error} For an unknown flag or a malformed value; the message says which.
 */
export function parseOptions(args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      duration: { type: "string", default: "10s" },
      warmup: { type: "string", default: "2s" },
      connections: { type: "string", default: "50" },
      idle: { type: "string", default: "2000" },
      settle: { type: "string", default: "1000ms" },
      rounds: { type: "string", default: "1" },
      only: { type: "string", default: TARGETS.join(",") },
      workloads: { type: "string", default: WORKLOADS.join(",") },
      out: { type: "string", default: new URL("./results", import.meta.url).pathname },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const durationMs = parseDuration(values.duration, "--duration");
  const warmupMs = parseDuration(values.warmup, "--warmup");
  if (durationMs % 1000 !== 0 || warmupMs % 1000 !== 0 || durationMs === 0 || warmupMs === 0) {
    throw new Error("--duration and --warmup must be whole seconds, at least 1s (wrk's unit)");
  }
  return {
    durationSeconds: durationMs / 1000,
    warmupSeconds: warmupMs / 1000,
    connections: positiveInteger(values.connections, "--connections"),
    idleConnections: positiveInteger(values.idle, "--idle"),
    settleMs: parseDuration(values.settle, "--settle"),
    rounds: positiveInteger(values.rounds, "--rounds"),
    targets: list(values.only, TARGETS, "--only"),
    workloads: list(values.workloads, WORKLOADS, "--workloads"),
    outDir: values.out,
    help: values.help,
  };
}

/**
 * Parses a duration such as `10s`, `500ms` or `1m`; a bare number is seconds.
 *
 * @param text The flag's value.
 * @param flag The flag, for the error message.
 * @returns Milliseconds.
 * @throws {Error} If the value is not a duration.
 */
export function parseDuration(text: string, flag: string): number {
  const match = text.trim().match(/^(\d+(?:\.\d+)?)(ms|s|m)?$/);
  if (!match) throw new Error(`Cannot parse ${flag} "${text}": expected e.g. 10s, 500ms or 1m`);
  const scale = { ms: 1, s: 1000, m: 60_000 }[match[2] ?? "s"] ?? 1000;
  return Math.round(Number(match[1]) * scale);
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`Cannot parse ${flag} "${text}": expected a whole number, at least 1`);
  }
  return n;
}

function list<T extends string>(text: string, allowed: readonly T[], flag: string): T[] {
  const items = text.split(",").map((item) => item.trim()).filter(Boolean);
  const unknown = items.find((item) => !(allowed as readonly string[]).includes(item));
  if (unknown !== undefined || items.length === 0) {
    throw new Error(`Cannot parse ${flag} "${text}": expected some of ${allowed.join(", ")}`);
  }
  // Keep the canonical order, without repeats.
  return allowed.filter((item) => items.includes(item));
}
