/**
 * From a parsed request head to a `Request`: the URL from the target and `Host`, the body's
 * framing from `Content-Length` or `Transfer-Encoding` (refusing a request that could be framed
 * two ways), and whether the connection stays open afterwards.
 *
 * @module
 */

import { HttpParseError, type RequestHead } from "./head.ts";
import type { BodyLength } from "./body_source.ts";
import { contentLength as lengthOf } from "./_bytes.ts";
import { quoteText } from "../../_util.ts";

/** What the server needs to know about a request beyond the `Request`. */
export interface RequestFraming {
  /** The URL, built from the target and `Host`. */
  url: string;
  /** How the body is delimited; `null` if there is none. */
  length: BodyLength | null;
  /** Whether the client asked to close the connection after this request. */
  close: boolean;
  /** Whether the client waits for `100 Continue` before sending the body. */
  expectContinue: boolean;
}

const HOST = /^[A-Za-z0-9._~!$&'()*+,;=%-]*(?::[0-9]*)?$|^\[[0-9A-Fa-f:.]+\](?::[0-9]*)?$/;

/**
 * Works out a request's URL and framing from its head.
 *
 * @param head The parsed head.
 * @param scheme `http` or `https`.
 * @param local The address the client connected to, as `HOST:PORT`: the host of an HTTP/1.0
 * request that sends no `Host`.
 * @returns The URL and framing.
 * @throws {HttpParseError} 400 for a missing or doubled `Host`, a malformed target or
 * `Content-Length`, or both framing fields at once; 501 for a transfer coding other than chunked
 * or an `Expect` other than `100-continue`.
 */
export function frameRequest(head: RequestHead, scheme: string, local: string): RequestFraming {
  let host: string | undefined, contentLength: string | undefined, coding: string | undefined;
  let connection = "", expect: string | undefined, hosts = 0;
  const { names, values } = head;
  for (let i = 0; i < names.length; i++) {
    switch (names[i]) {
      case "host":
        host = values[i];
        hosts++;
        break;
      case "content-length":
        if (contentLength !== undefined && contentLength !== values[i]) {
          throw bad(
            `Cannot use two Content-Length values "${quoteText(contentLength)}" and "${
              quoteText(values[i])
            }"`,
          );
        }
        contentLength = values[i];
        break;
      case "transfer-encoding":
        coding = coding === undefined ? values[i] : `${coding}, ${values[i]}`;
        break;
      case "connection":
        connection += "," + values[i].toLowerCase();
        break;
      case "expect":
        expect = values[i].toLowerCase();
    }
  }
  if (hosts > 1 || (hosts === 0 && head.minor === 1) || (host && !HOST.test(host))) {
    throw bad(
      hosts > 1 ? "Cannot use two Host fields" : `Cannot use Host "${quoteText(host ?? "")}"`,
    );
  }
  let length: BodyLength | null = null;
  if (coding !== undefined) {
    if (contentLength !== undefined) {
      throw bad("Cannot use both Transfer-Encoding and Content-Length");
    }
    if (coding.toLowerCase() !== "chunked") {
      const message = `Cannot use Transfer-Encoding "${quoteText(coding)}": expected chunked`;
      throw new HttpParseError(501, message);
    }
    length = "chunked";
  } else if (contentLength !== undefined) {
    const bytes = lengthOf(contentLength);
    if (bytes === undefined) {
      throw bad(
        `Cannot parse Content-Length "${quoteText(contentLength)}": expected a number of bytes`,
      );
    }
    length = bytes || null;
  }
  if (expect !== undefined && expect !== "100-continue") {
    throw new HttpParseError(
      417,
      `Cannot meet Expect "${quoteText(expect)}": expected 100-continue`,
    );
  }
  const close = head.minor === 0
    ? !/,\s*keep-alive\s*(?:,|$)/.test(connection)
    : /,\s*close\s*(?:,|$)/.test(connection);
  return {
    url: urlOf(head.target, scheme, host ?? local),
    length,
    close,
    expectContinue: expect !== undefined && length !== null && head.minor === 1,
  };
}

function urlOf(target: string, scheme: string, host: string): string {
  if (target.charCodeAt(0) === 47) return `${scheme}://${host}${target}`; // "/"
  if (/^https?:\/\//i.test(target)) return target;
  throw bad(`Cannot use request target "${quoteText(target)}": expected /PATH or an absolute URL`);
}

function bad(message: string): HttpParseError {
  return new HttpParseError(400, message);
}
