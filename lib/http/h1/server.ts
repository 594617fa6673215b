/**
 * minginx's HTTP/1.1 server: the service at the bottom of a TCP stack that reads requests from a
 * connection (plain, or the plaintext side of a TLS session) and answers each through an
 * {@linkcode HttpService}, keeping the connection alive between them. It speaks HTTP/1.1 only:
 * for HTTP/2, serve the service with `Deno.serve` and a certificate through `toHandler()`.
 *
 * @module
 */

import { formatAddress } from "../../address.ts";
import type { Connection } from "../../connection.ts";
import { ConnectionError, type ConnectionReport } from "../../report.ts";
import type { Service } from "../../service.ts";
import { messageOf, quoteText } from "../../_util.ts";
import type { HttpService } from "../service.ts";
import { RequestInfo } from "../request_info.ts";
import { BodySource, BodyTooLargeError } from "./body_source.ts";
import { HttpParseError, parseRequestHead } from "./head.ts";
import { HttpReader } from "./reader.ts";
import { frameRequest } from "./request.ts";
import { respond } from "./respond.ts";
import { serviceFailed, textResponse } from "../_response.ts";
import { discardResponse, upgradeOf } from "./upgrade.ts";
import { Sweeper, type Timed } from "../../_sweeper.ts";
import { writeAll } from "./body_sink.ts";
import { HeaderTimeoutError, type HttpServerOptions, limitsOf } from "./limits.ts";

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

/**
 * Creates the TCP service that speaks HTTP/1.1 on each connection and hands every request to
 * `service`, with the limits an HTTP server needs: on the size of a head (431), on the size of a
 * body (413), and on the time to receive a head (408). A request body streams to the service as
 * it arrives; a response body streams to the client. A response of the upgrade kind (see
 * {@linkcode upgradeResponse}) takes the connection over. It speaks HTTP/1.1 only, so do not
 * offer `h2` by ALPN in front of it; for HTTP/2, serve the service through `toHandler()` with
 * `Deno.serve` and a certificate.
 *
 * @param service Answers each request.
 * @param options The limits.
 * @returns The TCP service, for the bottom of a `ServiceBuilder` stack or for `serve()`.
 *
 * @example Serve a handler over minginx's own HTTP/1.1 server
 * ```ts
 * import { serve } from "@minginx/minginx";
 * import { httpServer, serviceFn } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * const hello = serviceFn((request) => new Response(`hello ${new URL(request.url).pathname}`));
 * await using server = serve({
 *   listen: "127.0.0.1:0",
 *   service: httpServer(hello, { maxHeaderBytes: 8192, headerTimeout: 10_000 }),
 * });
 * using client = Deno.createHttpClient({});
 * const response = await fetch(`http://127.0.0.1:${server.address.port}/world`, { client });
 * assert.equal(await response.text(), "hello /world");
 * ```
 */
