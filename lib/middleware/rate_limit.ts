/**
 * The RateLimit middleware: how fast each client address may open new connections, as a token
 * bucket with a burst, like nginx's `limit_req` but for connections.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { ConnectionError, type ConnectionReport } from "../report.ts";
import type { Layer } from "../service.ts";
import { clientBuckets } from "../_rate_limit.ts";
import { formatRate } from "../rate.ts";

/**
 * Ends a connection whose client opened connections faster than its rate allows
 * (`rate_limited`).
 *
 * @example Its reason and message
 * ```ts
 * import { RateLimitedError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const error = new RateLimitedError("10.0.0.1", 20, 40);
 * assert.equal(error.reason, "rate_limited");
 * assert.equal(
 *   error.message,
 *   "Client 10.0.0.1 opened connections faster than 20/s with a burst of 40",
 * );
 * assert.equal(new RateLimitedError("::1", 0.5, 1).message.includes("30/m"), true);
 * ```
 */
export class RateLimitedError extends ConnectionError {
  /**
   * Creates the error for a client over its rate.
   *
   * @param client The client's address.
   * @param rate The rate it went over, in connections per second.
   * @param burst The burst it went over.
   */
  constructor(client: string, rate: number, burst: number) {
    super(
      "rate_limited",
      `Client ${client} opened connections faster than ${
        formatRate(rate)
      } with a burst of ${burst}`,
    );
    this.name = "RateLimitedError";
  }
}

/**
 * Options for {@linkcode rateLimit}.
 *
 * @example Twenty new connections a second per client, bursts of up to forty
 * ```ts
 * import { parseRate, rateLimit, type RateLimitOptions } from "@minginx/minginx";
 *
 * const options: RateLimitOptions = { rate: parseRate("20/s"), burst: 40 };
 * const layer = rateLimit(options);
 * ```
 */
export interface RateLimitOptions {
  /**
   * New connections (for the HTTP layer, requests) each client address may open per second, on
   * average: above 0.
   */
  rate: number;
  /**
   * How many new connections (or requests) a client may open at once after a quiet spell: a
   * whole number.
   *
   * @default {Math.max(1, Math.ceil(rate))}
   */
  burst?: number;
  /**
   * The most client addresses to remember at once, up to 2^24 (16,777,216). Past it the one seen
   * least recently is forgotten, and starts again with a full burst if it comes back.
   *
   * @default {100000}
   */
  maxClients?: number;
  /**
   * The clock, in milliseconds; tests inject their own.
   *
   * @default {performance.now}
   */
  now?: () => number;
}

/**
 * The RateLimit layer: lets each client address open `rate` new connections a second, with
 * bursts of up to `burst`, and ends a connection over that at once with a
 * {@linkcode RateLimitedError} (`rate_limited`), before any upstream is contacted. Open
 * connections are not limited; see the concurrency limit for that. An IPv4 client counts as one
 * whether written plain or IPv4-mapped. Memory stays bounded: see {@linkcode TokenBuckets}.
 * Each process or worker counts on its own.
 *
 * @param options The rate, the burst and how many clients to remember.
 * @returns The layer.
 * @throws {RangeError} If the rate is not a finite number above 0, the burst is not a whole
 * number of at least 1, or `maxClients` is not a whole number from 1 to 2^24 (16,777,216).
 *
 * @example One connection a minute per client
 * ```ts
 * import { forward, parseRate, rateLimit, serve, ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const service = new ServiceBuilder()
 *   .layer(rateLimit({ rate: parseRate("1/m"), burst: 1 }))
 *   .service(forward({ upstreams: [upstream.addr] }));
 * await using proxy = serve({ listen: "127.0.0.1:0", service });
 *
 * using _first = await Deno.connect(proxy.address);
 * using _accepted = await upstream.accept();
 * using second = await Deno.connect(proxy.address);
 * assert.equal(await second.read(new Uint8Array(1)), null); // closed at once, no upstream
 * ```
 */
export function rateLimit(options: RateLimitOptions): Layer<Connection, ConnectionReport> {
  const buckets = clientBuckets(options);
  return (inner) =>
    function rateLimit(connection: Connection): Promise<ConnectionReport> {
      const client = connection.clientKey;
      if (buckets.take(client)) return inner(connection);
      const error = new RateLimitedError(client, buckets.rate, buckets.burst);
      return Promise.resolve(connection.end(error));
    };
}
