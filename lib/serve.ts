/**
 * Listening: the options a proxy starts with, and {@linkcode serve}, which binds the listener and
 * starts a {@linkcode Server} on it.
 *
 * @module
 */

import { type Address, formatAddress, parseAddress } from "./address.ts";
import type { Connection } from "./connection.ts";
import { forward } from "./forward.ts";
import { accessLog } from "./middleware/access_log.ts";
import { timeout } from "./middleware/timeout.ts";
import type { ConnectionReport } from "./report.ts";
import { Server } from "./server.ts";
import { withContext } from "./_util.ts";
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
  /**
   * Share the port with other listeners that set it too (SO_REUSEPORT): the kernel spreads new
   * connections over them. Needs Deno's `--unstable-net` flag.
   *
   * @default {false}
   */
  reusePort?: boolean;
  /**
   * How connections are numbered: `first`, then every `step`. Servers sharing a port with
   * `reusePort` can take first = 1, 2, ... N and step = N, so that no two connections share a number.
   *
   * @default {{ first: 1, step: 1 }}
   */
  connectionIds?: { first: number; step: number };
}

/**
 * Starts a proxy: listens, and hands each accepted connection to the service. Returns at once;
 * the listener is bound when it returns.
 *
 * @param options Where to listen and what to do with connections.
 * @returns The running server; `await using` shuts it down at the end of the scope.
 * @throws {TypeError} If neither `service` nor `upstreams` is given, or an address is malformed.
 * @throws {RangeError} If `connectionIds` are not whole numbers of at least 1.
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
  const { listen = "127.0.0.1:8081", drainTimeout = 10_000, signal, reusePort = false } = options;
  const address = typeof listen === "string"
    ? parseAddress(listen, { label: "listen address", allowPortZero: true })
    : listen;
  const service = options.service ?? defaultService(options.upstreams);
  const ids = checkIds(options.connectionIds);
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen({ hostname: address.hostname, port: address.port, reusePort });
  } catch (error) {
    throw withAddress(error, address);
  }
  const server = new Server(listener, service, drainTimeout, ids);
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

function checkIds(ids: ServeOptions["connectionIds"]): { first: number; step: number } {
  if (ids === undefined) return { first: 1, step: 1 };
  const { first, step } = ids;
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(step) || first < 1 || step < 1) {
    throw new RangeError(
      `Cannot number connections from ${first} by ${step}: expected whole numbers, at least 1`,
    );
  }
  return ids;
}

function withAddress(error: unknown, address: Address): unknown {
  const inUse = error instanceof Deno.errors.AddrInUse ? "address already in use" : undefined;
  return withContext(error, `Cannot listen on ${formatAddress(address)}`, inUse);
}
