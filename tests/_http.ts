/**
 * Helpers for the HTTP layer tests: a service served by `Deno.serve` on 127.0.0.1 port 0, a raw
 * HTTP/1.1 exchange that shows the body's bytes as sent (fetch would undo gzip), and a request
 * with a client address of the test's choosing.
 */

import { type HttpService, RequestInfo, toHandler } from "../http.ts";
import { concat, readToEnd, within } from "./_helpers.ts";

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
export interface RawResponse {
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
): Promise<RawResponse> {
  using conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const lines = [`${method} ${path} HTTP/1.1`, "host: 127.0.0.1", "connection: close"];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  await conn.write(new TextEncoder().encode(`${lines.join("\r\n")}\r\n\r\n`));
  const bytes = await within(5_000, `${method} ${path}`, readToEnd(conn));
  const end = findHeadEnd(bytes);
  const [statusLine, ...fields] = new TextDecoder().decode(bytes.subarray(0, end)).split("\r\n");
  const parsed = new Headers();
  for (const field of fields) {
    const colon = field.indexOf(":");
    parsed.append(field.slice(0, colon), field.slice(colon + 1).trim());
  }
  let body = bytes.subarray(end + 4);
  if (parsed.get("transfer-encoding") === "chunked") body = unchunk(body);
  return { status: Number(statusLine.split(" ")[1]), headers: parsed, body };
}

function findHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  throw new Error("No end of the response head");
}

/** The body of a chunked transfer coding, chunks joined. */
function unchunk(bytes: Uint8Array): Uint8Array {
  const chunks: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf(13, at);
    const size = parseInt(new TextDecoder().decode(bytes.subarray(at, lineEnd)), 16);
    if (!(size >= 0)) throw new Error(`Bad chunk size at byte ${at}`);
    if (size === 0) break;
    chunks.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return concat(chunks);
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
