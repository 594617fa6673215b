/**
 * The tower model for HTTP: a service turns a `Request` into a `Response`, and an adapter serves
 * it through `Deno.serve`.
 *
 * @module
 */

import { serviceFailed } from "./_response.ts";
import type { Layer, Service } from "../service.ts";
import { RequestInfo } from "./request_info.ts";
import { discardResponse, upgradeOf } from "./h1/upgrade.ts";

/**
 * A {@linkcode Service} for HTTP: a `Request` in, a promised `Response` out.
 *
 * @example A service that answers every request
 * ```ts
 * import type { HttpService } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * const hello: HttpService = () => Promise.resolve(new Response("hello"));
 * assert.equal(await (await hello(new Request("http://localhost/"))).text(), "hello");
 * ```
 */
export type HttpService = Service<Request, Response>;

/**
 * A {@linkcode Layer} for HTTP: wraps an {@linkcode HttpService} and returns another.
 *
 * @example A layer that adds a header to every response
 * ```ts
 * import type { HttpLayer } from "@minginx/minginx/http";
 *
 * const poweredBy: HttpLayer = (inner) => async (request) => {
 *   const response = await inner(request);
 *   response.headers.set("x-powered-by", "minginx");
 *   return response;
 * };
 * ```
 */
export type HttpLayer = Layer<Request, Response>;

/**
 * Turns a plain handler, which may answer at once or later and may throw, into a service that
 * always returns a promise (a throw becomes a rejection).
 *
 * @param handler Answers a request.
 * @returns The service.
 *
 * @example A synchronous handler as a service
 * ```ts
 * import { serviceFn } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * const hello = serviceFn((request) => new Response(`hello ${new URL(request.url).pathname}`));
 * const response = await hello(new Request("http://localhost/world"));
 * assert.equal(await response.text(), "hello /world");
 * ```
 */
export function serviceFn(
  handler: (request: Request) => Response | Promise<Response>,
): HttpService {
  return async function serviceFn(request: Request): Promise<Response> {
    return await handler(request);
  };
}

/**
 * Adapts an {@linkcode HttpService} to a `Deno.serve` handler, as hyper runs a tower service.
 * Each request gets its {@linkcode RequestInfo}: the client's address and whether the listener
 * has TLS. The service gets a copy of `Deno.serve`'s request, whose headers its layers may change
 * (those of `Deno.serve` cannot), as with minginx's own server. A service that rejects gets a plain 500, with no detail for the client; the error is
 * logged (category `minginx.http`, level error).
 *
 * With a certificate (`cert` and `key` in its options), `Deno.serve` offers HTTP/2 (`h2`, agreed
 * on by ALPN) and HTTP/1.1 over TLS, so a service served this way, with all its layers, answers
 * HTTP/2 clients as well as HTTP/1.1 ones. minginx's own `httpServer()` speaks HTTP/1.1 only.
 *
 * @param service The service.
 * @returns The handler.
 *
 * @example Serve a service with Deno.serve
 * ```ts
 * import { serviceFn, toHandler } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * const hello = serviceFn(() => new Response("hello"));
 * await using server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *   toHandler(hello),
 * );
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assert.equal(await response.text(), "hello");
 * ```
 */
export function toHandler(
  service: HttpService,
): (request: Request, info: Deno.ServeHandlerInfo<Deno.Addr>) => Promise<Response> {
  return async function handler(request, served) {
    const remote = served.remoteAddr as Deno.NetAddr;
    // Not request.signal: Deno.serve aborts it after every response, not only when the client
    // goes away. A client that leaves is seen when writing the response fails.
    const info = new RequestInfo({
      client: { hostname: remote.hostname ?? "", port: remote.port ?? 0 },
      secure: request.url.startsWith("https:"),
    });
    request = new Request(request);
    RequestInfo.attach(request, info);
    let response: Response;
    try {
      response = await service(request);
    } catch (error) {
      return serviceFailed(request, info, error);
    }
    if (upgradeOf(response)) {
      discardResponse(response);
      const refused = new Response("Upgrades need minginx's own HTTP/1.1 server (httpServer)\n", {
        status: 501,
      });
      info.sent(0, undefined, refused);
      return refused;
    }
    return info.watched ? counted(response, info) : response;
  };
}

/** The response with its body counted as `Deno.serve` sends it, for the listeners. */
function counted(response: Response, info: RequestInfo): Response {
  const body = response.body;
  if (body === null) {
    info.sent(0, undefined, response);
    return response;
  }
  let bytes = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      controller.enqueue(chunk);
    },
    flush: () => info.sent(bytes, undefined, response),
    cancel: (reason) => info.sent(bytes, reason, response),
  });
  const { status, statusText, headers } = response;
  return new Response(body.pipeThrough(counter), { status, statusText, headers });
}
