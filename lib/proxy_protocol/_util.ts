/**
 * Private helpers of the PROXY protocol files: quoting bytes in messages, and IP addresses as
 * bytes and back.
 *
 * @module
 */

import type { Address } from "../address.ts";
import { parseIp } from "../ip.ts";
import { quoteText } from "../_util.ts";
import type { ProxyHeader } from "./header.ts";

/** A complete header and how many bytes it took. */
export interface Parsed {
  header: ProxyHeader;
  length: number;
}

/** The most bytes an error message quotes. */
const QUOTE_BYTES = 60;

/**
 * Bytes as text for an error message, without the quotes, as {@linkcode quoteText} shows text:
 * each byte a character; cut at 60 bytes with `…`.
 */
export function quote(bytes: Uint8Array): string {
  return quoteText(String.fromCharCode(...bytes.subarray(0, QUOTE_BYTES + 1)), QUOTE_BYTES);
}

/**
 * An IP address in the form Deno gives `NetAddr.hostname`: a dotted quad for 4 bytes; for 16,
 * lower-case hex with the longest run of two or more zero groups written `::`, and an
 * IPv4-mapped address as `::ffff:a.b.c.d`.
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  if (
    bytes.subarray(0, 10).every((byte) => byte === 0) && bytes[10] === 0xff && bytes[11] === 0xff
  ) {
    return `::ffff:${bytes.subarray(12).join(".")}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  let best = -1;
  let bestLength = 1; // a single zero group stays "0" (RFC 5952, 4.2.2)
  for (let i = 0; i < 8;) {
    let end = i;
    while (end < 8 && groups[end] === "0") end++;
    if (end - i > bestLength) [best, bestLength] = [i, end - i];
    i = end === i ? i + 1 : end;
  }
  if (best < 0) return groups.join(":");
  return `${groups.slice(0, best).join(":")}::${groups.slice(best + bestLength).join(":")}`;
}

/** Source and destination of a header to encode, as bytes of one family. */
export interface Endpoints {
  /** 4 when both addresses are IPv4; 6 otherwise, with an IPv4 address in its mapped form. */
  family: 4 | 6;
  source: Uint8Array;
  destination: Uint8Array;
  sourcePort: number;
  destinationPort: number;
}

/**
 * Checks the addresses of a header to encode and brings them to one family.
 *
 * @throws {TypeError} If a hostname is not an IP address.
 * @throws {RangeError} If a port is not a whole number from 0 to 65535.
 */
export function endpointsOf(source: Address, destination: Address, label: string): Endpoints {
  const ipOf = (address: Address, what: string) => {
    const { hostname } = address;
    const ip = hostname.includes("%") ? undefined : parseIp(hostname);
    if (ip === undefined) {
      throw new TypeError(
        `Cannot encode ${label}: ${what} "${hostname}" is not an IP address, ` +
          "expected an IPv4 or IPv6 address without brackets or zone",
      );
    }
    const { port } = address;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new RangeError(
        `Cannot encode ${label}: ${what} port ${port}, expected a whole number from 0 to 65535`,
      );
    }
    return { ip, v4: !hostname.includes(":") };
  };
  const from = ipOf(source, "source");
  const to = ipOf(destination, "destination");
  const v4 = from.v4 && to.v4;
  return {
    family: v4 ? 4 : 6,
    source: v4 ? from.ip.subarray(12) : from.ip,
    destination: v4 ? to.ip.subarray(12) : to.ip,
    sourcePort: source.port,
    destinationPort: destination.port,
  };
}
