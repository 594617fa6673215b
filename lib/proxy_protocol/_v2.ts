/**
 * The PROXY protocol's binary form, version 2: a 16-byte fixed part, an address block, then
 * TLVs. Private to the PROXY protocol files; {@linkcode parseProxyHeader} and
 * {@linkcode encodeProxyHeader} are the public way in.
 *
 * @module
 */

import type { Address } from "../address.ts";
import { ProxyHeaderError } from "./header.ts";
import { crc32c } from "./_crc32c.ts";
import { type Endpoints, formatIp, type Parsed } from "./_util.ts";

/** The 12 bytes every v2 header starts with: `\r\n\r\n\0\r\nQUIT\n`. */
export const V2_SIGNATURE: Uint8Array = new TextEncoder().encode("\r\n\r\n\0\r\nQUIT\n");
/** The fixed part: signature, version and command, family and transport, length. */
export const V2_FIXED = 16;
/** The longest authority the encoder writes, in UTF-8 bytes; a DNS name has at most 253. */
export const MAX_AUTHORITY_BYTES = 255;

const LOCAL = 0x20;
const PROXY = 0x21;
const TCP4 = 0x11;
const TCP6 = 0x21;
/** The address block's size for each family and transport byte the spec defines. */
const BLOCKS = new Map<number, number>([
  [0x00, 0], // UNSPEC
  [0x11, 12], // TCP over IPv4
  [0x12, 12], // UDP over IPv4
  [0x21, 36], // TCP over IPv6
  [0x22, 36], // UDP over IPv6
  [0x31, 216], // UNIX stream
  [0x32, 216], // UNIX datagram
]);
const FAMILIES = "0x00, 0x11, 0x12, 0x21, 0x22, 0x31 or 0x32";
const AUTHORITY = 0x02;
const CRC32C = 0x03;

/**
 * Parses a v2 header from bytes that start with the signature, checking the fixed part byte by
 * byte as it arrives.
 *
 * @returns The header and its length, or undefined while the bytes are a valid start.
 * @throws {ProxyHeaderError} `malformed` for bytes that break the format or fail the CRC32c.
 */
export function parseV2(bytes: Uint8Array): Parsed | undefined {
  if (bytes.length > 12 && bytes[12] !== LOCAL && bytes[12] !== PROXY) {
    fail(`version and command byte ${hex(bytes[12])}, expected 0x20 (LOCAL) or 0x21 (PROXY)`);
  }
  const block = BLOCKS.get(bytes[13]);
  if (bytes.length > 13 && block === undefined) {
    fail(`family and transport byte ${hex(bytes[13])}, expected ${FAMILIES}`);
  }
  const total = v2Length(bytes);
  if (total === undefined) return undefined;
  const length = total - V2_FIXED;
  if (length < block!) {
    fail(`address block of ${block} bytes does not fit in length ${length}`);
  }
  if (bytes.length < total) return undefined;
  const header = bytes.subarray(0, total);
  const authority = readTlvs(header, V2_FIXED + block!);
  const command = bytes[12] === PROXY ? "proxy" : "local";
  const family = command === "proxy" ? bytes[13] : undefined;
  const size = family === TCP4 ? 4 : family === TCP6 ? 16 : 0;
  const address = (ip: number, port: number): Address | undefined =>
    size === 0 ? undefined : {
      hostname: formatIp(header.slice(ip, ip + size)),
      port: (header[port] << 8) | header[port + 1],
    };
  const at = V2_FIXED;
  return {
    header: {
      version: 2,
      command,
      source: address(at, at + 2 * size),
      destination: address(at + size, at + 2 * size + 2),
      authority,
    },
    length: total,
  };
}

/**
 * The whole header's length once the fixed part has come, in bytes: 16 plus the length field.
 *
 * @returns The length, or undefined before the 16th byte.
 */
export function v2Length(bytes: Uint8Array): number | undefined {
  return bytes.length < V2_FIXED ? undefined : V2_FIXED + ((bytes[14] << 8) | bytes[15]);
}

/**
 * Reads the TLVs after the address block: they must fill the header exactly. A CRC32c TLV is
 * checked; other types but AUTHORITY are skipped.
 *
 * @returns The AUTHORITY TLV's value, if any.
 */
