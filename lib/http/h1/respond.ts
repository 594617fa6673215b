/**
 * Sending a `Response` over HTTP/1.1: its framing (the service's `Content-Length`, else chunks,
 * else the end of the connection for an HTTP/1.0 client), no body where HTTP has none, and
 * `Connection: close` when the connection ends after it.
 *
 * @module
 */

import type { Meter, Sink } from "../../pipe.ts";
import type { BodyLength } from "./body_source.ts";
import { BodyLengthError, writeAll, writeBody } from "./body_sink.ts";
import { sourceOf } from "./body_source.ts";
import { contentLength } from "./_bytes.ts";
import { formatHead, reasonPhrase } from "./write_head.ts";

/** The most bytes of a body read whole to go out with its head. */
const SMALL = 16 * 1024;

/** How a response went out. */
export interface Sent {
  /** Bytes of body sent. */
  bytes: number;
  /** Whether the connection must close afterwards (a body framed by the end of the stream). */
  close: boolean;
}

/**
 * Writes `response` to `sink`.
 *
 * @param response The response.
 * @param sink The client's side.
 * @param options The request's method and version, and whether to close after it.
 * @returns The bytes of body sent, and whether the connection must close.
 * @throws The body's error or the sink's; the connection cannot carry another message then.
 */
export async function respond(
  response: Response,
  sink: Sink,
  options: { head: boolean; minor: number; close: boolean; meter?: Meter },
): Promise<Sent> {
  const { status, headers } = response;
  const start = `HTTP/1.1 ${status} ${response.statusText || reasonPhrase(status)}`;
  const known = contentLength(headers.get("content-length"));
  const bodiless = status === 204 || status === 304 || status < 200;
  let close = options.close || headers.get("connection")?.toLowerCase() === "close";
  let length: BodyLength | null;
  if (bodiless) length = status === 304 && known !== undefined ? known : null;
  else if (known !== undefined) length = known;
  else if (response.body === null) length = 0;
  else if (options.head) length = null;
  else if (options.minor === 1) length = "chunked";
  else {
    length = "close";
    close = true;
  }
  const body = response.body;
  const head = formatHead(
    start,
    headers,
    length === "close" ? null : length,
    close ? "close" : undefined,
    true,
  );
  if (body === null || options.head || bodiless) {
    if (body !== null) await body.cancel().catch(() => {});
    await writeAll(sink, head, options.meter);
    return { bytes: 0, close };
  }
  if (typeof length === "number" && length <= SMALL && !sourceOf(body)) {
    // A small body of known length, such as the proxy's own answers: head and body in one write.
    const bytes = await response.bytes();
    if (bytes.length !== length) {
      throw new BodyLengthError(
        `The body is ${bytes.length} bytes but its Content-Length is ${length}`,
      );
    }
    const whole = new Uint8Array(head.length + bytes.length);
    whole.set(head);
    whole.set(bytes, head.length);
    await writeAll(sink, whole, options.meter);
    return { bytes: bytes.length, close };
  }
  const bytes = await writeBody(body, sink, length!, options.meter, head);
  return { bytes, close };
}
