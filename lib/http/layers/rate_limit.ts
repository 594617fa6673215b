/**
 * The HTTP RateLimit middleware: how fast each client address may send requests, as a token
 * bucket with a burst, like nginx's `limit_req`. It counts with the same buckets as the TCP
 * layer.
 *
 * @module
 */

import type { RateLimitOptions } from "../../middleware/rate_limit.ts";
import { clientBuckets } from "../../_rate_limit.ts";
import { formatRate } from "../../rate.ts";
import { requestInfo } from "../request_info.ts";
import type { HttpLayer } from "../service.ts";
import { refusal } from "../_response.ts";

export type { RateLimitOptions } from "../../middleware/rate_limit.ts";

/**
 * Why {@linkcode rateLimit} answered 429: the client sent requests faster than its rate.
 *
 * @example Its status, message and wait
 * ```ts
 * import { TooManyRequestsError } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * const error = new TooManyRequestsError("10.0.0.1", 20, 40, 1);
 * assert.equal(error.status, 429);
 * assert.equal(error.retryAfter, 1);
 * assert.equal(
 *   error.message,
 *   "Client 10.0.0.1 sent requests faster than 20/s with a burst of 40",
 * );
 * ```
 */
export class TooManyRequestsError extends Error {
  /** The status the client gets. */
  readonly status = 429;
  /** The client's address, as the limit counts it. */
  readonly client: string;
  /** Whole seconds until the client may send again, at least 1: its `Retry-After`. */
  readonly retryAfter: number;

  /**
   * Creates the error for a client over its rate.
   *
   * @param client The client's address.
   * @param rate The rate it went over, in requests per second.
   * @param burst The burst it went over.
   * @param retryAfter Whole seconds until it may send again.
   */
  constructor(client: string, rate: number, burst: number, retryAfter: number) {
    super(
      `Client ${client} sent requests faster than ${formatRate(rate)} with a burst of ${burst}`,
    );
    this.name = "TooManyRequestsError";
    this.client = client;
    this.retryAfter = retryAfter;
  }
}

/**
 * The HTTP RateLimit layer: lets each client address (`requestInfo(request).clientKey`) send
 * `rate` requests a second, with bursts of up to `burst`, and answers a request over that at once
 * with 429, a line saying so, and a `Retry-After` of the whole seconds (at least 1) until the
 * client's next token, without calling the inner service. Memory stays bounded, as with the TCP
 * layer: see `TokenBuckets`. Each process or worker counts on its own.
 *
 * @param options The rate, the burst and how many clients to remember.
 * @returns The layer.
 * @throws {RangeError} If the rate is not a finite number above 0, the burst is not a whole
 * number of at least 1, or `maxClients` is not a whole number from 1 to 2^24 (16,777,216).
 *
 * @example One request a minute per client
 * ```ts
 * import { rateLimit, serviceFn, toHandler } from "@minginx/minginx/http";
 * import { parseRate, ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const service = new ServiceBuilder<Request, Response>()
 *   .layer(rateLimit({ rate: parseRate("1/m"), burst: 1 }))
 *   .service(serviceFn(() => new Response("hello")));
 * await using server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *   toHandler(service),
 * );
 * const url = `http://127.0.0.1:${server.addr.port}/`;
 * assert.equal(await (await fetch(url)).text(), "hello");
 * const second = await fetch(url);
 * assert.equal(second.status, 429);
 * assert.equal(second.headers.get("retry-after"), "60");
 * assert.equal(
 *   await second.text(),
 *   "Client 127.0.0.1 sent requests faster than 1/m with a burst of 1\n",
 * );
 * ```
 */
export function rateLimit(options: RateLimitOptions): HttpLayer {
  const buckets = clientBuckets(options);
  return (inner) =>
    function rateLimit(request: Request): Promise<Response> {
      const info = requestInfo(request);
      const client = info.clientKey;
      if (buckets.take(client)) return inner(request);
      // Short of a whole token: the wait until the bucket holds one again.
      const seconds = (1 - buckets.tokens(client)) / buckets.rate;
      const retryAfter = Math.max(1, Math.ceil(seconds));
      const error = new TooManyRequestsError(client, buckets.rate, buckets.burst, retryAfter);
      const headers = { "retry-after": String(retryAfter) };
      return Promise.resolve(refusal(info, error, headers));
    };
}
