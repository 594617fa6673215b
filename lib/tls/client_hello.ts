/**
 * Reading the server name (SNI) and ALPN protocols of a TLS ClientHello without terminating TLS,
 * so a connection can be routed by name and its bytes forwarded unchanged.
 *
 * @module
 */

import { checkWhole } from "../_util.ts";

/**
 * What a ClientHello says about where the client wants to go.
 *
 * @example The fields of a ClientHello
 * ```ts
 * import type { ClientHello } from "@minginx/minginx";
 *
 * const hello: ClientHello = { serverName: "a.test", alpn: ["h2", "http/1.1"] };
 * ```
 */
export interface ClientHello {
  /** The host name of the server_name extension, lowercased, without a trailing dot. */
  serverName: string | undefined;
  /** The ALPN protocols in the client's order, one character a byte (latin1); empty if none. */
  alpn: string[];
}

/**
 * Why bytes are not a ClientHello: `not_tls` when they are not TLS at all (such as plain HTTP),
 * `malformed` when they are TLS but break the format, `too_large` when the ClientHello would
 * exceed the limit, and `truncated` when the connection ended before it was complete.
 *
 * @example Falling back to plain text only when the bytes are not TLS
 * ```ts
 * import type { ClientHelloProblem } from "@minginx/minginx";
 *
 * const fallback = (problem: ClientHelloProblem) => problem === "not_tls";
 * ```
 */
export type ClientHelloProblem = "not_tls" | "malformed" | "too_large" | "truncated";

/**
 * Thrown when bytes are not a ClientHello. It keeps the bytes read so far, so a caller can
 * forward them to a fallback upstream.
 *
 * @example Plain HTTP is not TLS
 * ```ts
 * import { ClientHelloError, parseClientHello } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const request = new TextEncoder().encode("GET / HTTP/1.1\r\n");
 * assert.throws(() => parseClientHello(request), (error) => {
 *   assert.ok(error instanceof ClientHelloError);
 *   assert.equal(error.problem, "not_tls");
 *   assert.equal(error.bytes, request); // to forward to a plain-text upstream
 *   return true;
 * });
 * ```
 */
export class ClientHelloError extends Error {
  /** What is wrong with the bytes. */
  readonly problem: ClientHelloProblem;
  /** The bytes read so far. */
  readonly bytes: Uint8Array;

  /**
   * Describes a rejection.
   *
   * @param problem What is wrong with the bytes.
   * @param message The message, such as `Cannot parse ClientHello: ...`.
   * @param bytes The bytes read so far.
   */
  constructor(problem: ClientHelloProblem, message: string, bytes: Uint8Array) {
    super(message);
    this.name = "ClientHelloError";
    this.problem = problem;
    this.bytes = bytes;
  }
}

