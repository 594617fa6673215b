/**
 * Listening: the accept loop, the set of open connections, and a shutdown that drains them.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type Address, formatAddress, parseAddress } from "./address.ts";
import { Connection } from "./connection.ts";
import { formatDuration } from "./duration.ts";
import { forward } from "./forward.ts";
import { accessLog } from "./middleware/access_log.ts";
import { timeout } from "./middleware/timeout.ts";
import { ConnectionError, type ConnectionReport } from "./report.ts";
import { type Service, ServiceBuilder } from "./service.ts";

/**
 * Options for {@linkcode serve}. Give either `service` or `upstreams`.
 *
 * @example The default stack in front of two upstreams
 * ```ts
 * import { serve, type ServeOptions } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const options: ServeOptions = {
 *   listen: "127.0.0.1:0",
 *   upstreams: ["127.0.0.1:8080", "127.0.0.1:8082"],
 *   drainTimeout: 2_000,
 * };
 * await using proxy = serve(options);
 * assert.equal(proxy.connections, 0);
 * ```
 */
export interface ServeOptions {
  /**
   * Where to accept connections, as an address or `HOST:PORT`; port 0 picks a free port.
   *
   * @default {"127.0.0.1:8081"}
   */
  listen?: string | Address;
  /** The service each accepted connection goes to, usually built with a `ServiceBuilder`. */
  service?: Service<Connection, ConnectionReport>;
  /**
   * Upstreams to forward to round-robin, with the default stack: `accessLog()`, then `timeout()`
   * with its defaults, then `forward()`. Ignored when `service` is given.
   */
  upstreams?: readonly (string | Address)[];
  /**
   * How long {@linkcode Server.prototype.shutdown} lets open connections finish, in milliseconds.
   *
   * @default {10000}
   */
  drainTimeout?: number;
  /** Aborting it shuts the server down, as {@linkcode Server.prototype.shutdown} does. */
  signal?: AbortSignal;
}

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
   * @param ms The drain period that ran out, in milliseconds.
   */
  constructor(ms: number) {
    super("shutdown", `The proxy shut down and its ${formatDuration(ms)} drain period ran out`);
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
 * A running proxy, returned by {@linkcode serve}.
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
  readonly #service: Service<Connection, ConnectionReport>;
  readonly #drainMs: number;
  readonly #open = new Set<Connection>();
  readonly #stopping = new AbortController();
  readonly #finished = Promise.withResolvers<void>();
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  #accepting = true;
  #lastId = 0;

  /** @internal Use {@linkcode serve}. */
  constructor(
    listener: Deno.TcpListener,
    service: Service<Connection, ConnectionReport>,
    drainMs: number,
  ) {
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

  /** How many connections are open now. */
  get connections(): number {
    return this.#open.size;
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
    let backoffMs = 0;
    while (!this.#stopping.signal.aborted) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
        backoffMs = 0;
      } catch (error) {
        if (this.#stopping.signal.aborted) return;
        if (CLIENT_GONE.some((type) => error instanceof type)) {
          log.debug("A client left before accept completed: {error}", { error: String(error) });
          continue;
        }
        backoffMs = Math.min(Math.max(backoffMs * 2, 10), 1_000);
        log.warning("Cannot accept on {address}: {error}; retrying in {backoffMs}ms", {
          address: formatAddress(this.address),
          error: String(error),
          backoffMs,
        });
        await sleep(backoffMs, this.#stopping.signal);
        continue;
      }
      this.#handle(client);
    }
  }

  #handle(client: Deno.TcpConn): void {
    const connection = new Connection(++this.#lastId, client);
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
    try {
      await this.#service(connection); // inside try: a layer may also throw before returning
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

/**
 * Starts a proxy: listens, and hands each accepted connection to the service. Returns at once;
 * the listener is bound when it returns.
 *
 * @param options Where to listen and what to do with connections.
 * @returns The running server; `await using` shuts it down at the end of the scope.
 * @throws {TypeError} If neither `service` nor `upstreams` is given, or an address is malformed.
 * @throws {Deno.errors.AddrInUse} If the address is taken; other listen errors pass through too,
 * with the address added to the message.
 *
 * @example Proxy to an upstream with the default stack
 * ```ts
 * import { serve } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * await using proxy = serve({ listen: "127.0.0.1:0", upstreams: [upstream.addr] });
 * assert.notEqual(proxy.address.port, 0);
 *
 * using client = await Deno.connect(proxy.address);
 * using accepted = await upstream.accept();
 * await accepted.write(new TextEncoder().encode("hi"));
 * const reply = new Uint8Array(2);
 * assert.equal(await client.read(reply), 2);
 * ```
 */
export function serve(options: ServeOptions): Server {
  const { listen = "127.0.0.1:8081", drainTimeout = 10_000, signal } = options;
  const address = typeof listen === "string"
    ? parseAddress(listen, { label: "listen address", allowPortZero: true })
    : listen;
  const service = options.service ?? defaultService(options.upstreams);
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: address.hostname, port: address.port });
  } catch (error) {
    throw withAddress(error, address);
  }
  const server = new Server(listener, service, drainTimeout);
  if (signal) {
    const stop = () => server.shutdown();
    if (signal.aborted) stop();
    signal.addEventListener("abort", stop, { once: true });
    server.finished.then(() => signal.removeEventListener("abort", stop));
  }
  return server;
}

function defaultService(
  upstreams: readonly (string | Address)[] | undefined,
): Service<Connection, ConnectionReport> {
  if (!upstreams?.length) {
    throw new TypeError("Cannot serve without a service or upstreams: expected one of them");
  }
  return new ServiceBuilder<Connection, ConnectionReport>()
    .layer(accessLog())
    .layer(timeout())
    .service(forward({ upstreams }));
}

function withAddress(error: unknown, address: Address): unknown {
  if (!(error instanceof Error) || error instanceof Deno.errors.NotCapable) return error;
  const detail = error instanceof Deno.errors.AddrInUse ? "address already in use" : error.message;
  const ErrorClass = error.constructor as new (message: string, options: ErrorOptions) => Error;
  return new ErrorClass(`Cannot listen on ${formatAddress(address)}: ${detail}`, { cause: error });
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
