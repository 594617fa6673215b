/**
 * Parsing a ClientHello's body, once its records are complete: the fields before the extensions
 * are checked and skipped, and of the extensions only the server name and ALPN are read.
 * Private: not exported from mod.ts.
 *
 * @module
 */

import type { ClientHello } from "./client_hello.ts";
import { type Fail, hex } from "./_records.ts";

const SERVER_NAME = 0;
const ALPN = 16;
const DNS_NAME = /^[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*$/i;
const EXPECTED_DNS_NAME =
  "expected labels of 1 to 63 letters, digits, hyphens or underscores, joined by dots, " +
  "at most 253 bytes";

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

  /** Throws `malformed`: a field's length is not what is expected. */
  malformed(what: string, length: number, expected: string): never {
    return this.fail("malformed", `${what} of ${length} bytes: expected ${expected}`);
  }
}

/**
 * Parses the body of a ClientHello handshake message.
 *
 * @param body The message without its 4-byte handshake header.
 * @param fail Throws the rejection of the bytes read.
 * @returns The server name and ALPN protocols.
 * @throws What `fail` throws, with problem `malformed`, if the body breaks the format.
 */
export function parseBody(body: Uint8Array, fail: Fail): ClientHello {
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

/** The host name of a server_name extension's list, if it has one. */
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
    read.fail(
      "malformed",
      `server name ${JSON.stringify(shown)} is not a DNS name: ${EXPECTED_DNS_NAME}`,
    );
  }
  return name.toLowerCase();
}

/** The protocols of an ALPN extension's list, in order. */
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
  let text = "";
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]);
  return text;
}
