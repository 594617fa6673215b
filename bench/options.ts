/**
 * The benchmark's command line: flags, defaults and the help text.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Target, TARGETS } from "./proxies.ts";

/** The workloads the benchmark can run, in the order they run. */
export const WORKLOADS = ["http", "connect", "tls", "http-mode", "bulk", "idle"] as const;
/** One of {@linkcode WORKLOADS}. */
export type Workload = typeof WORKLOADS[number];

/** Everything the command line says, with defaults filled in. */
export interface BenchOptions {
  /** `--quick`: a short smoke test whose figures are not judged against the targets. */
  quick: boolean;
  /** The measured wrk run per target, in whole seconds. */
  durationSeconds: number;
  /** The uncounted wrk run per target, in whole seconds; 0 for none. */
  warmupSeconds: number;
  /** One measured iperf3 run per direction and target, in whole seconds. */
  bulkSeconds: number;
  /** The uncounted iperf3 run per target, in whole seconds; 0 for none. */
  bulkWarmupSeconds: number;
  /** wrk's connections, kept alive (http) or one per request (connect). */
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

// Defaults of the flags that --quick shortens; a flag given explicitly wins over both.
const NORMAL = { duration: "10s", warmup: "2s", bulk: "5s", idle: "10000", settle: "1000ms" };
const QUICK = { duration: "2s", warmup: "1s", bulk: "1s", idle: "500", settle: "300ms" };

/** The help text. */
export const HELP = `Usage: deno task bench [options]

Measures minginx against nginx (stream), HAProxy (mode tcp) and a direct connection, in one run,
minginx --mode http against nginx's HTTP proxy (the http-mode workload), and two variants
against bare minginx, each run next to it in every round: minginx-layers (five layers that
never touch bytes) and minginx-metrics (the admin API on, so metrics are counted, and its
/metrics scraped once a second by the benchmark).
Proxies are pinned to CPU 0; wrk, iperf3 and the upstream servers to CPU 1.

Workloads:
  http     Keep-alive HTTP requests through wrk: requests/s, latency, proxy CPU per request
  connect  A new connection per request (wrk, Connection: close): connections/s, proxy CPU
           per connection
  tls      minginx and nginx terminating TLS (one certificate made with openssl): full
           handshakes/s (openssl s_time -new) and proxy CPU per handshake, then keep-alive
           HTTPS through wrk: proxy CPU per request
  http-mode
           Keep-alive HTTP requests through wrk, the proxies parsing them: minginx with
           --mode http against nginx's HTTP proxy (proxy_pass, upstream keepalive 32) and a
           direct connection: requests/s, latency, proxy CPU per request, minginx / nginx
  bulk     iperf3 one way, the other way, and both at once: Gbit/s per direction, proxy CPU
           seconds per GiB moved
  idle     Connections held open: proxy memory per connection
A workload whose load generator (wrk, iperf3, openssl) is not installed is skipped with a
message, and so is a proxy that is not installed.

Options:
  --quick               A smoke test of every workload and target in about 100 s, judging
                        nothing: the defaults become --duration ${QUICK.duration} --warmup ${QUICK.warmup}
                        --bulk-duration ${QUICK.bulk} --idle ${QUICK.idle} --settle ${QUICK.settle}
                        and no bulk warm-up (flags given still win). minginx-metrics
                        runs in every workload, as the others do (about 12 s of it), so
                        the smoke test starts the admin API and scrapes it under load
  --duration DURATION   Measured wrk run per target (default: ${NORMAL.duration})
  --warmup DURATION     Uncounted wrk or iperf3 run before the measured ones; 0 for none
                        (default: ${NORMAL.warmup})
  --bulk-duration DUR   Measured iperf3 run per direction and target (default: ${NORMAL.bulk})
  --connections N       wrk connections (default: 50)
  --idle N              Connections held open for the memory reading (default: ${NORMAL.idle})
  --settle DURATION     Wait before each memory reading (default: ${NORMAL.settle})
  --rounds N            Repeat every measurement N times and report medians (default: 1)
  --targets LIST        Targets, comma-separated (default: all; --only is the same):
                        ${TARGETS.join(",")}
  --workloads LIST      Workloads, comma-separated: ${WORKLOADS.join(",")} (default: all)
  --out DIR             Where latest.md and latest.json go (default: bench/results)
  -h, --help            Show this help

Exits with 0 if every measurement ran, 1 if one failed, 2 for a bad command line.
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
      quick: { type: "boolean", default: false },
      duration: { type: "string" },
      warmup: { type: "string" },
      "bulk-duration": { type: "string" },
      connections: { type: "string", default: "50" },
      idle: { type: "string" },
      settle: { type: "string" },
      rounds: { type: "string", default: "1" },
      targets: { type: "string" },
      only: { type: "string" },
      workloads: { type: "string", default: WORKLOADS.join(",") },
      out: { type: "string", default: new URL("./results", import.meta.url).pathname },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.targets !== undefined && values.only !== undefined) {
    throw new Error("Cannot use both --targets and --only: they are the same flag");
  }
  const defaults = values.quick ? QUICK : NORMAL;
  const durationSeconds = wholeSeconds(values.duration ?? defaults.duration, "--duration", 1);
  const warmupSeconds = wholeSeconds(values.warmup ?? defaults.warmup, "--warmup", 0);
  // The bulk warm-up is the costliest part of --quick, and a smoke test does without it.
  const bulkWarmupSeconds = values.quick && values.warmup === undefined ? 0 : warmupSeconds;
  const bulkSeconds = wholeSeconds(values["bulk-duration"] ?? defaults.bulk, "--bulk-duration", 1);
  return {
    quick: values.quick,
    durationSeconds,
    warmupSeconds,
    bulkSeconds,
    bulkWarmupSeconds,
    connections: positiveInteger(values.connections, "--connections"),
    idleConnections: positiveInteger(values.idle ?? defaults.idle, "--idle"),
    settleMs: parseDuration(values.settle ?? defaults.settle, "--settle"),
    rounds: positiveInteger(values.rounds, "--rounds"),
    targets: values.only !== undefined
      ? list(values.only, TARGETS, "--only")
      : list(values.targets ?? TARGETS.join(","), TARGETS, "--targets"),
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

// wrk and iperf3 both take whole seconds.
function wholeSeconds(text: string, flag: string, min: number): number {
  const ms = parseDuration(text, flag);
  if (ms % 1000 !== 0 || ms < min * 1000) {
    throw new Error(
      `Cannot use ${flag} "${text}": it must be whole seconds, at least ${min}s ` +
        "(wrk and iperf3 count in seconds)",
    );
  }
  return ms / 1000;
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
