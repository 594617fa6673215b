/**
 * A load of full TLS handshakes: several `openssl s_time -new` processes at once, each opening
 * one connection after another, every one with a new session (no resumption), one HTTP request
 * and its response, until its time is up.
 *
 * wrk cannot do this: it keeps the TLS session of a connection for the next one on the same
 * slot, so with `Connection: close` nearly every handshake after the first is a resumption,
 * whose cost depends on each server's session cache rather than on its handshake.
 *
 * @module
 */

import { spawn } from "./resources.ts";

/** What one handshake run counted. */
export interface HandshakeRun {
  /** Connections completed: handshake, request, response and close. */
  connections: number;
  /** Wall-clock time from starting the processes to the last one's exit, in seconds. */
  seconds: number;
  /** Connections per second over that time. */
  connectionsPerSecond: number;
}

/** How to run the handshake load. */
export interface HandshakeOptions {
  /** The TLS port on 127.0.0.1. */
  port: number;
  /** How many s_time processes run at once: the connections in flight. */
  clients: number;
  /** How long each runs, in whole seconds. */
  seconds: number;
  /** The CPUs to pin them to, as `taskset -c` takes them. */
  cpus: string;
}

// s_time sends "GET <this> HTTP/1.0" and reads to the end. The HTTP responder closes only after
// a request that says `Connection: close`, so the path carries the rest of an HTTP/1.1 head, and
// s_time's own " HTTP/1.0" ends up as the value of a header nobody reads.
const REQUEST = "/ HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nX-Ignored:";

/**
 * Runs the handshake load once and adds up what every process counted.
 *
 * @param options Port, processes, duration and CPUs.
 * @returns The connections completed and their rate.
 * @throws {Error} If a process fails (s_time stops at the first connection that fails) or its
 *   report cannot be read; the message holds its output.
 */
export async function runHandshakes(options: HandshakeOptions): Promise<HandshakeRun> {
  const started = performance.now();
  const children = Array.from(
    { length: options.clients },
    () =>
      spawn("openssl s_time", "openssl", [
        "s_time",
        "-connect",
        `127.0.0.1:${options.port}`,
        "-new",
        "-time",
        String(options.seconds),
        "-www",
        REQUEST,
      ], { cpus: options.cpus }),
  );
  let connections = 0;
  const failures: string[] = [];
  for (const child of children) {
    const status = await child.status;
    await child.drained;
    const count = child.output.match(/^(\d+) connections in [\d.]+s;/m);
    if (status.success && count) connections += Number(count[1]);
    else failures.push(`s_time exited with code ${status.code}:\n${child.output.slice(-2000)}`);
  }
  const seconds = (performance.now() - started) / 1000;
  if (failures.length > 0) {
    throw new Error(`${failures.length} of ${children.length} ${failures[0]}`);
  }
  return { connections, seconds, connectionsPerSecond: connections / seconds };
}
