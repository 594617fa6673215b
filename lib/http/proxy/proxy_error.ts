/**
 * Why the proxy answered a request itself: no route (404), no upstream that would answer (502),
 * or one too slow to (504).
 *
 * @module
 */

/**
 * The proxy's own answer to a request it could not pass on: the status and a sentence that says
 * why. It is what the client gets as a plain-text body, and what a logger sees.
 *
 * @example A request no route takes
 * ```ts
 * import { ProxyError } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * const error = new ProxyError(404, 'No route takes host "example.com" and path "/x"');
 * assert.equal(error.status, 404);
 * ```
 */
export class ProxyError extends Error {
  /** The status the client gets: 404, 502 or 504. */
  readonly status: number;

  /**
   * @param status The status the client gets.
   * @param message Why, as a sentence without a final period.
   * @param options The error behind it.
   */
  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProxyError";
    this.status = status;
  }
}
