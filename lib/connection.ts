/**
 * One accepted connection and everything the layers share about it: its sockets, its counters,
 * how to end it early, and how it ended.
 *
 * @module
 */

import type { Address } from "./address.ts";
import { clientKey } from "./ip.ts";
import { type ByteStream, closeQuietly } from "./byte_stream.ts";
import type { Meter, Sink } from "./pipe.ts";
import { type ConnectionReport, reportOf } from "./report.ts";
import type { Direction, SinkHook } from "./sink_hook.ts";

/**
 * An accepted client connection on its way through the layers: the request type of a minginx
 * {@linkcode Service}. State lives here, per connection, so one configured layer serves them all.
 *
 * A layer can end a connection at any time with {@linkcode Connection.prototype.abort}; whatever
 * is in progress (a connect, a read, a write) is cancelled and the report carries the reason.
 * The innermost service returns {@linkcode Connection.prototype.end}, which closes the sockets and
 * produces the report exactly once.
 *
 * @example A layer that turns connections away during maintenance
 * ```ts
 * import { ConnectionError, forward, type Layer, serve, ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * let maintenance = true;
 * const maintenanceMode: Layer = (inner) =>
 *   function maintenanceMode(connection) {
 *     if (!maintenance) return inner(connection);
 *     return Promise.resolve(connection.end(new ConnectionError("shutdown", "Down for maintenance")));
 *   };
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const service = new ServiceBuilder().layer(maintenanceMode).service(
 *   forward({ upstreams: [upstream.addr] }),
 * );
 * await using proxy = serve({ listen: "127.0.0.1:0", service });
 * using client = await Deno.connect(proxy.address);
 * assert.equal(await client.read(new Uint8Array(1)), null); // closed without an upstream
 * maintenance = false;
 * ```
 */
export class Connection {
  /** The connection's number, counted from 1 by the server that accepted it. */
  readonly id: number;
  /**
   * Bytes already read from the client that the upstream has not been sent yet: what a layer read
   * to decide something (a PROXY header's trailing bytes, a ClientHello it routed by). The
   * forwarder sends them first, unchanged; a layer that consumes them sets this back.
   */
  preread: Uint8Array | undefined;
  /** The TLS server name the client asked for, once a layer has read it. */
  serverName: string | undefined;
  /** The ALPN protocol agreed, or those offered, once a layer has read it (see the report). */
  alpn: string | undefined;
  /** How many upstreams forward tried. */
  connectAttempts = 0;
  /** Milliseconds the connect to the upstream took, once connected. */
  connectMs: number | undefined;
  /** The name of the balancer (pool) whose upstream it connected to, once connected. */
  pool: string | undefined;
  /** Bytes forwarded from the client to the upstream, counted by the pipe. */
  readonly up: Meter = { bytes: 0 };
  /** Bytes forwarded from the upstream to the client, counted by the pipe. */
  readonly down: Meter = { bytes: 0 };
  /** The upstream's socket (or TLS session), once connected. */
  upstream: ByteStream | undefined;
  /** The upstream's address, once connected. */
  upstreamAddress: Address | undefined;
  /** Aborts when its server starts draining: HTTP keep-alive closes at its next pause. */
  draining: AbortSignal | undefined;
  /** Which peer sent its end of stream first, once one has. */
  firstToFinish: "client" | "upstream" | undefined;
  readonly #startedAt = performance.now();
  readonly #socket: Deno.TcpConn;
  #client: ByteStream;
  #clientAddress: Address;
  #localAddress: Address;
  #clientKey: string | undefined;
  #upHooks: SinkHook[] | undefined;
  #downHooks: SinkHook[] | undefined;
  readonly #abort = new AbortController();
  #cause: unknown;
  #report: ConnectionReport | undefined;
  #connected: PromiseWithResolvers<Address> | undefined;
  #closed = false;

  /**
   * Wraps an accepted socket.
   *
   * @param id The connection's number.
   * @param client The accepted socket.
   */
  constructor(id: number, client: Deno.TcpConn) {
    this.id = id;
    this.#socket = this.#client = client;
    this.#clientAddress = client.remoteAddr;
    this.#localAddress = client.localAddr;
  }

  /** The client's side: the accepted socket, or what a layer put in its place (a TLS session). */
  get client(): ByteStream {
    return this.#client;
  }

