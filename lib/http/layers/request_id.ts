/**
 * The HTTP RequestId middleware: every request carries an id, the client's own if it sent a
 * usable one, that inner services, upstreams and the client all see.
 *
 * @module
 */

import type { HttpLayer } from "../service.ts";
import { withHeaders } from "../_response.ts";

/**
 * Options for {@linkcode requestId}.
 *
 * @example A header of your own, and shorter ids
 * ```ts
 * import { requestId, type RequestIdOptions } from "@minginx/minginx/http";
 *
 * const options: RequestIdOptions = {
 *   header: "x-correlation-id",
 *   generate: () => crypto.randomUUID().slice(0, 8),
 * };
 * const layer = requestId(options);
 * ```
 */
export interface RequestIdOptions {
  /**
   * The header that carries the id, on the request and on the response.
   *
   * @default {"x-request-id"}
   */
  header?: string;
  /**
   * Makes a new id, for a request that came without a usable one.
   *
   * @default {crypto.randomUUID}
   */
  generate?: () => string;
}

/** A usable id: 1 to 200 visible ASCII characters, no spaces. */
const USABLE = /^[\x21-\x7e]{1,200}$/;
/** An HTTP header name (a token, RFC 9110). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The HTTP RequestId layer: keeps the request's `X-Request-Id` if it is usable (1 to 200 visible
 * ASCII characters), else gives the request a new one (`crypto.randomUUID()`), so that the inner
 * services and the upstream see it; and sets it on the response, so that the client sees it.
 *
 * @param options The header, and how to make new ids.
 * @returns The layer.
 * @throws {TypeError} If the header is not a header name.
 *
 * @example An id the client sent comes back; a request without one gets one
 * ```ts
 * import { requestId, serviceFn, toHandler } from "@minginx/minginx/http";
 * import { ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const service = new ServiceBuilder<Request, Response>()
 *   .layer(requestId())
 *   .service(serviceFn((request) => new Response(request.headers.get("x-request-id"))));
 * await using server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *   toHandler(service),
 * );
 * const url = `http://127.0.0.1:${server.addr.port}/`;
 * const kept = await fetch(url, { headers: { "x-request-id": "abc-123" } });
 * assert.equal(kept.headers.get("x-request-id"), "abc-123");
 * assert.equal(await kept.text(), "abc-123"); // the inner service saw it
 * const made = await fetch(url);
 * assert.match(made.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
 * assert.equal(await made.text(), made.headers.get("x-request-id"));
 * ```
 */
export function requestId(options: RequestIdOptions = {}): HttpLayer {
  const header = options.header ?? "x-request-id";
  if (typeof header !== "string" || !TOKEN.test(header)) {
    throw new TypeError(`Cannot use request id header "${header}": expected a header name`);
  }
  const generate = options.generate ?? (() => crypto.randomUUID());
  return (inner) =>
    async function requestId(request: Request): Promise<Response> {
      const sent = request.headers.get(header);
      const id = sent !== null && USABLE.test(sent) ? sent : generate();
      if (id !== sent) request.headers.set(header, id);
      const response = await inner(request);
      return withHeaders(response, (headers) => headers.set(header, id));
    };
}
