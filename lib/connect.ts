/**
 * Connecting to an upstream: walk the balancer's candidates in order until one accepts.
 *
 * @module
 */

import type { Address } from "./address.ts";
import type { Connection } from "./connection.ts";
import { Resolver } from "./resolve.ts";
import { connectOne } from "./connect_try.ts";
import { type ConnectAttempt, UpstreamConnectError } from "./connect_error.ts";

/**
 * What a balancer is told an upstream took on: a client's TCP connection, or in HTTP mode one
 * request. A drain may abort it; `connectMs` is how long the connect took, when there was one.
 *
 * @example A TCP connection is one
 * ```ts
 * import type { Connected, Connection } from "@minginx/minginx";
 *
 * const asConnected = (connection: Connection): Connected => connection;
 * ```
 */
export type Connected = Pick<Connection, "abort" | "connectMs">;

/**
 * Chooses upstreams for a connection. `pick` yields candidates in order of preference; the caller
 * connects to the first that accepts, so retry and failover come from walking the list. A
 * {@linkcode Pool} is a balancer; the two optional methods let one count what happened.
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
  /** Its name, which reports and metrics give as the `pool` of its connections. */
  readonly name?: string;
  /**
   * Yields the upstreams to try for a connection, best first.
   *
   * @param connection The connection being forwarded, for balancers that look at it.
   */
  pick(connection?: Connection): Iterable<Address>;
  /**
   * Told that a candidate accepted the connection (or, in HTTP mode, a request).
   *
   * @param address The candidate, as `pick` yielded it.
   * @param connection What it took on.
   * @returns A function to call when that ends, if the balancer wants to know.
   */
  onConnect?(address: Address, connection: Connected): (() => void) | void;
  /**
   * Told that connecting to a candidate failed.
   *
   * @param address The candidate, as `pick` yielded it.
   * @param error Why.
   */
  onConnectFailure?(address: Address, error: unknown): void;
}

/**
 * An upstream socket and the address it is connected to.
 *
 * @example What connectUpstream returns
 * ```ts
 * import {type ConnectedUpstream, connectUpstream} from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const upstream: ConnectedUpstream = await connectUpstream([listener.addr], AbortSignal.timeout(5_000));
 * using _conn = upstream.conn;
 * using _accepted = await listener.accept();
 * assert.equal(upstream.address.port, listener.addr.port);
 * ```
 */
export interface ConnectedUpstream {
  /** The connected socket, with Nagle's algorithm off. */
  conn: Deno.TcpConn;
  /** The candidate that accepted, as the balancer yielded it. */
  address: Address;
  /** How many candidates were tried, this one included. */
  attempts: number;
  /** Milliseconds the successful try took, resolving a hostname included. */
  connectMs: number;
}

/**
 * Options for {@linkcode connectUpstream}.
 *
 * @example Two tries of at most 2 s each
 * ```ts
 * import type { ConnectOptions } from "@minginx/minginx";
 *
 * const options: ConnectOptions = { tries: 2, timeout: 2_000 };
 * ```
 */
export interface ConnectOptions {
  /**
   * How many candidates to try at most. A hostname candidate counts once, however many addresses
   * it resolves to.
   *
   * @default {3}
   */
  tries?: number;
  /**
   * Milliseconds each try may take, resolving a hostname and connecting to its addresses
   * included, before the next candidate is tried; 0 for no limit beyond `signal`.
   *
   * @default {0}
   */
  timeout?: number;
  /**
   * Resolves hostname candidates.
   *
   * @default {a Resolver with its defaults}
   */
  resolver?: Resolver;
  /** Told about each candidate that failed, as {@linkcode Balancer.onConnectFailure}. */
  onFailure?: (address: Address, error: unknown) => void;
}

const defaultResolver = new Resolver();

/**
 * Connects to the first candidate that accepts, trying the next on any connect error. A hostname
 * is resolved first, and each of its addresses is tried in turn.
 *
 * @param candidates Upstreams in order of preference, as a {@linkcode Balancer} yields them.
 * @param signal Cancels the attempt in progress; the promise then rejects with its reason.
 * @param options How many candidates to try, and for how long each.
 * @param progress Told how many candidates have been tried so far, the one in progress included,
 * as each try starts: what a report counts when the connect is cut short.
 * @returns The connected socket, with `setNoDelay(true)` applied.
 * @throws {UpstreamConnectError} If no candidate accepted.
 *
 * @example Connect to the first upstream that accepts
 * ```ts
 * import {connectUpstream} from "@minginx/minginx";
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
  options: ConnectOptions = {},
  progress?: { connectAttempts: number },
): Promise<ConnectedUpstream> {
  const { tries = 3, timeout = 0, resolver = defaultResolver, onFailure } = options;
  const attempts: ConnectAttempt[] = [];
  for (const address of candidates) {
    if (attempts.length >= tries) break;
    signal.throwIfAborted();
    if (progress) progress.connectAttempts = attempts.length + 1;
    const started = performance.now();
    try {
      const conn = await connectOne(address, resolver, signal, timeout);
      return {
        conn,
        address,
        attempts: attempts.length + 1,
        connectMs: performance.now() - started,
      };
    } catch (error) {
      signal.throwIfAborted();
      attempts.push({ address, error });
      onFailure?.(address, error);
    }
  }
  throw new UpstreamConnectError(attempts);
}
