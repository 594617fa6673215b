/**
 * The ConcurrencyLimit middleware: at most so many connections open at once, the next few
 * waiting their turn in a bounded queue, as HAProxy's `maxconn` with `timeout queue` does.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { formatDuration } from "../duration.ts";
import { checkMs, checkWhole } from "../_util.ts";
import { ConnectionError, type ConnectionReport } from "../report.ts";
import type { Layer } from "../service.ts";

/**
 * Ends a connection turned away by a concurrency limit (`over_limit`): the limit was reached and
 * the queue was full, the wait in the queue ran out, or its client already had its most allowed.
 * The message says which.
 *
 * @example Its reason and name
 * ```ts
 * import { OverLimitError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const error = new OverLimitError("100 connections are open and the queue of 50 is full");
 * assert.equal(error.reason, "over_limit");
 * assert.equal(error.name, "OverLimitError");
 * ```
 */
export class OverLimitError extends ConnectionError {
  /**
   * @param message Which limit was reached, with its numbers.
   */
  constructor(message: string) {
    super("over_limit", message);
    this.name = "OverLimitError";
  }
}

/**
 * Options for {@linkcode concurrencyLimit}.
 *
 * @example Fifty at once, ten more waiting for up to two seconds
 * ```ts
 * import { concurrencyLimit, type ConcurrencyLimitOptions, parseDuration } from "@minginx/minginx";
 *
 * const options: ConcurrencyLimitOptions = { max: 50, queue: 10, queueTimeout: parseDuration("2s") };
 * const layer = concurrencyLimit(options);
 * ```
 */
export interface ConcurrencyLimitOptions {
  /** The most connections open at once, past this layer. */
  max: number;
  /**
   * How many connections may wait for a slot once `max` are open; a connection that finds the
   * queue full is closed at once. 0 closes every connection over `max` at once.
   *
   * @default {0}
   */
  queue?: number;
  /**
   * How long a connection may wait in the queue, in milliseconds, before it is closed; 0 lets
   * it wait until a slot frees. The default matches the default connect timeout, as HAProxy's
   * `timeout queue` falls back to `timeout connect`: a client kept waiting much longer has most
   * likely given up already.
   *
   * @default {5000}
   */
  queueTimeout?: number;
}

/**
 * A {@linkcode concurrencyLimit} layer, with counters to watch it by.
 *
 * @example Reading the counters
 * ```ts
 * import { type ConcurrencyLimit, concurrencyLimit } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const limit: ConcurrencyLimit = concurrencyLimit({ max: 10, queue: 5 });
 * assert.equal(limit.open, 0);
 * assert.equal(limit.queued, 0);
 * ```
 */
export interface ConcurrencyLimit extends Layer<Connection, ConnectionReport> {
  /** How many connections hold a slot now. */
  readonly open: number;
  /** How many connections wait in the queue now. */
  readonly queued: number;
}

type Outcome = "granted" | "timeout" | "aborted";

/**
 * The ConcurrencyLimit layer: lets at most `max` connections into the inner service at once.
 * The next `queue` wait first in, first out; when a connection inside ends, however it ends, its
 * slot goes straight to the oldest waiter, so a newcomer never jumps the queue. A connection that
 * finds the queue full, or waits longer than `queueTimeout`, is closed with an
 * {@linkcode OverLimitError}. One that is aborted while it waits (say, by a shutdown) leaves the
 * queue and ends with that cause instead.
 *
 * The slots belong to the layer: every service it wraps shares them. Put it before `timeout()`
 * in a stack, so that the wait in the queue does not count against the connect timeout.
 *
 * @param options The limit and its queue.
 * @returns The layer, with its counters.
 * @throws {RangeError} If `max` is not a whole number of at least 1, `queue` not a whole number
 * of at least 0, or `queueTimeout` not whole milliseconds a timer can hold.
 *
 * @example One connection at a time, nobody waits
 * ```ts
 * import { concurrencyLimit, forward, serve, ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const limit = concurrencyLimit({ max: 1 });
 * const service = new ServiceBuilder()
 *   .layer(limit)
 *   .service(forward({ upstreams: [upstream.addr] }));
 * await using proxy = serve({ listen: "127.0.0.1:0", service });
 *
 * using first = await Deno.connect(proxy.address);
 * using _accepted = await upstream.accept(); // the first one is through
 * using second = await Deno.connect(proxy.address);
 * assert.equal(await second.read(new Uint8Array(1)), null); // closed: over_limit
 * assert.equal(limit.open, 1);
 * ```
 */
export function concurrencyLimit(options: ConcurrencyLimitOptions): ConcurrencyLimit {
  const max = checkWhole(options.max, "max", 1, " of connections");
  const queueSize = checkWhole(options.queue ?? 0, "queue", 0, " of connections");
  const queueMs = checkMs(options.queueTimeout ?? 5_000, "queue timeout");
  // A Set keeps insertion order, so its first entry is the oldest waiter, and a waiter that
  // gives up deletes itself in O(1).
  const waiting = new Set<() => void>();
  let open = 0;

  function release(): void {
    const oldest = waiting.values().next();
    if (oldest.done) open--;
    else oldest.value(); // the slot passes on: `open` stays the same
  }

  function wait(signal: AbortSignal): Promise<Outcome> {
    if (signal.aborted) return Promise.resolve("aborted");
    return new Promise((resolve) => {
      const grant = () => settle("granted");
      const abandon = () => settle("aborted");
      const timer = queueMs > 0 ? setTimeout(() => settle("timeout"), queueMs) : undefined;
      function settle(outcome: Outcome): void {
        waiting.delete(grant);
        clearTimeout(timer);
        signal.removeEventListener("abort", abandon);
        resolve(outcome);
      }
      signal.addEventListener("abort", abandon, { once: true });
      waiting.add(grant);
    });
  }

  const layer: Layer<Connection, ConnectionReport> = (inner) =>
    async function concurrencyLimit(connection: Connection): Promise<ConnectionReport> {
      if (open < max) {
        open++; // no one waits while a slot is free, so taking it jumps no queue
      } else if (waiting.size >= queueSize) {
        return connection.end(new OverLimitError(queueFullMessage(open, queueSize)));
      } else {
        const outcome = await wait(connection.signal);
        if (outcome === "aborted") return connection.end();
        if (outcome === "timeout") {
          return connection.end(new OverLimitError(waitedOutMessage(queueMs, open)));
        }
      }
      try {
        return await inner(connection);
      } finally {
        release();
      }
    };
  return Object.defineProperties(layer, {
    open: { get: () => open },
    queued: { get: () => waiting.size },
  }) as ConcurrencyLimit;
}

function queueFullMessage(open: number, queue: number): string {
  const are = open === 1 ? "connection is" : "connections are";
  if (queue === 0) return `${open} ${are} open, the most allowed`;
  return `${open} ${are} open and the queue of ${queue} is full`;
}

function waitedOutMessage(ms: number, open: number): string {
  return `No connection slot freed within ${formatDuration(ms)} (${open} open)`;
}
