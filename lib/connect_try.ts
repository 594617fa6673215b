/**
 * One connect try: resolve the candidate's hostname, try each of its addresses in turn within the
 * try's timeout, and wait out a shortage of file descriptors instead of blaming the upstream.
 *
 * @module
 */

import type { Address } from "./address.ts";
import { withDeadline } from "./connect_deadline.ts";
import { formatDuration } from "./duration.ts";
import type { Resolver } from "./resolve.ts";

/** How long a connect waits for a file descriptor to free before it tries again. */
const DESCRIPTOR_WAIT_MS = 50;

/**
 * Connects to one candidate: each address its hostname resolves to, in turn, all within
 * `timeoutMs` (0 for no limit beyond `signal`).
 *
 * @param address The candidate.
 * @param resolver Resolves its hostname.
 * @param signal The connection's signal.
 * @param timeoutMs The try's timeout.
 * @returns The connected socket, with Nagle's algorithm off.
 * @throws {Deno.errors.TimedOut} If the try's timeout passed; otherwise the last address's error.
 */
export async function connectOne(
  address: Address,
  resolver: Resolver,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Deno.TcpConn> {
  if (timeoutMs === 0) return await connectAny(address, resolver, signal);
  try {
    return await withDeadline(
      signal,
      timeoutMs,
      (attempt) => connectAny(address, resolver, attempt),
    );
  } catch (error) {
    signal.throwIfAborted();
    if (!(error instanceof DOMException && error.name === "TimeoutError")) throw error;
    throw new Deno.errors.TimedOut(`No answer within ${formatDuration(timeoutMs)}`);
  }
}

async function connectAny(
  address: Address,
  resolver: Resolver,
  signal: AbortSignal,
): Promise<Deno.TcpConn> {
  const hostnames = await untilAborted(resolver.resolve(address.hostname), signal);
  let failure: unknown;
  for (const hostname of hostnames) {
    try {
      return await connectTo(hostname, address, signal);
    } catch (error) {
      signal.throwIfAborted();
      failure = error;
    }
  }
  throw failure;
}

async function connectTo(
  hostname: string,
  address: Address,
  signal: AbortSignal,
): Promise<Deno.TcpConn> {
  let conn: Deno.TcpConn;
  try {
    conn = await connectWhenDescriptorsFree(hostname, address.port, signal);
  } catch (error) {
    // Allowed to look the name up but not to reach this address: let Deno connect by name,
    // under the NAME:PORT permission.
    if (!(error instanceof Deno.errors.NotCapable) || hostname === address.hostname) throw error;
    conn = await connectWhenDescriptorsFree(address.hostname, address.port, signal);
  }
  try {
    conn.setNoDelay(true);
  } catch (error) {
    conn.close();
    throw error;
  }
  return conn;
}

/**
 * Connects, waiting while this process is out of file descriptors: that is the proxy's shortage,
 * not the upstream's failure, so it is neither another candidate's turn nor a passive ejection.
 * The connection's deadline still bounds the wait.
 */
async function connectWhenDescriptorsFree(
  hostname: string,
  port: number,
  signal: AbortSignal,
): Promise<Deno.TcpConn> {
  for (;;) {
    try {
      return await Deno.connect({ hostname, port, signal });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== "EMFILE" && code !== "ENFILE") throw error;
      await new Promise((resolve) => setTimeout(resolve, DESCRIPTOR_WAIT_MS));
      signal.throwIfAborted();
    }
  }
}

function untilAborted<T>(value: T | Promise<T>, signal: AbortSignal): T | Promise<T> {
  if (!(value instanceof Promise)) return value;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    value.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
