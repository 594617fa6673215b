/**
 * The innermost service: pick an upstream, connect, pipe both directions, report.
 *
 * @module
 */

import type { Address } from "./address.ts";
import { type Balancer, type ConnectOptions, connectUpstream } from "./connect.ts";
import type { ByteStream } from "./byte_stream.ts";
import type { Connection } from "./connection.ts";
import { handover, type HandoverOptions } from "./handover.ts";
import { pipe, PipeError } from "./pipe.ts";
import { ConnectionError, type ConnectionReport } from "./report.ts";
import type { Service } from "./service.ts";
import { Pool } from "./pool/pool.ts";
import type { UpstreamSpec } from "./pool/upstream.ts";
import { messageOf } from "./_util.ts";

/**
 * Options for {@linkcode forward}: where to connect, and how hard to try.
 *
 * @example A pool with health checks, and two tries of 2 s each
 * ```ts
 * import { forward, type ForwardOptions, Pool, tcpCheck } from "@minginx/minginx";
 *
 * await using pool = new Pool({ upstreams: ["10.0.0.1:80", "10.0.0.2:80"], healthCheck: tcpCheck() });
 * const options: ForwardOptions = { balancer: pool, connect: { tries: 2, timeout: 2_000 } };
 * const service = forward(options);
 * ```
 */
export interface ForwardOptions extends HandoverOptions {
  /**
   * The upstreams, for a {@linkcode Pool} with round-robin and no health checks. Ignored when
   * `balancer` is given.
   */
  upstreams?: readonly (string | Address | UpstreamSpec)[];
  /** Chooses the upstreams to try for each connection, such as a {@linkcode Pool}. */
  balancer?: Balancer;
  /** How many candidates to try, for how long each, and how to resolve hostnames. */
  connect?: Omit<ConnectOptions, "onFailure">;
}

/**
 * Creates the service at the bottom of a minginx stack. For each connection it walks the
 * balancer's candidates until one accepts, sends what {@linkcode handover} sends (a PROXY header,
 * TLS, bytes a layer already read), then copies bytes both ways under one `Promise.all`.
 * An end of stream from either peer is passed on as a half-close, so the other direction keeps
 * flowing; the connection ends when both directions have ended, when either socket fails or is
 * reset (which closes the other at once), or when a layer aborts it.
 *
 * @param options The upstreams or a balancer, and how to connect.
 * @returns A service that never rejects: every outcome is in the report.
 * @throws {TypeError} If neither a balancer nor at least one upstream is given.
 *
 * @example Forward to an echo server
 * ```ts
 * import { forward, serve } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * await using proxy = serve({ listen: "127.0.0.1:0", service: forward({ upstreams: [upstream.addr] }) });
 *
 * using client = await Deno.connect(proxy.address);
 * using accepted = await upstream.accept();
 * await client.write(new Uint8Array([1, 2, 3]));
 * const received = new Uint8Array(3);
 * assert.equal(await accepted.read(received), 3);
 * assert.deepEqual(received, new Uint8Array([1, 2, 3]));
 * ```
 */
export function forward(options: ForwardOptions): Service<Connection, ConnectionReport> {
  const balancer = options.balancer ?? defaultPool(options.upstreams);
  const connectOptions: ConnectOptions = {
    ...options.connect,
    onFailure: balancer.onConnectFailure?.bind(balancer),
  };
  const prepared = options.proxyProtocol !== undefined || options.tls !== undefined;
  return async function forward(connection: Connection): Promise<ConnectionReport> {
    let upstream: ByteStream;
    let release: (() => void) | void;
    let connected: Awaited<ReturnType<typeof connectUpstream>>;
    try {
      const candidates = balancer.pick(connection);
      connected = await connectUpstream(candidates, connection.signal, connectOptions, connection);
      connection.connectMs = connected.connectMs;
      connection.pool = balancer.name;
      if (!connection.attach(connected.conn, connected.address)) return connection.end();
      upstream = connected.conn;
      release = balancer.onConnect?.(connected.address, connection);
    } catch (error) {
      return connection.end(error);
    }
    if (prepared || connection.preread) {
      try {
        upstream = await handover(connection, connected.conn, connected.address, options);
      } catch (error) {
        release?.();
        return connection.end(error);
      }
    }
    try {
      const { client } = connection;
      // A TLS session is closed with a close_notify, which only closeWrite() sends.
      const tlsUp = upstream !== connected.conn;
      const tlsDown = client !== connection.socket;
      await Promise.all([
        direction(connection, client, upstream, "client", "upstream", tlsUp),
        direction(connection, upstream, client, "upstream", "client", tlsDown),
      ]);
      return connection.end();
    } finally {
      release?.();
    }
  };
}

type Peer = "client" | "upstream";

const EMPTY = new Uint8Array(0);

async function direction(
  connection: Connection,
  source: ByteStream,
  sink: ByteStream,
  from: Peer,
  to: Peer,
  tlsSink: boolean,
): Promise<void> {
  const way = from === "client" ? "up" : "down";
  try {
    await pipe(source, connection.sinkFor(way, sink), connection[way]);
  } catch (error) {
    // The first failure tears down both sockets; later ones (our own close) are ignored.
    connection.abort(pipeFailure(error, from, to));
    return;
  }
  // Deno reads a reset as an end of stream too. While our write side towards `from` is still
  // open (the other direction has not ended), a zero-length write tells them apart: it fails
  // after a reset and does nothing after a half-close.
  if (connection.firstToFinish !== undefined) {
    // Both peers have finished sending, so `end()` closes both sockets next. A close sends the FIN
    // that closeWrite() would (nothing is left unread), so a shutdown here would be a wasted call;
    // but a TLS session needs its close_notify, which a close does not send. If that fails, the
    // peer is gone as well: both directions have ended cleanly, and the report says so.
    if (tlsSink) await sink.closeWrite().catch(() => {});
    return;
  }
  connection.firstToFinish = from;
  try {
    await source.write(EMPTY);
  } catch (error) {
    const reset = `The ${from} reset the connection`;
    connection.abort(new ConnectionError(`${from}_reset`, reset, { cause: error }));
    return;
  }
  try {
    await sink.closeWrite();
  } catch (error) {
    connection.abort(peerReset(to, "shut down writing to", error));
  }
}

function defaultPool(upstreams: ForwardOptions["upstreams"] = []): Pool {
  if (upstreams.length === 0) {
    throw new TypeError("Cannot forward to no upstreams: expected a balancer or at least one");
  }
  return new Pool({ upstreams });
}

function pipeFailure(error: unknown, from: Peer, to: Peer): unknown {
  if (!(error instanceof PipeError)) return error;
  return error.side === "read"
    ? peerReset(from, "read from", error.cause)
    : peerReset(to, "write to", error.cause);
}

function peerReset(peer: Peer, action: string, cause: unknown): ConnectionError {
  return new ConnectionError(`${peer}_reset`, `Cannot ${action} ${peer}: ${messageOf(cause)}`, {
    cause,
  });
}
