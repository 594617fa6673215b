/**
 * Helpers for the HTTP reverse proxy tests: the proxy behind minginx's own HTTP/1.1 server,
 * upstreams that echo what they saw (`Deno.serve`) or speak raw HTTP/1.1 over TCP, and a raw
 * client that reads heads and bodies as they came over the wire. Everything listens on
 * 127.0.0.1 port 0 and is closed when disposed of.
 */

import { createHash } from "node:crypto";
import { serve, type Server } from "../mod.ts";
import {
  type HttpProxy,
  httpProxy,
  type HttpProxyOptions,
  httpServer,
  type HttpServerOptions,
} from "../http.ts";
import { concat, startServer, type TestServer, within, writeAll } from "./_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The proxy, served by `httpServer` on a free port. */
export interface ProxyRig extends AsyncDisposable {
  proxy: HttpProxy;
  server: Server;
  port: number;
  /** `http://127.0.0.1:PORT` */
  url: string;
}

/**
 * Starts `httpProxy(options)` behind `httpServer(…, limits)`. Disposing of it closes every client
 * connection at once, then the proxy's idle upstream connections.
 */
export function startProxy(options: HttpProxyOptions, limits: HttpServerOptions = {}): ProxyRig {
  const proxy = httpProxy(options);
  const server = serve({ listen: "127.0.0.1:0", service: httpServer(proxy, limits) });
  return {
    proxy,
    server,
    port: server.address.port,
    url: `http://127.0.0.1:${server.address.port}`,
    async [Symbol.asyncDispose]() {
      await server.shutdown(0);
      await proxy[Symbol.asyncDispose]();
    },
  };
}

/** What an echo upstream saw of one request, which is also what it answers as JSON. */
export interface Seen {
  /** The upstream's name. */
  upstream: string;
  method: string;
  /** Path and query, as the upstream got them. */
  path: string;
  /** Every field, as `Deno.serve` gives them (lowercase names, repeated ones joined). */
  headers: Record<string, string>;
  /** Bytes of body. */
  bytes: number;
  /** SHA-256 of the body, as hex. */
  sha256: string;
  /** The port the proxy's connection came from: one per upstream connection. */
  peerPort: number;
}

/** A `Deno.serve` upstream that answers every request with the JSON of what it saw. */
export interface EchoUpstream extends AsyncDisposable {
  name: string;
  port: number;
  /** `127.0.0.1:PORT`, for a route's upstreams. */
  address: string;
  /** Every request, in the order answered. */
  seen: Seen[];
  /** The ports the proxy's connections came from. */
  peerPorts: Set<number>;
}

