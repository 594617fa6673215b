/**
 * Connecting to an upstream: walk the balancer's candidates in order until one accepts.
 *
 * @module
 */

import { type Address, formatAddress } from "./address.ts";
import type { Connection } from "./connection.ts";
import { ConnectionError } from "./report.ts";
import { messageOf } from "./_util.ts";

/**
 * Chooses upstreams for a connection. `pick` yields candidates in order of preference; the caller
 * connects to the first that accepts, so retry and failover come from walking the list.
 *
 * @example A balancer that always prefers the first upstream
 * ```ts
 * import type { Balancer } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const primaryFirst: Balancer = {
 *   pick: () => [{ hostname: "10.0.0.1", port: 80 }, { hostname: "10.0.0.2", port: 80 }],
 * };
 * assert.equal([...primaryFirst.pick()].length, 2);
 * ```
 */
export interface Balancer {
  /**
   * Yields the upstreams to try for a connection, best first.
   *
   * @param connection The connection being forwarded, for balancers that look at it.
   */
  pick(connection?: Connection): Iterable<Address>;
}

/**
 * One failed connect attempt.
 *
 * @example Reading why each upstream failed
 * ```ts
 * import { type ConnectAttempt, formatAddress, UpstreamConnectError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const attempts: ConnectAttempt[] = [
 *   { address: { hostname: "10.0.0.1", port: 80 }, error: new Deno.errors.ConnectionRefused() },
 * ];
 * const error = new UpstreamConnectError(attempts);
 * assert.deepEqual(error.attempts.map(({ address }) => formatAddress(address)), ["10.0.0.1:80"]);
 * ```
 */
export interface ConnectAttempt {
  /** The upstream tried. */
  address: Address;
  /** Why it failed. */
  error: unknown;
}

/**
 * Thrown when no candidate accepted. Its reason is `upstream_refused` when every attempt was
 * refused, and `upstream_unreachable` otherwise (DNS failure, no route, no candidates at all).
 *
 * @example The reason follows from the attempts
 * ```ts
 * import { UpstreamConnectError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const refused = new Deno.errors.ConnectionRefused("Connection refused (os error 111)");
 * const error = new UpstreamConnectError([{ address: { hostname: "127.0.0.1", port: 9 }, error: refused }]);
 * assert.equal(error.reason, "upstream_refused");
 * assert.equal(error.message, "Cannot connect to 127.0.0.1:9: Connection refused (os error 111)");
 * ```
 */
export class UpstreamConnectError extends ConnectionError {
  /** Every attempt, in the order made. */
  readonly attempts: readonly ConnectAttempt[];

  /**
   * Summarizes failed attempts.
   *
   * @param attempts Every attempt, in order; empty if there was no candidate.
   */
  constructor(attempts: readonly ConnectAttempt[]) {
    const refused = attempts.length > 0 &&
      attempts.every(({ error }) => error instanceof Deno.errors.ConnectionRefused);
    const describe = ({ address, error }: ConnectAttempt) =>
      `${formatAddress(address)}: ${messageOf(error)}`;
    super(
      refused ? "upstream_refused" : "upstream_unreachable",
      attempts.length === 0
        ? "Cannot connect: the balancer offered no upstream"
        : `Cannot connect to ${attempts.map(describe).join("; ")}`,
      { cause: attempts.at(-1)?.error },
    );
    this.name = "UpstreamConnectError";
    this.attempts = attempts;
  }
}

/**
 * An upstream socket and the address it is connected to.
 *
 * @example What connectUpstream returns
 * ```ts
 * import { connectUpstream, type Upstream } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const upstream: Upstream = await connectUpstream([listener.addr], AbortSignal.timeout(5_000));
 * using _conn = upstream.conn;
 * using _accepted = await listener.accept();
 * assert.equal(upstream.address.port, listener.addr.port);
 * ```
 */
export interface Upstream {
  /** The connected socket, with Nagle's algorithm off. */
  conn: Deno.TcpConn;
  /** The candidate that accepted. */
  address: Address;
}

/**
 * Connects to the first candidate that accepts, trying the next on any connect error.
 *
 * @param candidates Upstreams in order of preference, as a {@linkcode Balancer} yields them.
 * @param signal Cancels the attempt in progress; the promise then rejects with its reason.
 * @returns The connected socket, with `setNoDelay(true)` applied.
 * @throws {UpstreamConnectError} If no candidate accepted.
 *
 * @example Connect to the first upstream that accepts
 * ```ts
 * import { connectUpstream } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const closedPort = { hostname: "127.0.0.1", port: 9 };
 * const { conn, address } = await connectUpstream(
 *   [closedPort, listener.addr],
 *   AbortSignal.timeout(5_000),
 * );
 * using _upstream = conn;
 * using _accepted = await listener.accept();
 * assert.equal(address.port, listener.addr.port);
 * ```
 */
export async function connectUpstream(
  candidates: Iterable<Address>,
  signal: AbortSignal,
): Promise<Upstream> {
  const attempts: ConnectAttempt[] = [];
  for (const address of candidates) {
    signal.throwIfAborted();
    try {
      const conn = await Deno.connect({ hostname: address.hostname, port: address.port, signal });
      try {
        conn.setNoDelay(true);
      } catch (error) {
        conn.close();
        throw error;
      }
      return { conn, address };
    } catch (error) {
      signal.throwIfAborted();
      attempts.push({ address, error });
    }
  }
  throw new UpstreamConnectError(attempts);
}
