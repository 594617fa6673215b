/**
 * The limits of minginx's HTTP/1.1 server, and the error for a head that took too long.
 *
 * @module
 */

import { formatDuration } from "../../duration.ts";
import { ConnectionError } from "../../report.ts";
import { checkMs, checkWhole } from "../../_util.ts";

/**
 * Options for {@linkcode httpServer}: what a client may send, and how long it may take.
 *
 * @example Small heads, 10 MiB bodies and a 10 s head timeout
 * ```ts
 * import type { HttpServerOptions } from "@minginx/minginx/http";
 *
 * const options: HttpServerOptions = {
 *   maxHeaderBytes: 8192,
 *   maxBodyBytes: 10 * 1024 * 1024,
 *   headerTimeout: 10_000,
 * };
 * ```
 */
export interface HttpServerOptions {
  /** The most bytes a request head may take, request line included; more gets 431. @default {32768} */
  maxHeaderBytes?: number;
  /** The most bytes a request body may take; more gets 413. @default {Infinity} (no limit) */
  maxBodyBytes?: number;
  /**
   * Milliseconds a new connection has to send its first request head; a head still incomplete
   * then gets 408. A connection that sent nothing is closed without an answer.
   *
   * @default {30000}
   */
  headerTimeout?: number;
  /**
   * Milliseconds a connection may wait between requests before it is closed; a head started but
   * not finished by then gets 408.
   *
   * @default {60000}
   */
  keepAliveTimeout?: number;
  /** The most requests one connection may carry before the server closes it. @default {1000} */
  maxRequests?: number;
}

/** {@linkcode HttpServerOptions} with the defaults filled in and checked. */
export type HttpLimits = Required<HttpServerOptions>;

/** The options with their defaults, checked. */
export function limitsOf(options: HttpServerOptions): HttpLimits {
  const {
    maxHeaderBytes = 32 * 1024,
    maxBodyBytes = Infinity,
    headerTimeout = 30_000,
    keepAliveTimeout = 60_000,
    maxRequests = 1000,
  } = options;
  checkWhole(maxHeaderBytes, "max header bytes", 256);
  if (maxBodyBytes !== Infinity) checkWhole(maxBodyBytes, "max body bytes", 0);
  return {
    maxHeaderBytes,
    maxBodyBytes,
    headerTimeout: checkMs(headerTimeout, "header timeout"),
    keepAliveTimeout: checkMs(keepAliveTimeout, "keep-alive timeout"),
    maxRequests: checkWhole(maxRequests, "max requests", 1),
  };
}

/**
 * Ends a connection whose client did not finish a request head in time (`idle_timeout`): it got
 * 408 if it had started one.
 *
 * @example Its reason and messages
 * ```ts
 * import { HeaderTimeoutError } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * assert.equal(new HeaderTimeoutError(10_000, true).message, "No whole request head within 10s");
 * assert.equal(new HeaderTimeoutError(60_000, false).reason, "idle_timeout");
 * ```
 */
export class HeaderTimeoutError extends ConnectionError {
  /**
   * @param ms The timeout that ran out.
   * @param partial Whether the client had started a head.
   */
  constructor(ms: number, partial: boolean) {
    super(
      "idle_timeout",
      partial
        ? `No whole request head within ${formatDuration(ms)}`
        : `No request within ${formatDuration(ms)}`,
    );
    this.name = "HeaderTimeoutError";
  }
}
