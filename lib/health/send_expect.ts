/**
 * The send/expect health check, like HAProxy's `tcp-check send` and `tcp-check expect string`.
 *
 * @module
 */

import { checkWhole } from "../_util.ts";
import type { HealthCheck } from "./check.ts";
import { excerpt, formatBytes, indexOfBytes, readUntil, withConnection } from "./_util.ts";
import { writeAll } from "../byte_stream.ts";

/**
 * Options for {@linkcode sendExpectCheck}.
 *
 * @example A Redis check
 * ```ts
 * import type { SendExpectOptions } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const redis: SendExpectOptions = { send: "PING\r\n", expect: "+PONG" };
 * assert.equal(redis.maxBytes, undefined);
 * ```
 */
export interface SendExpectOptions {
  /**
   * What to write once connected; a string is sent as UTF-8. Leave it out for servers that speak
   * first, such as SMTP, FTP or SSH.
   *
   * @default {nothing}
   */
  send?: Uint8Array | string;
  /** Bytes the reply must contain, anywhere in its first `maxBytes`; a string is UTF-8. */
  expect: Uint8Array | string;
  /**
   * The most bytes to read while looking for `expect`.
   *
   * @default {65536}
   */
  maxBytes?: number;
}

const FIRST_BUFFER = 4 * 1024;

/**
 * A check that connects, writes `send` if given, and reads until the bytes received contain
 * `expect`. It fails if the stream ends first or `maxBytes` arrive without them, quoting the start
 * of what came.
 *
 * @param options What to send, what to expect, and how far to read.
 * @returns The check.
 * @throws {TypeError} If `expect` is empty.
 * @throws {RangeError} If `maxBytes` is not a whole number, or is shorter than `expect`.
 *
 * @example A server that answers "+PONG" to "PING"
 * ```ts
 * import { sendExpectCheck } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const serving = (async () => {
 *   using conn = await listener.accept();
 *   await conn.read(new Uint8Array(64));
 *   await conn.write(new TextEncoder().encode("+PONG\r\n"));
 * })();
 * const check = sendExpectCheck({ send: "PING\r\n", expect: "+PONG" });
 * await check({ hostname: "127.0.0.1", port: listener.addr.port }, AbortSignal.timeout(5_000));
 * await serving;
 * assert.throws(() => sendExpectCheck({ expect: "" }), TypeError);
 * ```
 */
export function sendExpectCheck(options: SendExpectOptions): HealthCheck {
  const encoder = new TextEncoder();
  const bytes = (value: Uint8Array | string) =>
    typeof value === "string" ? encoder.encode(value) : value.slice();
  const send = options.send === undefined ? undefined : bytes(options.send);
  const expect = bytes(options.expect);
  const maxBytes = checkWhole(options.maxBytes ?? 64 * 1024, "send/expect max bytes", 1);
  if (expect.length === 0) {
    throw new TypeError("Cannot use send/expect check: expected a non-empty expect");
  }
  if (maxBytes < expect.length) {
    throw new RangeError(
      `Cannot use send/expect max bytes ${maxBytes}: ` +
        `expected at least the ${expect.length} bytes of expect`,
    );
  }
  const wanted = excerpt(expect);
  return function sendExpectCheck(upstream, signal) {
    return withConnection(upstream, signal, async (conn) => {
      if (send && send.length > 0) await writeAll(conn, send);
      let buffer = new Uint8Array(Math.min(maxBytes, FIRST_BUFFER));
      let filled = 0;
      let searched = 0;
      let matched = false;
      const found = (received: Uint8Array) => {
        matched = indexOfBytes(received, expect, searched) >= 0;
        searched = Math.max(0, received.length - expect.length + 1);
        return matched;
      };
      for (;;) {
        const result = await readUntil(conn, buffer, found, filled);
        if (matched) return;
        filled = result.filled;
        const received = buffer.subarray(0, filled);
        if (result.ended) {
          throw new Error(
            filled === 0
              ? `Expected ${wanted}, got end of stream`
              : `Expected ${wanted}, got ${excerpt(received)} and end of stream`,
          );
        }
        if (filled === maxBytes) {
          throw new Error(
            `Expected ${wanted} within ${formatBytes(maxBytes)}, got ${excerpt(received)}`,
          );
        }
        const grown = new Uint8Array(Math.min(maxBytes, buffer.length * 2));
        grown.set(received);
        buffer = grown;
      }
    });
  };
}
