/**
 * The innermost service: pick an upstream, connect, pipe both directions, report.
 *
 * @module
 */

import type { Address } from "./address.ts";
import { roundRobin } from "./balance/round_robin.ts";
import { type Balancer, connectUpstream } from "./connect.ts";
import type { Connection } from "./connection.ts";
import { pipe, PipeError, type Sink, type Source } from "./pipe.ts";
import { ConnectionError, type ConnectionReport } from "./report.ts";
import type { Service } from "./service.ts";
import { messageOf } from "./_util.ts";

/**
 * Options for {@linkcode forward}: a balancer, or a list of upstreams to go round-robin over.
 *
 * @example Give a balancer instead of a list
 * ```ts
 * import { forward, type ForwardOptions, roundRobin } from "@minginx/minginx";
 *
 * const options: ForwardOptions = { balancer: roundRobin(["10.0.0.1:80", "10.0.0.2:80"]) };
 * const service = forward(options);
 * ```
 */
export interface ForwardOptions {
  /** The upstreams, used round-robin. Ignored when `balancer` is given. */
  upstreams?: readonly (string | Address)[];
  /** Chooses the upstreams to try for each connection. */
  balancer?: Balancer;
}

/**
 * Creates the service at the bottom of a minginx stack. For each connection it walks the
 * balancer's candidates until one accepts, then copies bytes both ways under one `Promise.all`.
 * An end of stream from either peer is passed on as a half-close, so the other direction keeps
 * flowing; the connection ends when both directions have ended, when either socket fails or is
 * reset (which closes the other at once), or when a layer aborts it.
 *
 * @param options The upstreams, or a balancer.
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
  const balancer = options.balancer ?? roundRobin(options.upstreams ?? []);
  return async function forward(connection: Connection): Promise<ConnectionReport> {
    let upstream: Deno.TcpConn;
    try {
      const connected = await connectUpstream(balancer.pick(connection), connection.signal);
      if (!connection.attach(connected.conn, connected.address)) return connection.end();
      upstream = connected.conn;
    } catch (error) {
      return connection.end(error);
    }
    const { client } = connection;
    await Promise.all([
      direction(connection, client, upstream, "client", "upstream"),
      direction(connection, upstream, client, "upstream", "client"),
    ]);
    return connection.end();
  };
}

type Peer = "client" | "upstream";
type Duplex = Source & Sink & Pick<Deno.Conn, "closeWrite">;

const EMPTY = new Uint8Array(0);

async function direction(
  connection: Connection,
  source: Duplex,
  sink: Duplex,
  from: Peer,
  to: Peer,
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
    // that closeWrite() would (nothing is left unread), so a shutdown here would be a wasted call.
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