export function httpServer(
  service: HttpService,
  options: HttpServerOptions = {},
): Service<Connection, ConnectionReport> {
  const limits = limitsOf(options);
  const firstHead = new Sweeper(limits.headerTimeout);
  const nextHead = new Sweeper(limits.keepAliveTimeout);
  return async function httpServer(connection: Connection): Promise<ConnectionReport> {
    const client = connection.client;
    const sink = connection.sinkFor("down", client);
    const reader = new HttpReader(client, connection.up);
    const secure = client !== connection.socket;
    const scheme = secure ? "https" : "http";
    // The Host of an HTTP/1.0 request without one.
    const local = formatAddress(connection.localAddress);
    let idle = true;
    let current: RequestInfo | undefined;
    const onAbort = () => current?.abort(connection.signal.reason);
    connection.signal.addEventListener("abort", onAbort);
    let sweeper = firstHead;
    const waiting: Timed = {
      expires: 0,
      fire: () => {
        const ms = sweeper === firstHead ? limits.headerTimeout : limits.keepAliveTimeout;
        timedOut(connection, reader.buffered > 0, ms, sink);
      },
    };
    const onDrain = () => {
      if (idle && reader.buffered === 0) connection.abort(drained());
    };
    connection.draining?.addEventListener("abort", onDrain);
    try {
      for (let served = 0;; served++) {
        if (connection.draining?.aborted && reader.buffered === 0) return connection.end(drained());
        idle = true;
        sweeper = served === 0 ? firstHead : nextHead;
        sweeper.add(waiting);
        let head: Uint8Array | null;
        try {
          head = await reader.readHead(limits.maxHeaderBytes);
        } finally {
          sweeper.delete(waiting);
          idle = false;
        }
        if (head === null) {
          connection.firstToFinish = "client";
          return connection.end();
        }
        const parsed = parseRequestHead(head);
        const framing = frameRequest(parsed, scheme, local);
        let body: BodySource | undefined;
        if (framing.length !== null) {
          if (typeof framing.length === "number" && framing.length > limits.maxBodyBytes) {
            throw new BodyTooLargeError(limits.maxBodyBytes);
          }
          body = new BodySource(reader, framing.length, {
            maxBytes: limits.maxBodyBytes,
            peer: "client",
            beforeFirstRead: framing.expectContinue
              ? () => writeAll(sink, CONTINUE, connection.down)
              : undefined,
          });
        }
        const request = newRequest(parsed.method, framing.url, parsed.names, parsed.values, body);
        const info = new RequestInfo({
          client: connection.clientAddress,
          secure,
          connection,
        });
        current = info;
        RequestInfo.attach(request, info);
        let response: Response;
        try {
          response = await service(request);
        } catch (error) {
          response = serviceFailed(request, info, error);
        }
        // A body the client got wrong (too large, or malformed chunks) is its own mistake, whatever
        // the service answered after it failed: 413 or 400, and the connection closes.
        const wrong =
          body?.error instanceof BodyTooLargeError || body?.error instanceof HttpParseError
            ? body.error
            : undefined;
        if (wrong) {
          discardResponse(response);
          response = textResponse(
            wrong instanceof HttpParseError ? wrong.status : 413,
            wrong.message,
          );
        }
        const upgrade = upgradeOf(response);
        if (upgrade) {
          await upgrade(client, reader.takeBuffered(), connection);
          return connection.end();
        }
        const close = framing.close || served + 1 >= limits.maxRequests ||
          wrong !== undefined || connection.draining?.aborted === true;
        let sent;
        try {
          sent = await respond(response, sink, {
            head: parsed.method === "HEAD",
            minor: parsed.minor,
            close,
            meter: connection.down,
          });
        } catch (error) {
          info.sent(0, error, response);
          throw error;
        }
        info.sent(sent.bytes, undefined, response);
        // A body the service left unread is the client's: the connection cannot carry more.
        if (sent.close || (body !== undefined && !body.done)) {
          return connection.end();
        }
      }
    } catch (error) {
      if (error instanceof HttpParseError || error instanceof BodyTooLargeError) {
        return await refuse(connection, sink, error);
      }
      return connection.end(error);
    } finally {
      sweeper.delete(waiting);
      connection.draining?.removeEventListener("abort", onDrain);
      connection.signal.removeEventListener("abort", onAbort);
    }
  };
}

function newRequest(
  method: string,
  url: string,
  names: string[],
  values: string[],
  body: BodySource | undefined,
): Request {
  try {
    // Filling the request's own fields is cheaper than a Headers passed in, which is copied.
    const request = new Request(url, { method, body: body?.stream ?? null });
    const headers = request.headers;
    for (let i = 0; i < names.length; i++) headers.append(names[i], values[i]);
    return request;
  } catch (error) {
    throw new HttpParseError(
      400,
      `Cannot make a request of "${quoteText(`${method} ${url}`)}": ${messageOf(error)}`,
    );
  }
}

/** Answers a request that cannot be read with its status, and closes the connection. */
async function refuse(
  connection: Connection,
  sink: Parameters<typeof writeAll>[0],
  error: HttpParseError | BodyTooLargeError,
): Promise<ConnectionReport> {
  const status = error instanceof HttpParseError ? error.status : 413;
  const response = textResponse(status, error.message);
  try {
    await respond(response, sink, { head: false, minor: 1, close: true, meter: connection.down });
  } catch {
    // The client is gone; the report says why the request was refused.
  }
  return connection.end(new ConnectionError("bad_request", error.message, { cause: error }));
}

function timedOut(
  connection: Connection,
  partial: boolean,
  ms: number,
  sink: Parameters<typeof writeAll>[0],
): void {
  const error = new HeaderTimeoutError(ms, partial);
  if (!partial) return connection.abort(error);
  const response = textResponse(408, error.message);
  respond(response, sink, { head: false, minor: 1, close: true, meter: connection.down })
    .catch(() => {})
    .finally(() => connection.abort(error));
}

function drained(): ConnectionError {
  return new ConnectionError("shutdown", "The server is draining and the connection was idle");
}