  /** The accepted TCP socket itself, whatever {@linkcode Connection.prototype.client} now is. */
  get socket(): Deno.TcpConn {
    return this.#socket;
  }

  /** The client's address: the socket's peer, or what a trusted PROXY header carried. */
  get clientAddress(): Address {
    return this.#clientAddress;
  }

  /** The address the client connected to: the listener's, or the one a PROXY header carried. */
  get localAddress(): Address {
    return this.#localAddress;
  }

  /**
   * Puts another connection in place of the client's socket for the layers inside, such as the
   * plaintext side of a TLS session over it. Both are closed when the connection ends.
   *
   * @param client What the layers inside read from and write to.
   */
  replaceClient(client: ByteStream): void {
    this.#client = client;
    if (this.#closed) closeQuietly(client);
  }

  /**
   * Takes the addresses a trusted PROXY header carried as the client's own, for every layer after.
   *
   * @param source The client's address.
   * @param destination The address the client connected to.
   */
  proxied(source: Address, destination: Address): void {
    this.#clientAddress = source;
    this.#localAddress = destination;
    this.#clientKey = undefined;
  }

  /**
   * The client's address in the one form that layers count clients by ({@linkcode clientKey}):
   * worked out on first use, once for every layer that asks.
   */
  get clientKey(): string {
    return this.#clientKey ??= clientKey(this.clientAddress.hostname);
  }

  /** Aborted when the connection is ended early; its `reason` is the cause. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Resolves with the upstream's address once connected; stays pending if that never happens. */
  get connected(): Promise<Address> {
    if (this.upstreamAddress) return Promise.resolve(this.upstreamAddress);
    this.#connected ??= Promise.withResolvers();
    return this.#connected.promise;
  }

  /**
   * Ends the connection early: records `cause` if it is the first, aborts `signal` and closes
   * both sockets, cancelling any read, write or connect. Does nothing once it has ended.
   *
   * @param cause Why; a {@linkcode ConnectionError} gives the close reason.
   */
  abort(cause: unknown): void {
    if (this.#closed) return;
    this.#cause = cause;
    this.#abort.abort(cause);
    this.#close();
  }

  /**
   * Adds a {@linkcode SinkHook} to one direction, before the pipe starts (a layer calls it on the
   * way in). Hooks added first sit closest to the pipe: each wraps the sink of the ones after it.
   *
   * @param direction Which direction's bytes it sees.
   * @param hook Wraps that direction's sink.
   */
  intercept(direction: Direction, hook: SinkHook): void {
    if (direction === "up") (this.#upHooks ??= []).push(hook);
    else (this.#downHooks ??= []).push(hook);
  }

  /**
   * The sink a direction writes to: `socket` itself, or `socket` wrapped in the direction's hooks.
   *
   * @param direction Which direction.
   * @param socket What the direction writes to.
   * @returns What the pipe writes to.
   */
  sinkFor(direction: Direction, socket: Sink): Sink {
    const hooks = direction === "up" ? this.#upHooks : this.#downHooks;
    if (hooks === undefined) return socket;
    let sink = socket;
    for (let i = hooks.length - 1; i >= 0; i--) sink = hooks[i](sink, this);
    return sink;
  }

  /**
   * Hands over the connected upstream socket. If the connection was aborted meanwhile, the socket
   * is closed instead.
   *
   * @param upstream The connected socket.
   * @param address The upstream's address.
   * @returns Whether the connection is still going.
   */
  attach(upstream: ByteStream, address: Address): boolean {
    if (this.#closed) {
      upstream.close();
      return false;
    }
    this.upstream = upstream;
    this.upstreamAddress = address;
    this.#connected?.resolve(address);
    return true;
  }

  /**
   * Closes both sockets if still open and returns the report; only the first call decides it.
   *
   * @param cause Why, if the connection did not end on its own.
   * @returns The connection's report.
   */
  end(cause?: unknown): ConnectionReport {
    if (this.#report) return this.#report;
    this.#cause ??= cause;
    this.#close();
    const durationMs = Math.round(performance.now() - this.#startedAt);
    return this.#report = reportOf(this, durationMs, this.#cause);
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#client !== this.#socket) closeQuietly(this.#client);
    closeQuietly(this.#socket);
    if (this.upstream) closeQuietly(this.upstream);
  }
}
