/**
 * Running iperf3, server and client, and reading the client's JSON report (`-J`).
 *
 * @module
 */

import { HOST, waitForAccept } from "./net.ts";
import { type Child, spawn } from "./resources.ts";

/** Which way data flows: client to upstream, upstream to client, or both at once. */
export type Direction = "up" | "down" | "both";
/** Every direction, in the order they run. */
export const DIRECTIONS: readonly Direction[] = ["up", "down", "both"];
/** Each direction in words. */
export const DIRECTION_NAMES: Record<Direction, string> = {
  up: "client → upstream",
  down: "upstream → client",
  both: "both ways at once",
};

/** What one iperf3 run moved, as the receiving side counted it. */
export interface IperfResult {
  /** Bytes received by the upstream (iperf3's server) from the client. */
  upBytes: number;
  /** Bytes received by the client from the upstream. */
  downBytes: number;
  /** Client-to-upstream rate, in Gbit/s; 0 if nothing flowed that way. */
  upGbps: number;
  /** Upstream-to-client rate, in Gbit/s; 0 if nothing flowed that way. */
  downGbps: number;
  /** The length of the test as the receivers measured it, in seconds. */
  seconds: number;
}

/** How to run iperf3's client. */
export interface IperfOptions {
  /** The port to connect to on {@linkcode HOST}: a proxy's, or the server's own. */
  port: number;
  /** Which way the data flows. */
  direction: Direction;
  /** How long to send, in whole seconds. */
  seconds: number;
  /** The CPUs to pin the client to, as `taskset -c` takes them. */
  cpus: string;
}

// Longer than this past the test's length, the client is stuck: stop it.
const CLIENT_SLACK_MS = 15_000;

/**
 * Starts `iperf3 -s` listening on `port` and waits until it accepts. The probe connection that
 * waiting makes is an aborted test to iperf3, which reports it and goes on serving.
 *
 * @param port The port on {@linkcode HOST}.
 * @param cpus The CPUs to pin it to, as `taskset -c` takes them.
 * @returns The running server.
 */
export async function startIperfServer(port: number, cpus: string): Promise<Child> {
  const child = spawn("iperf3 server", "iperf3", ["-s", "-B", HOST, "-p", String(port)], {
    cpus,
  });
  await waitForAccept(port, child);
  return child;
}

/**
 * Runs iperf3's client for one test: one TCP stream each way it sends, plus the control
 * connection, all to the same port.
 *
 * @param options Port, direction, length and CPUs.
 * @returns What it moved.
 * @throws {Error} If iperf3 fails, is stuck, or its report cannot be read.
 */
export async function runIperf(options: IperfOptions): Promise<IperfResult> {
  const flags = { up: [], down: ["-R"], both: ["--bidir"] }[options.direction];
  const child = spawn("iperf3", "iperf3", [
    "-c",
    HOST,
    "-p",
    String(options.port),
    "-t",
    String(options.seconds),
    "--connect-timeout",
    "5000",
    "-J",
    ...flags,
  ], { cpus: options.cpus });
  const timer = setTimeout(() => void child.stop(), options.seconds * 1000 + CLIENT_SLACK_MS);
  try {
    const status = await child.status;
    await child.drained;
    const report = parseReport(child.output);
    const error = report?.error ?? (status.success ? undefined : child.output.slice(-2000));
    if (error !== undefined) {
      // With -J, iperf3 reports some errors in its JSON and still exits with 0.
      throw new Error(
        `iperf3 failed${status.success ? "" : ` (exit code ${status.code})`}: ${error}`,
      );
    }
    return toResult(report, options.direction);
  } finally {
    clearTimeout(timer);
  }
}

interface Sum {
  bytes: number;
  bits_per_second: number;
  seconds: number;
}

interface Report {
  error?: string;
  end?: {
    sum_received?: Sum;
    sum_received_bidir_reverse?: Sum;
  };
}

function parseReport(text: string): Report | undefined {
  // The JSON document is all of stdout; stderr (interleaved in the output) is normally empty.
  const start = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (start < 0 || end < start) return undefined;
  try {
    return JSON.parse(text.slice(start, end + 1));
  } catch {
    return undefined;
  }
}

// In iperf3's report, `sum_received` is the direction the test is named after (client to server,
// or server to client with -R), and `sum_received_bidir_reverse` the server-to-client half of a
// --bidir test.
function toResult(report: Report | undefined, direction: Direction): IperfResult {
  const forward = report?.end?.sum_received;
  const reverse = direction === "both" ? report?.end?.sum_received_bidir_reverse : undefined;
  if (!forward || (direction === "both" && !reverse)) {
    throw new Error(`Cannot read iperf3's report: ${JSON.stringify(report?.end ?? report)}`);
  }
  const [up, down] = direction === "up"
    ? [forward, undefined]
    : direction === "down"
    ? [undefined, forward]
    : [forward, reverse];
  return {
    upBytes: up?.bytes ?? 0,
    downBytes: down?.bytes ?? 0,
    upGbps: (up?.bits_per_second ?? 0) / 1e9,
    downGbps: (down?.bits_per_second ?? 0) / 1e9,
    seconds: forward.seconds,
  };
}
