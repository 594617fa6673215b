/**
 * The Timeout middleware: a deadline for connecting to an upstream, and a limit on how long a
 * connection may sit with nothing moving.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { formatDuration } from "../duration.ts";
import { ConnectionError, type ConnectionReport } from "../report.ts";
import type { Layer } from "../service.ts";
import { checkMs } from "../_util.ts";

/**
 * Ends a connection that found no upstream within the connect timeout (`connect_timeout`).
 *
 * @example Its reason and message
 * ```ts
 * import { ConnectTimeoutError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const error = new ConnectTimeoutError(5_000);
 * assert.equal(error.reason, "connect_timeout");
 * assert.equal(error.message, "No upstream accepted the connection within 5s");
 * ```
 */
export class ConnectTimeoutError extends ConnectionError {
  /**
   * @param ms The connect timeout that ran out, in milliseconds.
   */
  constructor(ms: number) {
    super("connect_timeout", `No upstream accepted the connection within ${formatDuration(ms)}`);
    this.name = "ConnectTimeoutError";
  }
}

/**
 * Ends a connection on which nothing moved for the idle timeout (`idle_timeout`).
 *
 * @example Its reason and message
 * ```ts
 * import { IdleTimeoutError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const error = new IdleTimeoutError(600_000);
 * assert.equal(error.reason, "idle_timeout");
 * assert.equal(error.message, "Nothing moved in either direction for 10m");
 * ```
 */
export class IdleTimeoutError extends ConnectionError {
  /**
   * @param ms The idle timeout that ran out, in milliseconds.
   */
  constructor(ms: number) {
    super("idle_timeout", `Nothing moved in either direction for ${formatDuration(ms)}`);
    this.name = "IdleTimeoutError";
  }
}

/**
 * Options for {@linkcode timeout}. Durations are in milliseconds; 0 turns a timeout off.
 *
 * @example A connect timeout without an idle timeout
 * ```ts
 * import { parseDuration, timeout, type TimeoutOptions } from "@minginx/minginx";
 *
 * const options: TimeoutOptions = { connect: parseDuration("2s"), idle: 0 };
 * const layer = timeout(options);
 * ```
 */
export interface TimeoutOptions {
  /**
   * Time allowed from accept until an upstream accepts, over all the candidates tried.
   *
   * @default {5000}
   */
  connect?: number;
  /**
   * Time with no byte forwarded in either direction after which the connection is closed. It is
   * checked at a tenth of its length, so a connection closes between 1x and 1.2x of it. It counts
   * from the upstream's connect, or from accept when there is no connect timeout: then the
   * service below may be one that answers by itself, such as an HTTP server.
   *
   * @default {600000}
   */
  idle?: number;
}

/**
 * The Timeout layer: ends a connection with a {@linkcode ConnectTimeoutError} when no upstream
 * accepts in time, and with an {@linkcode IdleTimeoutError} when nothing moves for too long.
 * It costs nothing per byte: the idle check reads the pipe's byte counters from a timer.
 *
 * @param options The two timeouts.
 * @returns The layer.
 * @throws {RangeError} If a timeout is negative, not a whole number, or longer than a timer can hold.
 *
 * @example Close connections that go quiet
 * ```ts
 * import { forward, serve, ServiceBuilder, timeout } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const service = new ServiceBuilder()
 *   .layer(timeout({ connect: 1_000, idle: 100 }))
 *   .service(forward({ upstreams: [upstream.addr] }));
 * await using proxy = serve({ listen: "127.0.0.1:0", service });
 *
 * using client = await Deno.connect(proxy.address);
 * using _accepted = await upstream.accept();
 * // Nothing is sent, so the proxy closes the connection: the client reads end of stream.
 * assert.equal(await client.read(new Uint8Array(1)), null);
 * ```
 */
export function timeout(options: TimeoutOptions = {}): Layer<Connection, ConnectionReport> {
  const connectMs = checkMs(options.connect ?? 5_000, "connect timeout");
  const idleMs = checkMs(options.idle ?? 600_000, "idle timeout");
  if (connectMs === 0 && idleMs === 0) return (inner) => inner;
  const connecting = connectMs > 0 ? new Sweeper(connectMs, connectExpired(connectMs)) : undefined;
  const idle = idleMs > 0 ? new Sweeper(idleMs, idleExpired(idleMs)) : undefined;
  return (inner) =>
    async function timeout(connection: Connection): Promise<ConnectionReport> {
      let done = false;
      if (!connecting) idle?.watch(connection, { since: performance.now(), moved: 0 });
      connecting?.watch(connection, { since: performance.now(), moved: 0 });
      connection.connected.then(() => {
        connecting?.unwatch(connection);
        if (!done) {
          idle?.watch(connection, { since: performance.now(), moved: movedOn(connection) });
        }
      });
      try {
        return await inner(connection);
      } finally {
        done = true;
        connecting?.unwatch(connection);
        idle?.unwatch(connection);
      }
    };
}

/** What a sweeper remembers of a connection: since when it has waited, and the bytes then. */
interface Watch {
  since: number;
  moved: number;
}

type Check = (connection: Connection, watch: Watch, now: number) => void;

function connectExpired(ms: number): Check {
  return (connection, watch, now) => {
    if (now - watch.since >= ms) connection.abort(new ConnectTimeoutError(ms));
  };
}

function idleExpired(ms: number): Check {
  return (connection, watch, now) => {
    const moved = movedOn(connection);
    if (moved !== watch.moved) {
      watch.moved = moved;
      watch.since = now;
    } else if (now - watch.since >= ms) {
      connection.abort(new IdleTimeoutError(ms));
    }
  };
}

function movedOn(connection: Connection): number {
  return connection.up.bytes + connection.down.bytes;
}

/**
 * Checks watched connections with one timer for all of them, ticking at a tenth of the timeout
 * while any is watched: a map entry per connection instead of a timer each, and nothing per byte.
 * A timeout therefore fires between 1x and 1.1x of its length (1.2x for idle, which first has to
 * see that nothing moved).
 */
class Sweeper {
  readonly #periodMs: number;
  readonly #check: Check;
  readonly #watched = new Map<Connection, Watch>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(timeoutMs: number, check: Check) {
    this.#periodMs = Math.max(1, Math.floor(timeoutMs / 10));
    this.#check = check;
  }

  watch(connection: Connection, watch: Watch): void {
    this.#watched.set(connection, watch);
    this.#timer ??= setInterval(() => this.#sweep(), this.#periodMs);
  }

  unwatch(connection: Connection): void {
    if (!this.#watched.delete(connection) || this.#watched.size > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = performance.now();
    for (const [connection, watch] of this.#watched) this.#check(connection, watch, now);
  }
}
