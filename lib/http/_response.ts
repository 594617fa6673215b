/**
 * Private helpers of the HTTP code: the plain-text answer a layer, the server or the proxy gives on
 * its own (a failing service's 500 among them), and a
 * response's headers changed without touching the original (whose headers may be immutable, as a
 * `fetch` response's are).
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { RequestInfo } from "./request_info.ts";

/**
 * The answer of a layer that stops a request itself: `status`, and `message` as the body, one
 * line of plain text.
 *
 * @param status The status, such as 504.
 * @param message What happened: `The upstream did not answer within 5s`.
 * @param headers More headers, such as `Retry-After`.
 * @returns A new response.
 *
 * @example A 504
 * ```ts
 * import { textResponse } from "./_response.ts";
 * import assert from "node:assert/strict";
 *
 * const response = textResponse(504, "The upstream did not answer within 5s");
 * assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
 * assert.equal(await response.text(), "The upstream did not answer within 5s\n");
 * ```
 */
export function textResponse(status: number, message: string, headers?: HeadersInit): Response {
  const body = encoder.encode(`${message}\n`);
  const response = new Response(body, { status, headers });
  response.headers.set("content-type", "text/plain; charset=utf-8");
  response.headers.set("content-length", `${body.length}`); // so it goes out with its head
  return response;
}

/** An error that a layer answers with a status of its own, such as the proxy's 502. */
export interface StatusError extends Error {
  /** The status to answer with. */
  readonly status: number;
}

/**
 * The answer of a layer that stops a request itself because of `error`: its status and message,
 * as {@linkcode textResponse} makes them, with the error noted as the request's
 * {@linkcode RequestInfo.prototype.refusal} for a logger outside.
 *
 * @param info The request's info.
 * @param error Why: its status and message go to the client.
 * @param headers More headers, such as `Retry-After`.
 * @returns A new response.
 */
export function refusal(info: RequestInfo, error: StatusError, headers?: HeadersInit): Response {
  info.refusal = error;
  return textResponse(error.status, error.message, headers);
}

const encoder = new TextEncoder();
const log = getLogger(["minginx", "http"]);

/**
 * A server's answer when its service throws: the error logged (category `minginx.http`, level
 * error), the request's listeners told, and a plain 500 for the client, with no detail.
 *
 * @param request The request the service failed on.
 * @param info Its info, whose listeners are told.
 * @param error What the service threw.
 * @returns The 500.
 */
export function serviceFailed(request: Request, info: RequestInfo, error: unknown): Response {
  log.error("The service failed on {method} {url}: {error}", {
    method: request.method,
    url: request.url,
    error,
  });
  const response = textResponse(500, "Internal Server Error");
  info.sent(0, error, response);
  return response;
}

/**
 * A new response with the same status, body and headers, the headers then changed by `edit`.
 * The body moves to the new response, so read only that one. An informational response (such as
 * a WebSocket upgrade's 101) or an error response is returned as it is, since a copy would not
 * carry what makes it one.
 *
 * @param response The inner service's response.
 * @param edit Changes the copy of its headers.
 * @param body The new response's body, when not the original's (such as the original compressed).
 * @returns The new response.
 *
 * @example Add a header to a response whose headers are immutable
 * ```ts
 * import { withHeaders } from "./_response.ts";
 * import assert from "node:assert/strict";
 *
 * const redirect = Response.redirect("http://example.com/", 307); // immutable headers
 * const tagged = withHeaders(redirect, (headers) => headers.set("x-tag", "1"));
 * assert.equal(tagged.status, 307);
 * assert.equal(tagged.headers.get("location"), "http://example.com/");
 * assert.equal(tagged.headers.get("x-tag"), "1");
 * ```
 */
export function withHeaders(
  response: Response,
  edit: (headers: Headers) => void,
  body: ReadableStream<Uint8Array> | null = response.body,
): Response {
  if (response.status < 200) return response;
  const headers = new Headers(response.headers);
  edit(headers);
  const { status, statusText } = response;
  return new Response(body, { status, statusText, headers });
}

/**
 * Adds a header name to `Vary`, unless it is there already or `Vary` is `*`.
 *
 * @param headers The headers to change.
 * @param name The request header the response depends on, such as `Origin`.
 *
 * @example Names are added once
 * ```ts
 * import { addVary } from "./_response.ts";
 * import assert from "node:assert/strict";
 *
 * const headers = new Headers({ vary: "Accept-Encoding" });
 * addVary(headers, "Origin");
 * addVary(headers, "origin");
 * assert.equal(headers.get("vary"), "Accept-Encoding, Origin");
 * ```
 */
export function addVary(headers: Headers, name: string): void {
  const vary = headers.get("vary");
  if (vary === null || vary.trim() === "") return headers.set("vary", name);
  const names = vary.split(",").map((part) => part.trim().toLowerCase());
  if (names.includes("*") || names.includes(name.toLowerCase())) return;
  headers.set("vary", `${vary}, ${name}`);
}
