/**
 * The HTTP CORS middleware: tells browsers which other origins may call the service, and answers
 * their preflight requests itself.
 *
 * @module
 */

import { checkWhole } from "../../_util.ts";
import type { HttpLayer } from "../service.ts";
import { addVary, withHeaders } from "../_response.ts";

/**
 * Options for {@linkcode cors}.
 *
 * @example One site, with cookies
 * ```ts
 * import { cors, type CorsOptions } from "@minginx/minginx/http";
 *
 * const options: CorsOptions = {
 *   origins: ["https://app.example.com"],
 *   credentials: true,
 *   maxAge: 600,
 * };
 * const layer = cors(options);
 * ```
 */
export interface CorsOptions {
  /** The origins allowed, such as `["https://app.example.com"]`, or `"*"` for any origin. */
  origins: readonly string[] | "*";
  /**
   * The methods a preflight allows.
   *
   * @default {["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"]}
   */
  methods?: readonly string[];
  /**
   * The request headers a preflight allows.
   *
   * @default {the headers the preflight asks for}
   */
  allowedHeaders?: readonly string[];
  /**
   * The response headers the browser lets the page read, beyond the simple ones.
   *
   * @default {[]}
   */
  exposedHeaders?: readonly string[];
  /**
   * Whether the browser may send cookies and read the response of a request that carries them.
   * Needs a list of origins: the CORS standard forbids it with `"*"`.
   *
   * @default {false}
   */
  credentials?: boolean;
  /**
   * How long a browser may keep a preflight's answer, in whole seconds.
   *
   * @default {none: the browser's own, 5 seconds in most}
   */
  maxAge?: number;
}

const METHODS = ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"];
/** A method or header name (a token, RFC 9110). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The HTTP CORS layer. A preflight (an `OPTIONS` request with `Origin` and
 * `Access-Control-Request-Method`) gets a 204 at once, without calling the inner service: with
 * the allowed methods, headers, credentials and max age if its origin is allowed, with none of
 * them if not (so the browser refuses the call). Any other response gets
 * `Access-Control-Allow-Origin` (and the exposed headers and credentials) when the request's
 * origin is allowed. With a list of origins every response also gets `Vary: Origin`, since it
 * depends on the origin; with `"*"` the origin is always `*`.
 *
 * @param options The origins allowed, and what they may do.
 * @returns The layer.
 * @throws {TypeError} If an origin is not `SCHEME://HOST[:PORT]`, a method or header is not a
 * token, or `credentials` comes with the origins `"*"`.
 * @throws {RangeError} If `maxAge` is not a whole number of seconds.
 *
 * @example A preflight from an allowed origin
 * ```ts
 * import { cors, serviceFn, toHandler } from "@minginx/minginx/http";
 * import { ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const service = new ServiceBuilder<Request, Response>()
 *   .layer(cors({ origins: ["https://app.example.com"], maxAge: 600 }))
 *   .service(serviceFn(() => new Response("hello")));
 * await using server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *   toHandler(service),
 * );
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
 *   method: "OPTIONS",
 *   headers: { origin: "https://app.example.com", "access-control-request-method": "PUT" },
 * });
 * await response.body?.cancel();
 * assert.equal(response.status, 204);
 * assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example.com");
 * assert.equal(response.headers.get("access-control-max-age"), "600");
 * ```
 */
export function cors(options: CorsOptions): HttpLayer {
  const { credentials = false, maxAge } = options;
  const any = options.origins === "*";
  const origins = new Set(options.origins === "*" ? [] : checkOrigins(options.origins));
  if (any && credentials) {
    throw new TypeError('Cannot use CORS origins "*" with credentials: expected a list of origins');
  }
  const methods = checkTokens(options.methods ?? METHODS, "method", "PUT").join(", ");
  // Undefined: the preflight's own Access-Control-Request-Headers are allowed.
  const allowed = options.allowedHeaders &&
    checkTokens(options.allowedHeaders, "header").join(", ");
  const exposed = checkTokens(options.exposedHeaders ?? [], "header").join(", ");
  if (maxAge !== undefined) checkWhole(maxAge, "CORS maxAge", 0, " of seconds");
  /** Sets the headers every answer to an allowed origin has; false if it is not allowed. */
  const allow = (headers: Headers, origin: string | null): boolean => {
    if (!any) addVary(headers, "Origin");
    if (origin === null || !(any || origins.has(origin))) return false;
    headers.set("access-control-allow-origin", any ? "*" : origin);
    if (credentials) headers.set("access-control-allow-credentials", "true");
    return true;
  };
  /** The answer to a preflight: what an allowed origin may do, nothing for another. */
  const preflight = (request: Request, origin: string): Response => {
    const headers = new Headers();
    if (allow(headers, origin)) {
      headers.set("access-control-allow-methods", methods);
      if (allowed === undefined) addVary(headers, "Access-Control-Request-Headers");
      const allowedHeaders = allowed ?? request.headers.get("access-control-request-headers");
      if (allowedHeaders) headers.set("access-control-allow-headers", allowedHeaders);
      if (maxAge !== undefined) headers.set("access-control-max-age", String(maxAge));
    }
    return new Response(null, { status: 204, headers });
  };
  return (inner) =>
    async function cors(request: Request): Promise<Response> {
      const origin = request.headers.get("origin");
      if (
        request.method === "OPTIONS" && origin !== null &&
        request.headers.has("access-control-request-method")
      ) return preflight(request, origin);
      const response = await inner(request);
      return withHeaders(response, (headers) => {
        if (allow(headers, any ? "*" : origin) && exposed) {
          headers.set("access-control-expose-headers", exposed);
        }
      });
    };
}

/** The origins, each as browsers send it in `Origin`. */
function checkOrigins(origins: readonly string[]): string[] {
  if (!Array.isArray(origins)) {
    throw new TypeError(`Cannot use CORS origins "${origins}": expected "*" or a list of origins`);
  }
  return origins.map((text) => {
    const origin = URL.canParse(text) ? new URL(text).origin : "null";
    if (origin === "null" || origin !== String(text).toLowerCase()) {
      throw new TypeError(
        `Cannot use CORS origin "${text}": expected SCHEME://HOST[:PORT], such as ` +
          "https://example.com",
      );
    }
    return origin;
  });
}

/** The methods or header names, each checked to be a token. */
function checkTokens(names: readonly string[], what: string, example = "X-Token"): string[] {
  if (!Array.isArray(names)) {
    throw new TypeError(`Cannot use CORS ${what}s "${names}": expected a list of names`);
  }
  for (const name of names) {
    if (typeof name !== "string" || !TOKEN.test(name)) {
      throw new TypeError(
        `Cannot use CORS ${what} "${name}": expected a token, such as ${example}`,
      );
    }
  }
  return [...names];
}
