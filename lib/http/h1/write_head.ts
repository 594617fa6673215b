/**
 * Writing an HTTP/1.1 head: a start line, the fields of a `Headers`, and the framing fields the
 * writer decides itself (`Content-Length` or `Transfer-Encoding`, `Connection`, `Date`).
 *
 * @module
 */

import { latin1Bytes } from "./_bytes.ts";
import type { BodyLength } from "./body_source.ts";

/** Fields a writer of HTTP/1.1 sets itself, never copied from a `Headers`. */
const FRAMING = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

const REASONS: Record<number, string> = {
  100: "Continue",
  101: "Switching Protocols",
  200: "OK",
  201: "Created",
  202: "Accepted",
  204: "No Content",
  206: "Partial Content",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  417: "Expectation Failed",
  421: "Misdirected Request",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};

/** The usual reason phrase for a status, or `""`. */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? "";
}

let dateSecond = 0;
let dateText = "";

/** Today's `Date` field value, worked out at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/**
 * A head's bytes: the start line, each field of `headers` but the framing ones, the framing
 * fields for `length`, and a `Connection` field if one is given.
 *
 * @param start The start line, without its CRLF.
 * @param headers The fields; `Set-Cookie` ones stay separate.
 * @param length How the body is framed; `null` for a message without a body.
 * @param connection The `Connection` field to send, such as `close` or `upgrade`, if any.
 * @param date Whether to add `Date` when `headers` has none.
 */
export function formatHead(
  start: string,
  headers: Headers,
  length: BodyLength | null,
  connection: string | undefined,
  date = false,
): Uint8Array {
  let head = start + "\r\n";
  headers.forEach((value, name) => { // cheaper than for...of, which builds an iterator
    if (!FRAMING.has(name)) head += name + ": " + value + "\r\n";
  });
  if (date && !headers.has("date")) head += "date: " + httpDate() + "\r\n";
  if (typeof length === "number") head += "content-length: " + length + "\r\n";
  else if (length === "chunked") head += "transfer-encoding: chunked\r\n";
  if (connection !== undefined) head += "connection: " + connection + "\r\n";
  return latin1Bytes(head + "\r\n");
}