const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const HEADER = 5; // content type, version (2), length (2)
const MAX_RECORD = 16_384;
const SERVER_NAME = 0;
const ALPN = 16;
const EXPECTED_HANDSHAKE = "expected a TLS handshake record (content type 22)";
const DNS_NAME = /^[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*$/i;

/**
 * The default limit, in bytes of TLS records: one record of the largest size, 16 KiB, with its
 * 5-byte header. Browsers' ClientHellos, post-quantum key shares included, take under 2 KiB.
 *
 * @example A ClientHello that cannot fit is rejected before it is read
 * ```ts
 * import { MAX_CLIENT_HELLO, parseClientHello } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_CLIENT_HELLO, 16_389);
 * const huge = new Uint8Array([22, 3, 1, 0x40, 0x00, 1, 0x01, 0x00, 0x00]); // needs 65 KiB more
 * assert.throws(() => parseClientHello(huge), { name: "ClientHelloError" });
 * ```
 */
export const MAX_CLIENT_HELLO = MAX_RECORD + HEADER;

type Fail = (problem: ClientHelloProblem, detail: string) => never;

/**
 * Parses the bytes read so far from a connection as the start of a TLS connection: one or more
 * handshake records carrying a ClientHello. The first byte tells TLS from other protocols; bytes
 * after the ClientHello are ignored. It takes time linear in the bytes and never looks past
 * `maxBytes`.
 *
 * @param bytes The bytes read so far.
 * @param maxBytes The most bytes of records the ClientHello may take.
 * @returns The ClientHello when complete; undefined when the bytes are a valid start and more
 * are needed.
 * @throws {ClientHelloError} When the bytes are not TLS, break the format, or the records the
 * ClientHello needs would exceed `maxBytes` (`too_large`, thrown as soon as that is known).
 * @throws {RangeError} If `maxBytes` is not a whole number of at least 1.
 *
 * @example Reading the server name as bytes arrive
 * ```ts
 * import { parseClientHello } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const name = [..."A.test."].map((c) => c.charCodeAt(0));
 * const sni = [0, 0, 0, name.length + 5, 0, name.length + 3, 0, 0, name.length, ...name];
 * const alpn = [0, 16, 0, 5, 0, 3, 2, 0x68, 0x32]; // "h2"
 * const extensions = [...sni, ...alpn];
 * const body = [3, 3, ...new Array(32).fill(7), 0, 0, 2, 0x13, 0x01, 1, 0];
 * body.push(0, extensions.length, ...extensions);
 * const record = new Uint8Array([22, 3, 1, 0, body.length + 4, 1, 0, 0, body.length, ...body]);
 *
 * assert.equal(parseClientHello(record.subarray(0, 20)), undefined); // a start: read more
 * assert.deepEqual(parseClientHello(record), { serverName: "a.test", alpn: ["h2"] });
 * ```
 */
export function parseClientHello(
  bytes: Uint8Array,
  maxBytes: number = MAX_CLIENT_HELLO,
): ClientHello | undefined {
  checkWhole(maxBytes, "ClientHello limit", 1, " of bytes");
  const fail: Fail = (problem, detail) => {
    throw new ClientHelloError(problem, `Cannot parse ClientHello: ${detail}`, bytes);
  };
  const input = bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes;
  const message = reassemble(input, maxBytes, fail);
  return message && parseMessage(message, fail);
}

/** The ClientHello's body from its records, or undefined if more records are needed. */
function reassemble(input: Uint8Array, maxBytes: number, fail: Fail): Uint8Array | undefined {
  let need = 4; // handshake bytes needed: the header, then the header and the body
  let have = 0; // handshake bytes in the complete records so far
  let header = 0; // handshake header bytes seen, a partial record's included
  let length = 0;
  for (let at = 0, record = 1;; at += HEADER + sizeAt(input, at), record++) {
    const left = input.length - at;
    if (left >= 1 && input[at] !== HANDSHAKE) {
      badRecord(record, at, `${EXPECTED_HANDSHAKE}, got ${hex(input[at])}`, fail);
    }
    if (left >= 2 && input[at + 1] !== 3) {
      badRecord(record, at, `expected TLS record version 3.x, got ${hex(input[at + 1])}.x`, fail);
    }
    if (left < HEADER) return fits(at + recordsFor(need - have), maxBytes, fail);
    const size = sizeAt(input, at);
    if (size === 0 || size > MAX_RECORD) {
      fail("malformed", `record ${record} at byte ${at}: length ${size}, expected 1 to 16384`);
    }
    const end = at + HEADER + size;
    for (let i = at + HEADER; header < 4 && i < Math.min(end, input.length); i++, header++) {
      if (header > 0) length = length * 256 + input[i];
      else if (input[i] !== CLIENT_HELLO) {
        fail("malformed", `handshake message type ${input[i]}: expected 1 (ClientHello)`);
      }
    }
    if (header === 4) need = 4 + length;
    if (end > input.length) return fits(end + recordsFor(need - have - size), maxBytes, fail);
    have += size;
    if (have >= need) return collect(input, need);
  }
}

/** Not TLS if the first record is wrong; malformed if a later one is. */
function badRecord(record: number, at: number, detail: string, fail: Fail): never {
  return record === 1
    ? fail("not_tls", detail)
    : fail("malformed", `record ${record} at byte ${at}: ${detail}`);
}

/** The length in the record header that starts at `at`. */
function sizeAt(input: Uint8Array, at: number): number {
  return (input[at + 3] << 8) | input[at + 4];
}

/** The fewest bytes of records that carry `bytes` more handshake bytes. */
function recordsFor(bytes: number): number {
  return bytes <= 0 ? 0 : bytes + HEADER * Math.ceil(bytes / MAX_RECORD);
}

/** Undefined (read more) if `total` bytes fit in `maxBytes`; throws `too_large` otherwise. */
function fits(total: number, maxBytes: number, fail: Fail): undefined {
  if (total > maxBytes) {
    fail(
      "too_large",
      `the ClientHello needs ${total} bytes of records, expected at most ${maxBytes}`,
    );
  }
}

/** The first `need` handshake bytes, from complete records, without the 4-byte header. */
function collect(input: Uint8Array, need: number): Uint8Array {
  if (sizeAt(input, 0) >= need) return input.subarray(HEADER + 4, HEADER + need);
  const message = new Uint8Array(need);
  for (let at = 0, filled = 0; filled < need; at += HEADER + sizeAt(input, at)) {
    const end = at + HEADER + Math.min(sizeAt(input, at), need - filled);
    for (let i = at + HEADER; i < end; i++) message[filled++] = input[i];
  }
  return message.subarray(4);
}

/** A cursor over a ClientHello's body; no read goes past the end it is given. */
class Reader {
  at = 0;
  constructor(readonly bytes: Uint8Array, readonly fail: Fail) {}

  /** Moves past `length` bytes; returns where they start. */
  skip(length: number, end: number, what: string): number {
    if (length > end - this.at) this.malformed(what, length, `at most the ${end - this.at} left`);
    return (this.at += length) - length;
  }

  /** Reads a big-endian number of `size` bytes. */
  number(size: 1 | 2, end: number, what: string): number {
    const at = this.skip(size, end, what);
    return size === 1 ? this.bytes[at] : (this.bytes[at] << 8) | this.bytes[at + 1];
  }

  /**
   * Reads the `size`-byte length of a vector of `min` bytes or more (`max` at most, or exactly
   * the rest up to `end` if `max` is "rest"). The cursor is then at the contents; returns their end.
   */
  vector(size: 1 | 2, end: number, what: string, min = 0, max: number | "rest" = Infinity): number {
    const rest = end - this.at - size;
    const length = this.number(size, end, `${what} length`);
    if (max === "rest" && length !== rest) this.malformed(what, length, `${rest}, the rest`);
    if (length < min) this.malformed(what, length, `at least ${min}`);
    if (length > (max === "rest" ? rest : max)) this.malformed(what, length, `${min} to ${max}`);
    this.skip(length, end, what);
    return (this.at -= length) + length;
  }

  malformed(what: string, length: number, expected: string): never {
    return this.fail("malformed", `${what} of ${length} bytes: expected ${expected}`);
  }
}

function parseMessage(body: Uint8Array, fail: Fail): ClientHello {
  const read = new Reader(body, fail);
  const end = body.length;
  const version = read.number(2, end, "legacy version");
  if (version >> 8 !== 3) fail("malformed", `legacy version ${hex(version, 4)}: expected 0x03xx`);
  read.skip(32, end, "random");
  read.at = read.vector(1, end, "session id", 0, 32);
  const suites = read.vector(2, end, "cipher suites", 2);
  if ((suites - read.at) % 2 !== 0) {
    read.malformed("cipher suites", suites - read.at, "an even number");
  }
  read.at = suites;
  read.at = read.vector(1, end, "compression methods", 1);
  const hello: ClientHello = { serverName: undefined, alpn: [] };
  if (read.at === end) return hello; // no extensions
  read.vector(2, end, "extensions", 0, "rest");
  const seen = new Set<number>();
  while (read.at < end) {
    const type = read.number(2, end, "extension type");
    const stop = read.vector(2, end, `extension ${type}`);
    if (seen.has(type)) fail("malformed", `extension ${type} twice: expected each at most once`);
    seen.add(type);
    if (type === SERVER_NAME) hello.serverName = serverName(read, stop);
    if (type === ALPN) hello.alpn = protocols(read, stop);
    read.at = stop;
  }
  return hello;
}

function serverName(read: Reader, end: number): string | undefined {
  read.vector(2, end, "server name list", 1, "rest");
  let name: string | undefined;
  while (read.at < end) {
    const type = read.number(1, end, "server name type");
    const stop = read.vector(2, end, "server name");
    if (type === 0 && name !== undefined) {
      read.fail("malformed", "a second host name: expected one in the server name list");
    }
    if (type === 0) name = hostName(read, stop);
    read.at = stop;
  }
  return name;
}

/** The host name lowercased and without a trailing dot; throws if it is not a DNS name. */
function hostName(read: Reader, end: number): string {
  const text = latin1(read.bytes, read.at, Math.min(end, read.at + 254));
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (end - read.at > 254 || name.length > 253 || !DNS_NAME.test(name)) {
    const shown = end - read.at > 254 ? `${text.slice(0, 64)}…` : text;
    read.fail("malformed", `server name ${JSON.stringify(shown)} is not a DNS name`);
  }
  return name.toLowerCase();
}

function protocols(read: Reader, end: number): string[] {
  read.vector(2, end, "ALPN protocol list", 1, "rest");
  const names: string[] = [];
  while (read.at < end) {
    const stop = read.vector(1, end, "ALPN protocol", 1);
    names.push(latin1(read.bytes, read.at, stop));
    read.at = stop;
  }
  return names;
}

/** One character a byte, so that any bytes survive. */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

function hex(value: number, digits = 2): string {
  return `0x${value.toString(16).padStart(digits, "0")}`;
}
