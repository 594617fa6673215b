/**
 * The Logger middleware: one line a connection, at its end, through LogTape.
 *
 * @module
 */

import { getLogger, type LogLevel } from "@logtape/logtape";
import type { Connection } from "../connection.ts";
import type { CloseReason, ConnectionReport } from "../report.ts";
import type { Layer } from "../service.ts";

/**
 * Options for {@linkcode accessLog}.
 *
 * @example Log under your application's category
 * ```ts
 * import { accessLog, type AccessLogOptions } from "@minginx/minginx";
 *
 * const options: AccessLogOptions = { category: ["my-app", "proxy"] };
 * const layer = accessLog(options);
 * ```
 */
export interface AccessLogOptions {
  /**
   * The LogTape category to log under.
   *
   * @default {["minginx", "access"]}
   */
  category?: readonly string[];
}

const LEVELS: Record<CloseReason, LogLevel> = {
  client_closed: "info",
  upstream_closed: "info",
  client_reset: "info",
  upstream_reset: "warning",
  no_upstream: "warning",
  dns_failed: "warning",
  connect_timeout: "warning",
  idle_timeout: "info",
  over_limit: "warning",
  rate_limited: "warning",
  denied: "info",
  fault: "info",
  drained: "info",
  shutdown: "info",
  bad_request: "info",
  proxy_header: "warning",
  client_hello: "info",
  not_tls: "info",
  tls_handshake: "info",
  handshake_timeout: "info",
  upstream_tls: "warning",
  error: "error",
};

const COUNTS = "{reason} up={bytesUp}B down={bytesDown}B {durationMs}ms";
const LINE = `{client} -> {upstream} ${COUNTS}`;
// The lines with a TLS server name, and without an upstream (turned away, or HTTP mode's, whose
// requests each have their own), with and without an error: templates none built per line.
const SNI_LINE = `${LINE} sni={serverName}`;
const ALONE_LINE = `{client} ${COUNTS}`;
const LINES = [
  [LINE, `${LINE}: {error}`],
  [SNI_LINE, `${SNI_LINE}: {error}`],
  [ALONE_LINE, `${ALONE_LINE}: {error}`],
] as const;

/**
 * The Logger layer: when a connection ends, logs its report as one line whose properties are the
 * report's fields, at `info` for ordinary endings, `warning` when an upstream failed, and `error`
 * for a bug. An error thrown by an inner layer ends the connection with reason `error`; it is
 * logged and returned as the report, so outer layers always get one.
 *
 * Like all of minginx, it prints nothing until the application configures LogTape.
 *
 * @param options Where to log.
 * @returns The layer.
 *
 * @example Collect access log records
 * ```ts
 * import { accessLog, forward, serve, ServiceBuilder } from "@minginx/minginx";
 * import { configure, type LogRecord, reset } from "@logtape/logtape";
 * import assert from "node:assert/strict";
 *
 * const records: LogRecord[] = [];
 * await configure({
 *   sinks: { memory: (record) => records.push(record) },
 *   loggers: [
 *     { category: ["minginx", "access"], lowestLevel: "info", sinks: ["memory"] },
 *     { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
 *   ],
 * });
 * const service = new ServiceBuilder()
 *   .layer(accessLog())
 *   .service(forward({ upstreams: ["127.0.0.1:9"] })); // nothing listens on port 9
 * {
 *   await using proxy = serve({ listen: "127.0.0.1:0", service });
 *   using client = await Deno.connect(proxy.address);
 *   assert.equal(await client.read(new Uint8Array(1)), null);
 * }
 * assert.equal(records[0].properties.reason, "no_upstream");
 * await reset();
 * ```
 */
export function accessLog(options: AccessLogOptions = {}): Layer<Connection, ConnectionReport> {
  const logger = getLogger(options.category ?? ["minginx", "access"]);
  return (inner) =>
    async function accessLog(connection: Connection): Promise<ConnectionReport> {
      let report: ConnectionReport;
      try {
        report = await inner(connection);
      } catch (error) {
        report = connection.end(error);
      }
      const level = LEVELS[report.reason] ?? "error";
      // end() makes the report once and never changes it: the log record can hold it, no copy.
      const properties = report as unknown as Record<string, unknown>;
      const kind = report.serverName !== undefined ? 1 : report.upstream === null ? 2 : 0;
      const line = LINES[kind][report.error === undefined ? 0 : 1];
      logger[level](line, properties);
      return report;
    };
}
