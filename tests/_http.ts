/**
 * Helpers for the HTTP layer tests: a service served by `Deno.serve` on 127.0.0.1 port 0, a raw
 * HTTP/1.1 exchange that shows the body's bytes as sent (fetch would undo gzip), and a request
 * with a client address of the test's choosing.
 */

import { type HttpService, RequestInfo, toHandler } from "../http.ts";
import { rawExchange } from "./_http_proxy.ts";

/** A served service and its base URL, `http://127.0.0.1:PORT`. */
export interface TestHttpServer extends AsyncDisposable {
  url: string;
  port: number;
}

/** Serves `service` through `toHandler` on a free port; dispose of it to shut it down. */
export function serveHttp(service: HttpService): TestHttpServer {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    toHandler(service),
  );
  const port = server.addr.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A response as it came over the wire: the body as sent, with any chunking undone. */
export interface WireResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/**
 * Sends one HTTP/1.1 request over a new connection (closed after it) and reads the response as
 * bytes, without undoing any Content-Encoding. Fails after 5 s.
 */
export async function rawRequest(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = "GET",
): Promise<WireResponse> {
  const fields = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  const lines = [`${method} ${path} HTTP/1.1`, "host: 127.0.0.1", "connection: close", ...fields];
  const { status, head, body } = await rawExchange(port, lines);
  return { status, headers: new Headers(head.fields), body };
}

/** A hand-built request from `hostname`, as if a server had attached its info. */
export function requestFrom(hostname: string, url = "http://localhost/", init?: RequestInit) {
  const request = new Request(url, init);
  RequestInfo.attach(request, new RequestInfo({ client: { hostname, port: 40_000 } }));
  return request;
}

/** The bytes of a stream, decompressed with the runtime's DecompressionStream. */
export async function decompress(bytes: Uint8Array, format: "gzip" | "deflate") {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
  return new Uint8Array(
    await new Response(stream.pipeThrough(new DecompressionStream(format)))
      .arrayBuffer(),
  );
}
