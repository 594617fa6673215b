/**
 * The per-client ConcurrencyLimit middleware: at most so many connections open at once from one
 * client address, like nginx's `limit_conn` keyed on `$binary_remote_addr`.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import type { ConnectionReport } from "../report.ts";
import type { Layer } from "../service.ts";
import { OverLimitError } from "./concurrency_limit.ts";
import { checkWhole } from "../_util.ts";

/**
 * Options for {@linkcode concurrencyLimitPerClient}.
 *
 * @example Ten connections per client address
 * ```ts
 * import {
 *   concurrencyLimitPerClient,
 *   type ConcurrencyLimitPerClientOptions,
 * } from "@minginx/minginx";
 *
 * const options: ConcurrencyLimitPerClientOptions = { max: 10 };
 * const layer = concurrencyLimitPerClient(options);
 * ```
 */
export interface ConcurrencyLimitPerClientOptions {
  /** The most connections one client address may have open at once, past this layer. */
  max: number;
}

/**
 * A {@linkcode concurrencyLimitPerClient} layer, with a counter to watch it by.
 *
 * @example Reading the counter
 * ```ts
 * import { type ConcurrencyLimitPerClient, concurrencyLimitPerClient } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const limit: ConcurrencyLimitPerClient = concurrencyLimitPerClient({ max: 10 });
 * assert.equal(limit.clients, 0);
 * ```
 */
export interface ConcurrencyLimitPerClient extends Layer<Connection, ConnectionReport> {
  /** How many client addresses have a connection open now: the entries the layer keeps. */
  readonly clients: number;
}

/**
 * The per-client ConcurrencyLimit layer: lets at most `max` connections from one client address
 * into the inner service at once, and closes the next at once with an {@linkcode OverLimitError}
 * (there is no queue, as with nginx's `limit_conn`: the client is the one to slow down). An IPv4
 * client counts the same whether it arrives as `10.0.0.1` or `::ffff:10.0.0.1`. The layer keeps
 * an entry only for addresses with a connection open, so its memory follows the open connections.
 *
 * The counts belong to the layer: every service it wraps shares them. Put it before
 * `concurrencyLimit()` in a stack, so that a client over its own limit takes no place in the queue.
 *
 * @param options The limit per client.
 * @returns The layer, with its counter.
 * @throws {RangeError} If `max` is not a whole number of at least 1.
 *
 * @example One connection per client address
 * ```ts
 * import { concurrencyLimitPerClient, forward, serve, ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const limit = concurrencyLimitPerClient({ max: 1 });
 * const service = new ServiceBuilder()
 *   .layer(limit)
 *   .service(forward({ upstreams: [upstream.addr] }));
 * await using proxy = serve({ listen: "127.0.0.1:0", service });
 *
 * using _first = await Deno.connect(proxy.address);
 * using _accepted = await upstream.accept(); // the first one is through
 * using second = await Deno.connect(proxy.address); // from 127.0.0.1 too
 * assert.equal(await second.read(new Uint8Array(1)), null); // closed: over_limit
 * assert.equal(limit.clients, 1);
 * ```
 */
export function concurrencyLimitPerClient(
  options: ConcurrencyLimitPerClientOptions,
): ConcurrencyLimitPerClient {
  const max = checkWhole(options.max, "max", 1, " of connections per client");
  const counts = new Map<string, number>();
  const layer: Layer<Connection, ConnectionReport> = (inner) =>
    async function concurrencyLimitPerClient(connection: Connection): Promise<ConnectionReport> {
      const key = connection.clientKey;
      const count = counts.get(key) ?? 0;
      if (count >= max) {
        const open = max === 1 ? "1 connection" : `${max} connections`;
        const message = `Client ${key} already has ${open} open, the most allowed`;
        return connection.end(new OverLimitError(message));
      }
      counts.set(key, count + 1);
      try {
        return await inner(connection);
      } finally {
        const left = counts.get(key)! - 1;
        if (left === 0) counts.delete(key);
        else counts.set(key, left);
      }
    };
  return Object.defineProperty(layer, "clients", {
    get: () => counts.size,
  }) as ConcurrencyLimitPerClient;
}
