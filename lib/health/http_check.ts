/**
 * The HTTP health check: `GET PATH` over a plain TCP connection, judged by the status code.
 *
 * @module
 */

import { formatAddress } from "../address.ts";
import type { HealthCheck } from "./check.ts";
import { excerpt, formatBytes, readUntil, withConnection } from "./_util.ts";
import { writeAll } from "../byte_stream.ts";

/**
 * A status code, or an inclusive range of them such as `[200, 299]`.
 *
 * @example Any 2xx, and 401
 * ```ts
 * import type { HttpStatusMatch } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const statuses: HttpStatusMatch[] = [[200, 299], 401];
 * assert.equal(statuses.length, 2);
 * ```
 */
export type HttpStatusMatch = number | readonly [low: number, high: number];

/**
 * Options for {@linkcode httpCheck}.
 *
 * @example Accept 200 to 299 and 401 (a login page means the server is up)
 * ```ts
 * import type { HttpCheckOptions } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const options: HttpCheckOptions = { path: "/", statuses: [[200, 299], 401] };
 * assert.equal(options.statuses?.length, 2);
 * ```
 */
export interface HttpCheckOptions {
  /** The path to request, starting with `/`, such as `"/healthz"` or `"/status?full=0"`. */
  path: string;
  /**
   * The statuses that pass: codes and inclusive `[low, high]` ranges, each from 100 to 599.
   *
   * @default {[[200, 299], [300, 399]]}
   */
  statuses?: readonly HttpStatusMatch[];
  /**
   * The `Host` header to send.
   *
   * @default {The upstream as HOST:PORT, such as "10.0.0.1:8080" or "[::1]:8080"}
   */
  host?: string;
}

/** The longest response head the check reads while looking for the end of the status line. */
const MAX_STATUS_LINE = 8 * 1024;
const PATH = /^\/[\x21-\x7e]*$/;
const HOST = /^[\x21-\x7e]+$/;
const STATUS_LINE = /^HTTP\/1\.[0-9] ([0-9]{3})(?: |$)/;
const CR = 13;
const LF = 10;

/**
 * A check that sends `GET PATH HTTP/1.1` with `Connection: close` over a plain TCP connection and
 * passes when the status code is one of `statuses` (by default any 2xx or 3xx). It reads only the
 * status line, at most 8 KiB, and then closes the connection. A response that is not HTTP/1.x fails
 * with a message quoting what came.
 *
 * @param options The path to request, the statuses that pass, and the `Host` header.
 * @returns The check; it resolves with the status code.
 * @throws {TypeError} If the path does not start with `/` or holds spaces or control characters,
 * or the host is empty or holds them.
 * @throws {RangeError} If `statuses` is empty, or a code is not a whole number from 100 to 599, or
 * a range is upside down.
 *
 * @example An upstream passes on 204 and fails on 503
 * ```ts
 * import { httpCheck } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * await using server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen() {} },
 *   (request) => new Response(null, { status: request.url.endsWith("/ok") ? 204 : 503 }),
 * );
 * const upstream = { hostname: "127.0.0.1", port: server.addr.port };
 * await httpCheck({ path: "/ok" })(upstream, AbortSignal.timeout(5_000));
 * await assert.rejects(
 *   httpCheck({ path: "/down" })(upstream, AbortSignal.timeout(5_000)),
 *   { message: "HTTP status 503, expected 2xx or 3xx" },
 * );
 * ```
 */
export function httpCheck(options: HttpCheckOptions): HealthCheck {
  const { path, statuses = [[200, 299], [300, 399]], host } = options;
  if (!PATH.test(path)) {
    throw new TypeError(
      `Cannot use HTTP check path "${path}": expected a path starting with "/", ` +
        "without spaces or control characters",
    );
  }
  if (host !== undefined && !HOST.test(host)) {
    throw new TypeError(
      `Cannot use HTTP check host "${host}": expected a host without spaces or control characters`,
    );
  }
  const ranges = statuses.map(checkStatus);
  if (ranges.length === 0) {
    throw new RangeError("Cannot use HTTP check statuses []: expected at least one status");
  }
  const expected = describeStatuses(ranges);
  const encoder = new TextEncoder();
  return function httpCheck(upstream, signal) {
    const request = encoder.encode(
      `GET ${path} HTTP/1.1\r\nHost: ${host ?? formatAddress(upstream)}\r\n` +
        "Connection: close\r\nUser-Agent: minginx-health-check\r\n\r\n",
    );
    return withConnection(upstream, signal, async (conn) => {
      await writeAll(conn, request);
      const buffer = new Uint8Array(MAX_STATUS_LINE);
      const { filled } = await readUntil(conn, buffer, (received) => received.includes(LF));
      const received = buffer.subarray(0, filled);
      const end = received.indexOf(LF);
      if (end < 0) {
        if (filled === 0) throw new Error("Expected an HTTP status line, got end of stream");
        if (filled === buffer.length) {
          throw new Error(
            `Expected an HTTP status line within ${formatBytes(filled)}, got ${excerpt(received)}`,
          );
        }
        throw new Error(`Expected an HTTP status line, got ${excerpt(received)} and end of stream`);
      }
      const line = received.subarray(0, received[end - 1] === CR ? end - 1 : end);
      const match = STATUS_LINE.exec(new TextDecoder().decode(line));
      if (!match) throw new Error(`Expected an HTTP/1.x status line, got ${excerpt(line)}`);
      const status = Number(match[1]);
      if (!ranges.some(([low, high]) => low <= status && status <= high)) {
        throw new Error(`HTTP status ${status}, expected ${expected}`);
      }
      return status;
    });
  };
}

function checkStatus(match: HttpStatusMatch): readonly [number, number] {
  const [low, high] = typeof match === "number" ? [match, match] : match;
  const valid = (code: number) => Number.isInteger(code) && code >= 100 && code <= 599;
  if (!valid(low) || !valid(high) || low > high) {
    const text = typeof match === "number" ? `${match}` : `[${match.join(", ")}]`;
    throw new RangeError(
      `Cannot use HTTP status ${text}: ` +
        "expected a code from 100 to 599, or a range [low, high] of them",
    );
  }
  return [low, high];
}

/** `2xx or 3xx`, `200 or 204`, `200-204, 301 or 5xx`. */
function describeStatuses(ranges: readonly (readonly [number, number])[]): string {
  const parts = ranges.map(([low, high]) =>
    low === high
      ? `${low}`
      : low % 100 === 0 && high === low + 99
      ? `${low / 100}xx`
      : `${low}-${high}`
  );
  return parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(", ")} or ${parts.at(-1)}`;
}