/** Starts an {@linkcode EchoUpstream} named `name`. */
export function startEchoUpstream(name = "echo"): EchoUpstream {
  const seen: Seen[] = [];
  const peerPorts = new Set<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request, info) => {
      const peerPort = info.remoteAddr.port;
      peerPorts.add(peerPort);
      let body: Uint8Array;
      try {
        body = new Uint8Array(await request.arrayBuffer());
      } catch {
        return new Response("The request body failed\n", { status: 500 });
      }
      const url = new URL(request.url);
      const record: Seen = {
        upstream: name,
        method: request.method,
        path: url.pathname + url.search,
        headers: Object.fromEntries(request.headers),
        bytes: body.length,
        sha256: createHash("sha256").update(body).digest("hex"),
        peerPort,
      };
      seen.push(record);
      return Response.json(record, { headers: { "x-upstream": name } });
    },
  );
  const port = server.addr.port;
  return {
    name,
    port,
    address: `127.0.0.1:${port}`,
    seen,
    peerPorts,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A port that refuses connections: one that was bound and then closed. */
export function deadPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

/** A head as it came over the wire: its start line and fields, names lowercased, order kept. */
export interface RawHead {
  /** The request or status line. */
  start: string;
  /** `[name, value]`, names lowercase, values trimmed, in the order received. */
  fields: [string, string][];
  /** The head's text, without its blank line. */
  text: string;
}

/** The value of the first field named `name`, or `undefined`. */
export function fieldOf(head: RawHead, name: string): string | undefined {
  return head.fields.find(([field]) => field === name)?.[1];
}

/** Every value of the fields named `name`, in order. */
export function fieldsOf(head: RawHead, name: string): string[] {
  return head.fields.filter(([field]) => field === name).map(([, value]) => value);
}

/** Parses a head's text (without its blank line). */
export function parseHead(text: string): RawHead {
  const [start, ...lines] = text.split("\r\n");
  const fields = lines.map((line): [string, string] => {
    const colon = line.indexOf(":");
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  });
  return { start, fields, text };
}

/** A buffered reader of raw HTTP/1.1 from a connection, for test clients and upstreams. */
export class RawReader {
  readonly conn: Deno.Conn;
  #buffer = new Uint8Array(0);

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  /** Bytes read from the connection and not taken yet. */
  get buffered(): Uint8Array {
    return this.#buffer;
  }

  /** Reads more; returns false at the end of the stream. */
  async #fill(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    const n = await this.conn.read(chunk);
    if (n === null) return false;
    const next = new Uint8Array(this.#buffer.length + n);
    next.set(this.#buffer);
    next.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = next;
    return true;
  }

  #take(n: number): Uint8Array {
    const taken = this.#buffer.slice(0, n);
    this.#buffer = this.#buffer.slice(n);
    return taken;
  }

  /** The next head, or `null` if the stream ends before one starts. */
  async readHead(): Promise<RawHead | null> {
    for (;;) {
      const end = indexOf(this.#buffer, "\r\n\r\n");
      if (end !== -1) {
        const text = decoder.decode(this.#take(end + 4)).slice(0, -4);
        return parseHead(text);
      }
      if (!(await this.#fill())) {
        if (this.#buffer.length === 0) return null;
        throw new Error(`The stream ended inside a head: ${decoder.decode(this.#buffer)}`);
      }
    }
  }

  /** Exactly `n` bytes. */
  async readExactly(n: number): Promise<Uint8Array> {
    while (this.#buffer.length < n) {
      if (!(await this.#fill())) throw new Error(`The stream ended before ${n} bytes`);
    }
    return this.#take(n);
  }

  /** One line, without its CRLF. */
  async readLine(): Promise<string> {
    for (;;) {
      const end = indexOf(this.#buffer, "\r\n");
      if (end !== -1) return decoder.decode(this.#take(end + 2)).slice(0, -2);
      if (!(await this.#fill())) throw new Error("The stream ended inside a line");
    }
  }

  /** A chunked body, chunks joined, trailers dropped. */
  async readChunked(): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for (;;) {
      const size = parseInt(await this.readLine(), 16);
      if (size === 0) break;
      chunks.push(await this.readExactly(size));
      await this.readExactly(2);
    }
    while ((await this.readLine()) !== "");
    return concat(chunks);
  }

  /** The body a head announces: by `Content-Length`, chunks, or none. */
  async readBody(head: RawHead): Promise<Uint8Array> {
    if (fieldOf(head, "transfer-encoding")?.toLowerCase() === "chunked") {
      return await this.readChunked();
    }
    return await this.readExactly(Number(fieldOf(head, "content-length") ?? 0));
  }

  /** Everything until the end of the stream, buffered bytes first. */
  async readToEnd(): Promise<Uint8Array> {
    while (await this.#fill());
    return this.#take(this.#buffer.length);
  }
}

/** A response read by a raw client. */
export interface RawResponse {
  head: RawHead;
  status: number;
  body: Uint8Array;
  text: string;
}

/** Reads one response to a request of `method` (a `HEAD` has no body). */
export async function readResponse(reader: RawReader, method = "GET"): Promise<RawResponse> {
  const head = await reader.readHead();
  if (head === null) throw new Error("The stream ended before a response");
  const status = Number(head.start.split(" ")[1]);
  const bodiless = method === "HEAD" || status < 200 || status === 204 || status === 304;
  const body = bodiless ? new Uint8Array(0) : await reader.readBody(head);
  return { head, status, body, text: decoder.decode(body) };
}

/** A raw client connection to the proxy. */
export interface RawClient extends Disposable {
  conn: Deno.TcpConn;
  reader: RawReader;
  /** Writes text or bytes. */
  send(data: string | Uint8Array): Promise<void>;
  /** Reads the next response, failing after `ms`. */
  response(method?: string, ms?: number): Promise<RawResponse>;
}

/** Connects a raw client to `port`. */
export async function rawClient(port: number): Promise<RawClient> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = new RawReader(conn);
  return {
    conn,
    reader,
    send: (data) => writeAll(conn, typeof data === "string" ? encoder.encode(data) : data),
    response: (method = "GET", ms = 5_000) =>
      within(ms, `a response to ${method}`, readResponse(reader, method)),
    [Symbol.dispose]() {
      try {
        conn.close();
      } catch { /* closed already */ }
    },
  };
}

/**
 * Sends one request (`lines` joined by CRLF, then a blank line and `body`) on a new
 * connection and returns the response.
 */
export async function rawExchange(
  port: number,
  lines: string[],
  body: string | Uint8Array = "",
): Promise<RawResponse> {
  using client = await rawClient(port);
  const head = encoder.encode(`${lines.join("\r\n")}\r\n\r\n`);
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  await client.send(concat([head, bytes]));
  return await client.response(lines[0].split(" ")[0]);
}

/** A raw upstream: a request it got, with its head and body. */
export interface RawRequest {
  head: RawHead;
  body: Uint8Array;
}

/** A raw TCP upstream that keeps what it received. */
export interface RawUpstream extends TestServer {
  /** `127.0.0.1:PORT` */
  target: string;
  /** Every request head (and body) read, in order. */
  requests: RawRequest[];
  /** Connections whose handler has finished. */
  readonly ended: number;
}

/**
 * Starts a raw upstream: `handle` gets each connection with a reader, and a `read()` that reads
 * the next request (recording it) or returns `null` at the end of the stream.
 */
export function startRawUpstream(
  handle: (
    conn: Deno.TcpConn,
    read: () => Promise<RawRequest | null>,
    reader: RawReader,
  ) => Promise<void>,
): RawUpstream {
  const requests: RawRequest[] = [];
  let ended = 0;
  const server = startServer(async (conn) => {
    const reader = new RawReader(conn);
    const read = async () => {
      const head = await reader.readHead();
      if (head === null) return null;
      const request = { head, body: await reader.readBody(head) };
      requests.push(request);
      return request;
    };
    try {
      await handle(conn, read, reader);
    } finally {
      ended++;
    }
  });
  // A getter, not Object.assign, which would copy the count once.
  return Object.defineProperties(server, {
    target: { value: `127.0.0.1:${server.address.port}` },
    requests: { value: requests },
    ended: { get: () => ended },
  }) as RawUpstream;
}

/** Writes a string. */
export function writeText(conn: Deno.Conn, text: string): Promise<void> {
  return writeAll(conn, encoder.encode(text));
}

function indexOf(bytes: Uint8Array, text: string): number {
  const needle = encoder.encode(text);
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
