/**
 * How a connection ended: the close reasons, the report every connection ends with, and the error
 * that carries a reason through the layers.
 *
 * @module
 */

import { formatAddress } from "./address.ts";
import type { Connection } from "./connection.ts";
import { messageOf } from "./_util.ts";

/**
 * Why a connection ended. One of a small fixed set, so that logs and metrics can count them:
 *
 * | reason | meaning |
 * |---|---|
 * | `client_closed` | both directions ended cleanly; the client finished sending first |
 * | `upstream_closed` | both directions ended cleanly; the upstream finished sending first |
 * | `client_reset` | the client's socket failed: a reset, a broken pipe, another I/O error |
 * | `upstream_reset` | the upstream's socket failed after it was connected |
 * | `no_upstream` | no upstream tried accepted: each was refused, unreachable or too slow |
 * | `dns_failed` | every upstream tried had a hostname that did not resolve |
 * | `connect_timeout` | no upstream accepted within the overall connect deadline |
 * | `idle_timeout` | nothing moved in either direction for too long |
 * | `over_limit` | too many connections were open and the queue was full, or the wait in it ran out |
 * | `rate_limited` | the client opened new connections faster than its rate allows |
 * | `denied` | the client's address is not allowed |
 * | `fault` | an injected fault closed it on purpose |
 * | `drained` | its upstream was drained and the drain's deadline ran out |
 * | `shutdown` | the proxy stopped and its drain period ran out |
 * | `proxy_header` | a PROXY protocol header was malformed or cut short |
 * | `client_hello` | the TLS ClientHello read for SNI routing was malformed, cut short or too large |
 * | `not_tls` | SNI routing read bytes that are not TLS, and no fallback pool takes them |
 * | `tls_handshake` | the client's TLS handshake with a terminating listener failed |
 * | `handshake_timeout` | the client did not finish its PROXY header, ClientHello or TLS handshake in time |
 * | `upstream_tls` | the TLS handshake with the upstream failed |
 * | `bad_request` | an HTTP request was malformed or over a limit, and got a 4xx answer |
 * | `error` | an unexpected error in a layer: a bug, logged at error level |
 *
 * @example Counting connections by how they ended
 * ```ts
 * import type { CloseReason, Layer } from "@minginx/minginx";
 *
 * const endings = new Map<CloseReason, number>();
 * const countEndings: Layer = (inner) => async (connection) => {
 *   const report = await inner(connection);
 *   endings.set(report.reason, (endings.get(report.reason) ?? 0) + 1);
 *   return report;
 * };
 * ```
 */
export type CloseReason =
  | "client_closed"
  | "upstream_closed"
  | "client_reset"
  | "upstream_reset"
  | "no_upstream"
  | "dns_failed"
  | "connect_timeout"
  | "idle_timeout"
  | "over_limit"
  | "rate_limited"
  | "denied"
  | "fault"
  | "drained"
  | "shutdown"
  | "proxy_header"
  | "client_hello"
  | "not_tls"
  | "tls_handshake"
  | "handshake_timeout"
  | "upstream_tls"
  | "bad_request"
  | "error";

/**
 * What happened on one connection, produced once when it ends.
 *
 * @example Keeping the reports of failed upstreams
 * ```ts
 * import type { ConnectionReport, Layer } from "@minginx/minginx";
 *
 * const failures: ConnectionReport[] = [];
 * const keepFailures: Layer = (inner) => async (connection) => {
 *   const report = await inner(connection);
 *   if (report.reason.startsWith("upstream_") && report.reason !== "upstream_closed") {
 *     failures.push(report);
 *   }
 *   return report;
 * };
 * ```
 */
