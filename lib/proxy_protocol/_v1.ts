/**
 * The PROXY protocol's text form, version 1: one line, `PROXY TCP4|TCP6|UNKNOWN ...\r\n`.
 * Private to the PROXY protocol files; {@linkcode parseProxyHeader} and
 * {@linkcode encodeProxyHeader} are the public way in.
 *
 * @module
 */

import type { Address } from "../address.ts";
import { parseIp } from "../ip.ts";
import { ProxyHeaderError } from "./header.ts";
import { type Endpoints, formatIp, type Parsed, quote } from "./_util.ts";

/** The longest v1 line, CRLF included: `PROXY UNKNOWN`, two full IPv6 addresses, two ports. */
export const V1_MAX_LINE = 107;

const CR = 0x0d;
const LF = 0x0a;
const FORM = "expected PROXY TCP4|TCP6|UNKNOWN SRC DST SPORT DPORT";
const FAMILIES = ["TCP4", "TCP6", "UNKNOWN"];
const FIELDS = ["SRC", "DST", "SPORT", "DPORT"];
const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const PORT = /^(?:0|[1-9][0-9]{0,4})$/;
const V6_TEXT = /^[0-9a-fA-F:.]*$/;
const V6_LONGEST = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255".length;

/**
 * Parses a v1 line from bytes that start with `PROXY `. A line is checked as far as it has
 * come, so a bad one is rejected before its CRLF arrives.
 *
 * @returns The header and the line's length, or undefined while the bytes are a valid start.
 * @throws {ProxyHeaderError} `malformed` for a line that breaks the grammar, `too_large` for
 * one with no CRLF within 107 bytes.
 */
export function parseV1(bytes: Uint8Array): Parsed | undefined {
  const scan = Math.min(bytes.length, V1_MAX_LINE);
  let cr = -1;
  for (let i = 0; i < scan && cr < 0; i++) {
    if (bytes[i] === LF) fail(bytes.subarray(0, i + 1), "expected the line to end in CRLF, not LF");
    if (bytes[i] === CR) cr = i;
  }
  const seen = bytes.subarray(0, cr < 0 ? scan : Math.min(cr + 2, bytes.length));
  if (cr >= 0 && cr + 1 < bytes.length && bytes[cr + 1] !== LF) {
    fail(seen, "expected the line to end in CRLF, not CR alone");
  }
  const complete = cr >= 0 && cr + 1 < bytes.length && cr + 2 <= V1_MAX_LINE;
  const line = String.fromCharCode(...bytes.subarray(0, cr < 0 ? scan : cr));
  const header = fieldsOf(line, complete, seen);
  if (header) return { header, length: cr + 2 };
  if (cr === V1_MAX_LINE - 1 || (cr < 0 && bytes.length >= V1_MAX_LINE)) {
    throw new ProxyHeaderError(
      "too_large",
      `Cannot parse PROXY header "${quote(seen)}": expected a line ending in CRLF ` +
        `within ${V1_MAX_LINE} bytes`,
    );
  }
  return undefined;
}

/** Checks the fields of a line, or of as much of it as has come; the header once complete. */
function fieldsOf(line: string, complete: boolean, seen: Uint8Array): Parsed["header"] | undefined {
  const fields = line.split(" "); // fields[0] is "PROXY", as the caller checked
  const family = fields[1];
  if (fields.length === 2 && !complete) {
    if (!FAMILIES.some((name) => name.startsWith(family))) fail(seen, FORM);
    return undefined;
  }
  if (family === "UNKNOWN") { // the receiver must ignore the rest of the line
    return complete ? header(undefined, undefined) : undefined;
  }
  const values = fields.slice(2);
  if ((family !== "TCP4" && family !== "TCP6") || values.length > 4) fail(seen, FORM);
  if (complete && values.length < 4) fail(seen, FORM);
  const v4 = family === "TCP4";
  values.forEach((value, i) => {
    const partial = !complete && i === values.length - 1;
    if (i >= 2) {
      const ok = (partial && value === "") || (PORT.test(value) && Number(value) <= 65535);
      if (!ok) {
        fail(seen, `expected ${FIELDS[i]} to be a port from 0 to 65535 without leading zeros`);
      }
    } else if (!(v4 ? isV4(value, partial) : isV6(value, partial))) {
      const kind = v4
        ? "an IPv4 address, such as 192.0.2.1,"
        : "an IPv6 address, such as 2001:db8::1,";
      fail(seen, `expected ${FIELDS[i]} to be ${kind} for ${family}`);
    }
  });
  if (!complete) return undefined;
  const address = (ip: string, port: string): Address => {
    const bytes = parseIp(ip)!;
    return { hostname: formatIp(v4 ? bytes.subarray(12) : bytes), port: Number(port) };
  };
  return header(address(values[0], values[2]), address(values[1], values[3]));
}

function header(source: Address | undefined, destination: Address | undefined): Parsed["header"] {
  return { version: 1, command: "proxy", source, destination, authority: undefined };
}

/** A dotted quad without leading zeros, or while `partial`, the start of one. */
function isV4(text: string, partial: boolean): boolean {
  const parts = text.split(".");
  if (parts.length > 4 || (!partial && parts.length < 4)) return false;
  return parts.every((part, i) =>
    (OCTET.test(part) && Number(part) <= 255) || (partial && i === parts.length - 1 && part === "")
  );
}

/** An IPv6 address, or while `partial`, text that may still become one. */
function isV6(text: string, partial: boolean): boolean {
  if (!V6_TEXT.test(text) || text.length > V6_LONGEST) return false;
  return partial || (text.includes(":") && parseIp(text) !== undefined);
}

function fail(seen: Uint8Array, detail: string): never {
  throw new ProxyHeaderError("malformed", `Cannot parse PROXY header "${quote(seen)}": ${detail}`);
}

/** The v1 line for two addresses of one family. */
export function encodeV1(endpoints: Endpoints): Uint8Array {
  const { family, source, destination, sourcePort, destinationPort } = endpoints;
  return new TextEncoder().encode(
    `PROXY TCP${family} ${formatIp(source)} ${formatIp(destination)} ` +
      `${sourcePort} ${destinationPort}\r\n`,
  );
}
