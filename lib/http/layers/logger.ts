/**
 * The HTTP Logger middleware: one line a request, once its response has been sent, through
 * LogTape.
 *
 * @module
 */

import { getLogger, type LogLevel } from "@logtape/logtape";
import { formatAddress } from "../../address.ts";
import { messageOf } from "../../_util.ts";
import { requestInfo } from "../request_info.ts";
import type { HttpLayer } from "../service.ts";

/**
 * Options for {@linkcode logger}.
 *
 * @example Log under your application's category
 * ```ts
 * import { logger, type LoggerOptions } from "@minginx/minginx/http";
 *
 * const options: LoggerOptions = { category: ["my-app", "http"] };
 * const layer = logger(options);
 * ```
 */
export interface LoggerOptions {
  /**
   * The LogTape category to log under.
   *
   * @default {["minginx", "http"]}
   */
  category?: readonly string[];
}

/** What each line's properties hold: the fields a test or a structured sink reads. */
interface RequestLogProperties {
  /** The client's address, `HOST:PORT`, or `:0` when no server attached one. */
  client: string;
  /** The request's method. */
  method: string;
  /** The request's path and query, as the client sent them. */
  path: string;
  /** The status sent; 500 if the inner service threw, 0 if no response was sent. */
  status: number;
  /** Bytes of response body sent. */
  bytes: number;
  /** Milliseconds from the server reading the request's head to the body's end. */
  durationMs: number;
  /** The request's `X-Request-Id`, when it has one: put `requestId()` outside the logger. */
  requestId: string | undefined;
  /** Why the inner service or the sending failed, if either did. */
  error: string | undefined;
}

const LINE = "{method} {path} {status} {bytes}B {durationMs}ms";
const LINES = [LINE, `${LINE}: {error}`] as const;
const EARLY = "A layer outside the logger answered before the inner service did";

/**
 * The HTTP Logger layer: logs one line per request once its response has been sent (the server
 * tells it through `requestInfo(request).onSent`). The record's properties are `client`
 * (`HOST:PORT`), `method`, `path` (with the query), `status`, `bytes` (of body sent),
 * `durationMs` (from the server reading the request's head to the body's end), `requestId` (the
 * request's `X-Request-Id`: put `requestId()` outside the logger to have it) and `error` (why the
 * inner service or the sending failed, else undefined). The level is `error` if the inner
 * service threw (status 500, as the server answers), `warning` for any other 5xx, and `info`
 * else. When a layer outside the logger answered first (a timeout's 504), the line has the status
 * sent and the reason the request was given up on, at `warning`. A request that no server serves (a test calling the service) is not
 * logged.
 *
 * Like all of minginx, it prints nothing until the application configures LogTape.
 *
 * @param options Where to log.
 * @returns The layer.
 *
 * @example Collect request log records
 * ```ts
 * import { logger, serviceFn, toHandler } from "@minginx/minginx/http";
 * import { ServiceBuilder } from "@minginx/minginx";
 * import { configure, type LogRecord, reset } from "@logtape/logtape";
 * import assert from "node:assert/strict";
 *
 * const records: LogRecord[] = [];
 * await configure({
 *   sinks: { memory: (record) => records.push(record) },
 *   loggers: [
 *     { category: ["minginx", "http"], lowestLevel: "info", sinks: ["memory"] },
 *     { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
 *   ],
 * });
 * const service = new ServiceBuilder<Request, Response>()
 *   .layer(logger())
 *   .service(serviceFn(() => new Response("hello", { status: 201 })));
 * {
 *   await using server = Deno.serve(
 *     { hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *     toHandler(service),
 *   );
 *   const response = await fetch(`http://127.0.0.1:${server.addr.port}/greet?to=me`);
 *   assert.equal(await response.text(), "hello");
 * }
 * assert.equal(records.length, 1);
 * assert.equal(records[0].level, "info");
 * assert.equal(records[0].properties.path, "/greet?to=me");
 * assert.equal(records[0].properties.status, 201);
 * assert.equal(records[0].properties.bytes, 5);
 * await reset();
 * ```
 */
export function logger(options: LoggerOptions = {}): HttpLayer {
  const log = getLogger(options.category ?? ["minginx", "http"]);
  return (inner) =>
    async function logger(request: Request): Promise<Response> {
      const info = requestInfo(request);
      // As the request came to the logger: layers inside may set it later.
      const requestId = request.headers.get("x-request-id") ?? undefined;
      let response: Response | undefined; // the inner service's answer
      let threw = false;
      info.onSent((bytes, error, sent) => {
        // A layer outside may answer before the inner service does (a timeout's 504): then the
        // inner answer comes late, if at all, and the status is the one sent instead.
        const early = response === undefined && !threw;
        const why = error ?? info.abortReason ?? info.refusal ?? (early ? EARLY : undefined);
        const status = sent?.status ?? (threw ? 500 : response?.status ?? 0);
        const level: LogLevel = threw
          ? "error"
          : why !== undefined || status >= 500
          ? "warning"
          : "info";
        // A line no sink takes (--log-level warning, for one) costs no parsing and no record.
        if (!log.isEnabledFor(level)) return;
        const url = new URL(request.url);
        const properties = {
          client: formatAddress(info.client),
          method: request.method,
          path: url.pathname + url.search,
          status,
          bytes,
          durationMs: Math.round(performance.now() - info.startedAt),
          requestId,
          error: why === undefined ? undefined : messageOf(why),
        } satisfies RequestLogProperties;
        log[level](LINES[why === undefined ? 0 : 1], properties);
      });
      try {
        response = await inner(request);
      } catch (error) {
        // The server answers 500, unless the request was given up on first (a timeout).
        threw = info.abortReason === undefined;
        throw error;
      }
      return response;
    };
}
