/**
 * The HTTP Timeout middleware: a deadline for the inner service's response, after which the
 * client gets a 504 and the inner work is cancelled.
 *
 * @module
 */

import { formatDuration } from "../../duration.ts";
import { checkMs } from "../../_util.ts";
import { requestInfo } from "../request_info.ts";
import type { HttpLayer } from "../service.ts";
import { textResponse } from "../_response.ts";
import { discardResponse } from "../h1/upgrade.ts";
import { Sweeper, type Timed } from "../../_sweeper.ts";

/**
 * Why {@linkcode timeout} answered 504: the inner service had no response within the time. The
 * layer aborts the request's signal with it, so an upstream request in flight learns why.
 *
 * @example Its status and message
 * ```ts
 * import { GatewayTimeoutError } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * const error = new GatewayTimeoutError(5_000);
 * assert.equal(error.status, 504);
 * assert.equal(error.ms, 5_000);
 * assert.equal(error.message, "The upstream did not answer within 5s");
 * ```
 */
export class GatewayTimeoutError extends Error {
  /** The status the client gets. */
  readonly status = 504;
  /** The timeout that ran out, in milliseconds. */
  readonly ms: number;

  /**
   * Creates the error for a timeout that ran out.
   *
   * @param ms The timeout that ran out, in milliseconds.
   */
  constructor(ms: number) {
    super(`The upstream did not answer within ${formatDuration(ms)}`);
    this.name = "GatewayTimeoutError";
    this.ms = ms;
  }
}

/**
 * Options for {@linkcode timeout}.
 *
 * @example Five seconds
 * ```ts
 * import { timeout, type TimeoutOptions } from "@minginx/minginx/http";
 *
 * const options: TimeoutOptions = { ms: 5_000 };
 * const layer = timeout(options);
 * ```
 */
export interface TimeoutOptions {
  /** How long the inner service has to produce a response, in milliseconds; 0 turns it off. */
  ms: number;
}

/**
 * The HTTP Timeout layer: if the inner service has not produced a response within `ms`, answers
 * 504 with a line saying so, and aborts `requestInfo(request).signal` with a
 * {@linkcode GatewayTimeoutError} so that the inner work (such as an upstream request) is
 * cancelled. A response that comes later has its body cancelled, and a later rejection is
 * dropped. The time covers the response's head only: a body that is slow to stream is not cut.
 *
 * @param options The timeout in milliseconds, or `{ ms }`; 0 turns it off.
 * @returns The layer.
 * @throws {RangeError} If the timeout is negative, not a whole number, or longer than a timer
 * can hold.
 *
 * @example A slow handler gets cut off
 * ```ts
 * import { requestInfo, serviceFn, timeout, toHandler } from "@minginx/minginx/http";
 * import { ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const service = new ServiceBuilder<Request, Response>()
 *   .layer(timeout(50))
 *   .service(serviceFn((request) =>
 *     new Promise((resolve) => {
 *       const signal = requestInfo(request).signal; // aborts at the timeout
 *       signal.addEventListener("abort", () => resolve(new Response("too late")));
 *     })
 *   ));
 * await using server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *   toHandler(service),
 * );
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assert.equal(response.status, 504);
 * assert.equal(await response.text(), "The upstream did not answer within 50ms\n");
 * ```
 */
export function timeout(options: number | TimeoutOptions): HttpLayer {
  const ms = checkMs(typeof options === "number" ? options : options?.ms, "timeout");
  if (ms === 0) return (inner) => inner;
  const sweeper = new Sweeper(ms); // one interval timer for every request in flight, not one each
  return (inner) =>
    function timeout(request: Request): Promise<Response> {
      const info = requestInfo(request);
      return new Promise<Response>((resolve, reject) => {
        let late = false;
        const timer: Timed = {
          expires: 0,
          fire: () => {
            late = true;
            const error = new GatewayTimeoutError(ms);
            info.abort(error);
            resolve(textResponse(error.status, error.message));
          },
        };
        sweeper.add(timer);
        const answered = (response: Response) => {
          if (late) return discardResponse(response);
          sweeper.delete(timer);
          resolve(response);
        };
        const failed = (error: unknown) => {
          if (late) return;
          sweeper.delete(timer);
          reject(error);
        };
        try {
          inner(request).then(answered, failed);
        } catch (error) {
          failed(error);
        }
      });
    };
}
