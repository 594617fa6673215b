/**
 * A listening server: the accept loop, the set of open connections, and a shutdown that drains
 * them. `serve()` creates one.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type Address, formatAddress } from "./address.ts";
import { Connection } from "./connection.ts";
import { formatDuration } from "./duration.ts";
import { ConnectionError, type ConnectionReport } from "./report.ts";
import type { Service } from "./service.ts";

/**
 * Ends connections still open when the drain period of a shutdown runs out (`shutdown`).
 *
 * @example The reason and message of a drain that ran out
 * ```ts
 * import { ShutdownError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const error = new ShutdownError(10_000);
 * assert.equal(error.reason, "shutdown");
 * assert.equal(error.message, "The proxy shut down and its 10s drain period ran out");
 * ```
 */
export class ShutdownError extends ConnectionError {
  /**
   * @param ms The drain period that ran out, in milliseconds; 0 if there was none.
   */
  constructor(ms: number) {
    super(
      "shutdown",
      ms === 0
        ? "The proxy shut down and closed it at once"
        : `The proxy shut down and its ${formatDuration(ms)} drain period ran out`,
    );
    this.name = "ShutdownError";
  }
}

const log = getLogger(["minginx", "server"]);

// Accept errors that concern one client that is already gone, not the listener.
const CLIENT_GONE = [
  Deno.errors.NotConnected,
  Deno.errors.ConnectionReset,
  Deno.errors.ConnectionAborted,
];

/**
 * A running proxy, returned by `serve()`.
 *
 * @example Stop a server and wait for it
 * ```ts
 * import { serve } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const server = serve({ listen: "127.0.0.1:0", upstreams: ["127.0.0.1:8080"] });
 * assert.ok(server.address.port > 0);
 * await server.shutdown(1_000); // no connections are open, so this returns at once
 * await server.finished;
 * ```
 */
export class Server implements AsyncDisposable {
  /** The address the server listens on, with the real port when port 0 was asked for. */
  readonly address: Address;
  readonly #listener: Deno.TcpListener;
  #service: Service<Connection, ConnectionReport>;
  readonly #drainMs: number;
  readonly #open = new Set<Connection>();
  readonly #stopping = new AbortController();
  readonly #finished = Promise.withResolvers<void>();
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  #accepting = true;
  readonly #firstId: number;
  readonly #idStep: number;
  #nextId: number;

  /** @internal Use `serve()`. */
  constructor(
    listener: Deno.TcpListener,
    service: Service<Connection, ConnectionReport>,
    drainMs: number,
    ids: { first: number; step: number } = { first: 1, step: 1 },
  ) {
    this.#firstId = this.#nextId = ids.first;
    this.#idStep = ids.step;
    this.#listener = listener;
    this.#service = service;
    this.#drainMs = drainMs;
    this.address = { hostname: listener.addr.hostname, port: listener.addr.port };
    this.#acceptLoop().finally(() => {
      this.#accepting = false;
      this.#settle();
    });
  }

  /** Settles once the server has stopped listening and every connection has ended. */
  get finished(): Promise<void> {
    return this.#finished.promise;
  }

  /** How many connections have been accepted so far. */
  get accepted(): number {
    return (this.#nextId - this.#firstId) / this.#idStep;
  }

  /** How many connections are open now. */
  get connections(): number {
    return this.#open.size;
  }

  /**
   * Hands new connections to `service` from now on; the listener stays as it is, so no connection
   * is refused, and connections already accepted stay with the service they started with. This is
   * what a reload does to a listener that stays.
   *
   * @param service The service for new connections.
   *
   * @example Switch upstreams without closing the listener
   * ```ts
   * import { forward, serve } from "@minginx/minginx";
   * import assert from "node:assert/strict";
   *
   * using first = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * using second = Deno.listen({ hostname: "127.0.0.1", port: 0 });
   * await using proxy = serve({ listen: "127.0.0.1:0", service: forward({ upstreams: [first.addr] }) });
   * proxy.replaceService(forward({ upstreams: [second.addr] }));
   * using _client = await Deno.connect(proxy.address);
   * using accepted = await second.accept();
   * assert.equal(accepted.localAddr.port, second.addr.port);
   * ```
   */
  replaceService(service: Service<Connection, ConnectionReport>): void {
    this.#service = service;
  }

  /**
   * Stops accepting, lets open connections finish for up to `drainTimeout` milliseconds, then
   * closes the rest with reason `shutdown`. Calling it again with a shorter timeout shortens the
   * wait; `shutdown(0)` closes everything at once.
   *
   * @param drainTimeout How long open connections may take, in milliseconds.
   * @returns The {@linkcode Server.prototype.finished} promise.
   */
  shutdown(drainTimeout: number = this.#drainMs): Promise<void> {
    if (!this.#stopping.signal.aborted) {
      this.#stopping.abort();
      this.#listener.close();
    }
    this.#timers.push(setTimeout(() => {
      for (const connection of this.#open) connection.abort(new ShutdownError(drainTimeout));
    }, drainTimeout));
    this.#settle();
    return this.finished;
  }

  /** Shuts down with the default drain timeout and waits until done. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  async #acceptLoop(): Promise<void> {
    // After a failed accept (out of descriptors, most often) the loop waits before the next, and
    // the wait doubles up to a second while failures keep coming. One success does not end it: a
    // client accepted while descriptors are short frees one as it fails, and the next accept
    // would fail again at once. The wait ends after a second without failures. The warning is
    // logged at most once a second, with how many failures it stands for.
    let backoffMs = 0;
    let failedAt = -Infinity;
    let loggedAt = -Infinity;
    let unlogged = 0;
    while (!this.#stopping.signal.aborted) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
        if (backoffMs > 0 && performance.now() - failedAt > 1_000) backoffMs = 0;
      } catch (error) {
        if (this.#stopping.signal.aborted) return;
        if (CLIENT_GONE.some((type) => error instanceof type)) {
          log.debug("A client left before accept completed: {error}", { error: String(error) });
          continue;
        }
        failedAt = performance.now();
        backoffMs = Math.min(Math.max(backoffMs * 2, 10), 1_000);
        if (failedAt - loggedAt >= 1_000) {
          log.warning("Cannot accept on {address}: {error}; retrying in {backoffMs}ms{more}", {
            address: formatAddress(this.address),
            error: String(error),
            backoffMs,
            more: unlogged === 0 ? "" : ` (${unlogged} more failures since the last line)`,
          });
          loggedAt = failedAt;
          unlogged = 0;
        } else unlogged++;
        await sleep(backoffMs, this.#stopping.signal);
        continue;
      }
      this.#handle(client);
    }
  }

  #handle(client: Deno.TcpConn): void {
    const connection = new Connection(this.#nextId, client);
    this.#nextId += this.#idStep;
    connection.draining = this.#stopping.signal;
    this.#open.add(connection);
    try {
      client.setNoDelay(true);
    } catch (error) {
      connection.abort(new ConnectionError("client_reset", String(error), { cause: error }));
    }
    this.#run(connection).finally(() => {
      this.#open.delete(connection);
      this.#settle();
    });
  }

  async #run(connection: Connection): Promise<void> {
    const service = this.#service; // a reload meanwhile does not move this connection
    try {
      await service(connection); // inside try: a layer may also throw before returning
    } catch (error) {
      log.error("Connection {id} failed in a layer: {error}", { id: connection.id, error });
      connection.end(error);
    }
    connection.end();
  }

  #settle(): void {
    if (this.#accepting || this.#open.size > 0 || !this.#stopping.signal.aborted) return;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#finished.resolve();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
