/**
 * One request and its response on an upstream connection: the head written, the body streamed
 * while the response is awaited (an upstream may answer before it has read it all), interim
 * `1xx` responses skipped, and the response's body framed as its head says.
 *
 * @module
 */

import { writeAll, writeBody } from "../h1/body_sink.ts";
import { type BodyLength, BodySource } from "../h1/body_source.ts";
import { parseResponseHead, type ResponseHead } from "../h1/head.ts";
import { contentLength } from "../h1/_bytes.ts";
import type { UpstreamConn } from "./keepalive.ts";

/** The upstream closed a reused connection before answering: the request may go again. */
export class StaleConnectionError extends Error {
  /** Whether it failed before any of the request body was read. */
  readonly beforeBody: boolean;

  /**
   * @param beforeBody Whether it failed before any of the request body was read.
   * @param cause What the read or write failed with.
   */
  constructor(beforeBody: boolean, cause?: unknown) {
    super("The upstream had closed the idle connection", { cause });
    this.name = "StaleConnectionError";
    this.beforeBody = beforeBody;
  }
}

/** What an upstream answered. */
export interface Answer {
  /** The response head. */
  head: ResponseHead;
  /** The response head's bytes, for a `101` passed on as it is; only a `101` has them. */
  raw?: Uint8Array;
  /** The response body; `undefined` when there is none (and for a `101`). */
  body: BodySource | undefined;
  /** Settles once the exchange is over: `true` if the connection can carry another. */
  reusable: Promise<boolean>;
}

const NO = Promise.resolve(false);

/** What {@linkcode exchange} sends. */
export interface Outgoing {
  /** The request head's bytes. */
  head: Uint8Array;
  /** The method, which decides whether the response has a body. */
  method: string;
  /** The request body, if any, and its framing. */
  body: ReadableStream<Uint8Array> | null;
  /** How the request body is framed. */
  length: BodyLength | null;
  /** The most bytes a response head may take. */
  maxHeaderBytes: number;
}

/**
 * Sends a request on `upstream` and reads the response head.
 *
 * @throws {StaleConnectionError} If a reused connection turned out closed before any answer.
 * @throws {HttpParseError} 502 for a malformed response head.
 * @throws The socket's error, or an `Error` if the upstream closed before answering.
 */
export async function exchange(upstream: UpstreamConn, outgoing: Outgoing): Promise<Answer> {
  const { conn, reader } = upstream;
  let sent: Promise<boolean> = Promise.resolve(true);
  if (outgoing.body) {
    // The head goes out with the first bytes of the body, which streams while the answer is
    // awaited: an upstream may answer before it has read the whole body.
    sent = writeBody(
      outgoing.body,
      conn,
      outgoing.length!,
      undefined,
      outgoing.head,
    )
      .then(() => true, () => {
        upstream.close(); // a body that failed cannot be finished: the answer is cut short too
        return false;
      });
  } else {
    try {
      await writeAll(conn, outgoing.head);
    } catch (error) {
      throw upstream.reused ? new StaleConnectionError(true, error) : error;
    }
  }
  let raw: Uint8Array | null;
  let head: ResponseHead;
  let first = true;
  do {
    try {
      raw = await reader.readHead(outgoing.maxHeaderBytes);
    } catch (error) {
      if (first && upstream.reused && reader.buffered === 0) {
        throw new StaleConnectionError(false, error);
      }
      throw error;
    }
    if (raw === null) {
      if (first && upstream.reused) throw new StaleConnectionError(false);
      throw new Error("The upstream closed the connection before answering");
    }
    head = parseResponseHead(raw);
    first = false;
  } while (head.status < 200 && head.status !== 101);
  const length = responseLength(head, outgoing.method);
  if (length === null) {
    // A 101's head goes to the client as it came: a copy, since the reader's buffer moves on.
    if (head.status === 101) return { head, raw: raw.slice(), body: undefined, reusable: NO };
    return { head, body: undefined, reusable: keepsAlive(head) ? sent : NO };
  }
  const body = new BodySource(reader, length, { peer: "upstream" });
  // Over only once the body has been read, even when the connection is not kept after it.
  const keep = length !== "close" && keepsAlive(head);
  const reusable = outgoing.body
    ? Promise.all([sent, body.finished]).then(([a, b]) => keep && a && b)
    : body.finished.then((finished) => keep && finished);
  return { head, body, reusable };
}

/** How the response body is framed, or `null` if the response has none. */
function responseLength(head: ResponseHead, method: string): BodyLength | null {
  const { status, names, values } = head;
  if (method === "HEAD" || status === 204 || status === 304 || status < 200) return null;
  let length: BodyLength = "close";
  for (let i = 0; i < names.length; i++) {
    if (names[i] === "transfer-encoding") {
      if (/(?:^|,)\s*chunked\s*$/i.test(values[i])) return "chunked";
      return "close";
    }
    if (names[i] === "content-length") length = contentLength(values[i]) ?? length;
  }
  return length === 0 ? null : length;
}

/** Whether the upstream keeps the connection open after this response. */
function keepsAlive(head: ResponseHead): boolean {
  let value = "";
  for (let i = 0; i < head.names.length; i++) {
    if (head.names[i] === "connection") value += "," + head.values[i].toLowerCase();
  }
  return head.minor === 1 ? !value.includes("close") : value.includes("keep-alive");
}
