/**
 * What the two rate limit layers (the TCP one, for new connections, and the HTTP one, for
 * requests) share: a token bucket per client address, and the rate as operators write it.
 *
 * @module
 */

import type { RateLimitOptions } from "./middleware/rate_limit.ts";
import { TokenBuckets } from "./token_bucket.ts";

/**
 * The buckets a rate limit layer counts clients in, one per client address.
 *
 * @param options The rate, the burst, how many clients to remember, and the clock.
 * @returns The buckets.
 * @throws {RangeError} If the rate is not a finite number above 0, the burst is not a whole
 * number of at least 1, or `maxClients` is not a whole number from 1 to 2^24 (16,777,216).
 *
 * @example Two at once, then none for a while
 * ```ts
 * import { clientBuckets } from "./_rate_limit.ts";
 * import assert from "node:assert/strict";
 *
 * const buckets = clientBuckets({ rate: 1 / 60, burst: 2 });
 * assert.deepEqual([1, 2, 3].map(() => buckets.take("10.0.0.1")), [true, true, false]);
 * assert.throws(() => clientBuckets({ rate: 1, maxClients: 0 }), {
 *   name: "RangeError",
 *   message: "Cannot use maxClients 0: expected a whole number from 1 to 16777216",
 * });
 * ```
 */
export function clientBuckets(options: RateLimitOptions): TokenBuckets {
  const { rate, burst, maxClients = 100_000, now } = options;
  const most = TokenBuckets.MAX_KEYS;
  if (!Number.isInteger(maxClients) || maxClients < 1 || maxClients > most) {
    throw new RangeError(
      `Cannot use maxClients ${maxClients}: expected a whole number from 1 to ${most}`,
    );
  }
  return new TokenBuckets({ rate, burst, maxKeys: maxClients, now });
}
