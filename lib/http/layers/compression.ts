/**
 * The HTTP Compression middleware: gzip or deflate response bodies for clients that accept them,
 * with the runtime's `CompressionStream`.
 *
 * @module
 */

import { checkWhole } from "../../_util.ts";
import type { HttpLayer } from "../service.ts";
import { addVary, withHeaders } from "../_response.ts";

/**
 * A content coding {@linkcode compression} can produce, as `CompressionStream` names it.
 *
 * @example Offer deflate only
 * ```ts
 * import { compression, type CompressionEncoding } from "@minginx/minginx/http";
 *
 * const encodings: CompressionEncoding[] = ["deflate"];
 * const layer = compression({ encodings });
 * ```
 */
export type CompressionEncoding = "gzip" | "deflate";

/**
 * Options for {@linkcode compression}.
 *
 * @example Only gzip, from 4 KiB up
 * ```ts
 * import { compression, type CompressionOptions } from "@minginx/minginx/http";
 *
 * const options: CompressionOptions = { encodings: ["gzip"], threshold: 4_096 };
 * const layer = compression(options);
 * ```
 */
export interface CompressionOptions {
  /**
   * The codings to offer, the one preferred first when the client likes several as much.
   *
   * @default {["gzip", "deflate"]}
   */
  encodings?: readonly CompressionEncoding[];
  /**
   * Bodies whose `Content-Length` is below this many bytes are sent as they are. A body of
   * unknown length (a stream) is compressed.
   *
   * @default {1024}
   */
  threshold?: number;
}

/** Types worth compressing: text, JSON, JavaScript, XML, SVG and WebAssembly; not event streams. */
const COMPRESSIBLE = new RegExp(
  "^(?:" + [
    "text/(?!event-stream$)[\\w.+-]+",
    "application/(?:json|javascript|ecmascript|xml|wasm)",
    "[\\w.-]+/[\\w.-]+\\+(?:json|xml)", // application/problem+json, application/atom+xml
    "image/svg\\+xml",
  ].join("|") + ")$",
);
/** A q-value, RFC 9110: 0 to 1 with up to three decimals. */
const QVALUE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * The HTTP Compression layer: compresses the inner service's response body with gzip or deflate
 * (the runtime's `CompressionStream`), whichever the request's `Accept-Encoding` weighs highest
 * (q-values honoured, `*` included, `q=0` refusing). It sets `Content-Encoding` and
 * `Vary: Accept-Encoding`, drops `Content-Length`, and weakens a strong `ETag`. It leaves a
 * response as it is when the request is `HEAD`, the status is 1xx, 204, 206 or 304, there is no
 * body, the body is encoded already, `Cache-Control` says `no-transform`, `Content-Length` is
 * below the threshold, or the type is not one that compresses (text, JSON, JavaScript, XML, SVG,
 * WebAssembly). A response it could have compressed for another client still gets the `Vary`.
 *
 * @param options The codings to offer, and the smallest body worth compressing.
 * @returns The layer.
 * @throws {TypeError} If a coding is neither `"gzip"` nor `"deflate"`, or none is given.
 * @throws {RangeError} If the threshold is not a whole number of bytes.
 *
 * @example A page compressed for a client that accepts deflate
 * ```ts
 * import { compression, serviceFn, toHandler } from "@minginx/minginx/http";
 * import { ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const page = "<p>hello</p>".repeat(1_000);
 * const service = new ServiceBuilder<Request, Response>()
 *   .layer(compression())
 *   .service(serviceFn(() => new Response(page, { headers: { "content-type": "text/html" } })));
 * await using server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *   toHandler(service),
 * );
 * // Deno's fetch would undo gzip by itself; it leaves deflate to the caller.
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
 *   headers: { "accept-encoding": "gzip;q=0.5, deflate" },
 * });
 * assert.equal(response.headers.get("content-encoding"), "deflate");
 * assert.equal(response.headers.get("vary"), "Accept-Encoding");
 * const compressed = new Uint8Array(await response.arrayBuffer());
 * assert.ok(compressed.length < page.length / 10);
 * const body = new Blob([compressed]).stream().pipeThrough(new DecompressionStream("deflate"));
 * assert.equal(await new Response(body).text(), page);
 * ```
 */
export function compression(options: CompressionOptions = {}): HttpLayer {
  const encodings = options.encodings ?? ["gzip", "deflate"];
  if (!Array.isArray(encodings) || encodings.length === 0) {
    throw new TypeError(`Cannot use encodings "${encodings}": expected gzip, deflate or both`);
  }
  for (const encoding of encodings) {
    if (encoding !== "gzip" && encoding !== "deflate") {
      throw new TypeError(`Cannot use encoding "${encoding}": expected gzip or deflate`);
    }
  }
  const threshold = checkWhole(options.threshold ?? 1_024, "threshold", 0, " of bytes");
  return (inner) =>
    async function compression(request: Request): Promise<Response> {
      const response = await inner(request);
      if (request.method === "HEAD" || !compressible(response, threshold)) return response;
      const encoding = negotiate(request.headers.get("accept-encoding"), encodings);
      const body = encoding === undefined
        ? response.body
        : response.body!.pipeThrough(new CompressionStream(encoding));
      return withHeaders(response, (headers) => {
        addVary(headers, "Accept-Encoding");
        if (encoding === undefined) return;
        headers.set("content-encoding", encoding);
        headers.delete("content-length");
        const etag = headers.get("etag");
        if (etag?.startsWith('"')) headers.set("etag", `W/${etag}`); // not the same bytes now
      }, body);
    };
}

/** Whether compressing the response is allowed and worth it, whatever the client accepts. */
function compressible(response: Response, threshold: number): boolean {
  const { status, headers } = response;
  if (response.body === null || status < 200 || status === 204 || status === 206) return false;
  if (status === 304 || headers.has("content-encoding")) return false;
  if (/(?:^|,)\s*no-transform\s*(?:,|$)/i.test(headers.get("cache-control") ?? "")) return false;
  const length = headers.get("content-length");
  if (length !== null && Number(length) < threshold) return false;
  const type = headers.get("content-type")?.split(";")[0].trim().toLowerCase() ?? "";
  return COMPRESSIBLE.test(type);
}

/**
 * The coding the client weighs highest among those offered, the first offered on a tie; none if
 * it accepts none of them, or weighs `identity` higher.
 */
function negotiate(
  header: string | null,
  offered: readonly CompressionEncoding[],
): CompressionEncoding | undefined {
  if (header === null) return undefined;
  const weights = new Map<string, number>();
  for (const part of header.split(",")) {
    const [name, ...parameters] = part.split(";");
    let weight = 1;
    for (const parameter of parameters) {
      const [key, value = ""] = parameter.split("=").map((text) => text.trim());
      if (key.toLowerCase() === "q") weight = QVALUE.test(value) ? Number(value) : NaN;
    }
    const coding = name.trim().toLowerCase();
    if (!Number.isNaN(weight)) weights.set(coding === "x-gzip" ? "gzip" : coding, weight);
  }
  const any = weights.get("*") ?? 0;
  let best: CompressionEncoding | undefined;
  let bestWeight = 0;
  for (const encoding of offered) {
    const weight = weights.get(encoding) ?? any;
    if (weight > bestWeight) [best, bestWeight] = [encoding, weight];
  }
  return (weights.get("identity") ?? 0) > bestWeight ? undefined : best;
}
