/**
 * Running `wrk` and reading its report.
 *
 * @module
 */

import { spawn } from "./resources.ts";

/** What one wrk run measured. */
export interface WrkResult {
  /** Requests completed during the run. */
  requests: number;
  /** The run's length as wrk measured it, in seconds. */
  seconds: number;
  /** Requests per second, as wrk printed it. */
  requestsPerSecond: number;
  /** Median latency, in microseconds. */
  p50Us: number;
  /** 99th percentile latency, in microseconds. */
  p99Us: number;
  /** Socket errors (connect, read, write, timeout) and non-2xx/3xx responses, summed. */
  errors: number;
}

/** How to run wrk. */
export interface WrkOptions {
  /** The URL to request. */
  url: string;
  /** Open connections, all on one wrk thread. */
  connections: number;
  /** How long, in seconds. */
  seconds: number;
  /** The CPUs to pin wrk to, as `taskset -c` takes them. */
  cpus: string;
  /** Request headers to add, such as `Connection: close`. */
  headers?: string[];
}

/**
 * Runs wrk with one thread and `--latency`, and parses its report.
 *
 * @param options URL, connections, duration and CPUs.
 * @returns The figures.
 * @throws {Error} If wrk fails or its report cannot be read.
 */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const child = spawn("wrk", "wrk", [
    "-t1",
    `-c${options.connections}`,
    `-d${options.seconds}s`,
    "--latency",
    ...(options.headers ?? []).flatMap((header) => ["-H", header]),
    options.url,
  ], { cpus: options.cpus });
  const status = await child.status;
  await child.drained;
  if (!status.success) throw new Error(`wrk exited with code ${status.code}:\n${child.output}`);
  return parseWrk(child.output);
}

/**
 * Runs wrk once without counting it, so that the proxy has warmed up (JIT, buffers, caches)
 * when the measured run starts; then waits a moment for its connections to close.
 *
 * @param options URL, connections, duration and CPUs.
 * @param maxErrorShare The share of requests that may fail; 0 for none.
 * @throws {Error} If the warm-up completes no request or more errors than allowed.
 */
export async function warmUp(options: WrkOptions, maxErrorShare = 0): Promise<void> {
  const run = await runWrk(options);
  if (run.requests === 0 || run.errors > run.requests * maxErrorShare) {
    throw new Error(`The warm-up completed ${run.requests} requests with ${run.errors} errors`);
  }
  await new Promise((resolve) => setTimeout(resolve, 300));
}

/**
 * Reads the figures out of wrk's text report.
 *
 * @param text What `wrk --latency` printed.
 * @returns The figures.
 * @throws {Error} If a figure is missing.
 */
export function parseWrk(text: string): WrkResult {
  const done = text.match(/(\d+) requests in ([\d.]+)(us|ms|s|m),/);
  const rate = text.match(/Requests\/sec:\s+([\d.]+)/);
  const p50 = text.match(/^\s+50%\s+([\d.]+)(us|ms|s)/m);
  const p99 = text.match(/^\s+99%\s+([\d.]+)(us|ms|s)/m);
  if (!done || !rate || !p50 || !p99) throw new Error(`Cannot read wrk's report:\n${text}`);
  const socket = text.match(
    /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/,
  );
  const non2xx = text.match(/Non-2xx or 3xx responses: (\d+)/);
  const errors = (socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0) +
    (non2xx ? Number(non2xx[1]) : 0);
  return {
    requests: Number(done[1]),
    seconds: toMicroseconds(done[2], done[3]) / 1e6,
    requestsPerSecond: Number(rate[1]),
    p50Us: toMicroseconds(p50[1], p50[2]),
    p99Us: toMicroseconds(p99[1], p99[2]),
    errors,
  };
}

function toMicroseconds(value: string, unit: string): number {
  const scale: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6 };
  return Number(value) * scale[unit];
}