function readTlvs(header: Uint8Array, start: number): string | undefined {
  let authority: string | undefined;
  let crcAt: number | undefined;
  for (let at = start; at < header.length;) {
    if (header.length - at < 3) {
      fail(
        `TLV at offset ${at} has ${header.length - at} of its 3 type and length bytes, ` +
          `expected TLVs that exactly fill length ${header.length - V2_FIXED}`,
      );
    }
    const type = header[at];
    const size = (header[at + 1] << 8) | header[at + 2];
    const value = at + 3;
    if (value + size > header.length) {
      fail(
        `TLV of type ${hex(type)} at offset ${at} runs ${value + size - header.length} bytes ` +
          `past the end, expected TLVs that exactly fill length ${header.length - V2_FIXED}`,
      );
    }
    if (type === AUTHORITY) {
      if (authority !== undefined) fail("a second AUTHORITY TLV, expected at most one");
      authority = utf8(header.subarray(value, value + size));
    } else if (type === CRC32C) {
      if (crcAt !== undefined) fail("a second CRC32C TLV, expected at most one");
      if (size !== 4) fail(`CRC32C TLV of ${size} bytes, expected 4`);
      crcAt = value;
    }
    at = value + size;
  }
  if (crcAt !== undefined) checkCrc(header, crcAt);
  return authority;
}

/** Checks the CRC32c of the header, computed with its CRC32C field as zeros. */
function checkCrc(header: Uint8Array, at: number): void {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const sent = view.getUint32(at);
  let crc = crc32c(header.subarray(0, at));
  crc = crc32c(new Uint8Array(4), crc);
  crc = crc32c(header.subarray(at + 4), crc);
  if (crc !== sent) {
    fail(`CRC32C ${hex(sent, 8)} does not match the header's ${hex(crc, 8)}, expected them equal`);
  }
}

function utf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return fail("AUTHORITY TLV that is not UTF-8, expected a UTF-8 host name");
  }
}

function hex(value: number, digits = 2): string {
  return `0x${value.toString(16).padStart(digits, "0")}`;
}

function fail(detail: string): never {
  throw new ProxyHeaderError("malformed", `Cannot parse PROXY v2 header: ${detail}`);
}

/**
 * The v2 header with the PROXY command for two addresses of one family, with an AUTHORITY TLV
 * when `authority` is given and a CRC32C TLV when `withCrc`.
 *
 * @throws {RangeError} If the authority is longer than {@linkcode MAX_AUTHORITY_BYTES}.
 */
export function encodeV2(
  endpoints: Endpoints,
  authority: string | undefined,
  withCrc: boolean,
): Uint8Array {
  const { family, source, destination, sourcePort, destinationPort } = endpoints;
  const name = authority === undefined ? undefined : new TextEncoder().encode(authority);
  if (name && name.length > MAX_AUTHORITY_BYTES) {
    throw new RangeError(
      `Cannot encode PROXY v2 header: authority of ${name.length} bytes, ` +
        `expected at most ${MAX_AUTHORITY_BYTES}`,
    );
  }
  const block = 2 * source.length + 4;
  const length = block + (name ? 3 + name.length : 0) + (withCrc ? 7 : 0);
  const header = new Uint8Array(V2_FIXED + length);
  const view = new DataView(header.buffer);
  header.set(V2_SIGNATURE);
  header[12] = PROXY;
  header[13] = family === 4 ? TCP4 : TCP6;
  view.setUint16(14, length);
  header.set(source, V2_FIXED);
  header.set(destination, V2_FIXED + source.length);
  view.setUint16(V2_FIXED + 2 * source.length, sourcePort);
  view.setUint16(V2_FIXED + 2 * source.length + 2, destinationPort);
  let at = V2_FIXED + block;
  if (name) {
    header[at] = AUTHORITY;
    view.setUint16(at + 1, name.length);
    header.set(name, at + 3);
    at += 3 + name.length;
  }
  if (withCrc) {
    header[at] = CRC32C;
    view.setUint16(at + 1, 4);
    view.setUint32(at + 3, crc32c(header)); // the field is still zeros
  }
  return header;
}