export interface ConnectionReport {
  /** The connection's number, counted from 1 by the server that accepted it. */
  id: number;
  /** The client's address as `HOST:PORT`. */
  client: string;
  /** The upstream it was connected to as `HOST:PORT`, or `null` if none was connected. */
  upstream: string | null;
  /** The pool of that upstream, when one was connected and its balancer has a name. */
  pool?: string;
  /** Milliseconds the connect to that upstream took, when one was connected. */
  connectMs?: number;
  /** Bytes forwarded from the client to the upstream. */
  bytesUp: number;
  /** Bytes forwarded from the upstream to the client. */
  bytesDown: number;
  /** Milliseconds from accept to close. */
  durationMs: number;
  /** Why the connection ended. */
  reason: CloseReason;
  /** The address the client connected to: the listener's own, whatever a PROXY header said. */
  listener: string;
  /** Which peer ended its sending first, or `null` if neither did before the end. */
  closedFirst: "client" | "upstream" | null;
  /** How many upstreams were tried; 0 if the connection ended before any was. */
  connectAttempts: number;
  /** The TLS server name (SNI) the client asked for, when a layer read it. */
  serverName?: string;
  /**
   * The application protocol (ALPN) agreed with the client when TLS was terminated, or the ones it
   * offered (comma-separated) when it was routed by SNI.
   */
  alpn?: string;
  /** The message of the error behind the reason, if one was. */
  error?: string;
}

/**
 * An error that ends a connection with a given {@linkcode CloseReason}. Layers throw it, or pass
 * it to {@linkcode Connection.prototype.abort}, to end a connection for a reason of their own.
 *
 * @example Ending a connection with a reason
 * ```ts
 * import { ConnectionError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const error = new ConnectionError("no_upstream", "Nothing listens on 127.0.0.1:9");
 * assert.equal(error.reason, "no_upstream");
 * assert.equal(error.name, "ConnectionError");
 * ```
 */
export class ConnectionError extends Error {
  /** The close reason this error stands for. */
  readonly reason: CloseReason;

  /**
   * Creates an error that carries a close reason.
   *
   * @param reason The close reason to report.
   * @param message What happened, for the log.
   * @param options The underlying error, as `cause`.
   */
  constructor(reason: CloseReason, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionError";
    this.reason = reason;
  }
}

/**
 * The close reason an error stands for: its own if it is a {@linkcode ConnectionError},
 * otherwise `error`.
 *
 * @param error Anything thrown.
 * @returns The close reason.
 *
 * @example Unknown errors are reported as `error`
 * ```ts
 * import { ConnectionError, reasonOf } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(reasonOf(new ConnectionError("shutdown", "Stopping")), "shutdown");
 * assert.equal(reasonOf(new RangeError("a bug")), "error");
 * ```
 */
export function reasonOf(error: unknown): CloseReason {
  return error instanceof ConnectionError ? error.reason : "error";
}

/**
 * The report of a connection that has ended: what it moved, where, and why it ended. A
 * {@linkcode Connection} makes it once, in `end()`.
 *
 * @param connection The connection.
 * @param durationMs Milliseconds from accept to close.
 * @param cause Why it ended, if it did not end on its own; its close reason and message go in.
 * @returns The report.
 *
 * @example A connection that ended before it reached an upstream
 * ```ts
 * import { Connection, ConnectionError, reportOf } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * using accepted = await listener.accept();
 * const connection = new Connection(7, accepted);
 * const report = reportOf(connection, 12, new ConnectionError("denied", "Not on the list"));
 * assert.equal(report.reason, "denied");
 * assert.equal(report.upstream, null);
 * assert.equal(report.connectAttempts, 0);
 * ```
 */
export function reportOf(
  connection: Connection,
  durationMs: number,
  cause: unknown,
): ConnectionReport {
  const { upstreamAddress, firstToFinish, serverName, alpn, pool, connectMs } = connection;
  const report: ConnectionReport = {
    id: connection.id,
    listener: formatAddress(connection.socket.localAddr),
    client: formatAddress(connection.clientAddress),
    upstream: upstreamAddress ? formatAddress(upstreamAddress) : null,
    bytesUp: connection.up.bytes,
    bytesDown: connection.down.bytes,
    durationMs,
    reason: firstToFinish === "upstream" ? "upstream_closed" : "client_closed",
    closedFirst: firstToFinish ?? null,
    connectAttempts: connection.connectAttempts,
  };
  if (pool !== undefined) report.pool = pool;
  if (connectMs !== undefined) report.connectMs = Math.round(connectMs * 1000) / 1000;
  if (serverName !== undefined) report.serverName = serverName;
  if (alpn !== undefined) report.alpn = alpn;
  if (cause !== undefined) {
    report.reason = reasonOf(cause);
    report.error = messageOf(cause);
  }
  return report;
}
