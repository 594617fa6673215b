/**
 * IP addresses and CIDR blocks as the access and limit layers see them: every address as 16
 * bytes, IPv4 as its IPv4-mapped IPv6 form, so one rule or one key covers both ways of writing
 * an IPv4 client.
 *
 * @module
 */

/**
 * A block of addresses, `ADDRESS/PREFIX`. An IPv4 block is held in IPv4-mapped IPv6 form.
 *
 * @example Matching an IPv4 client written both ways
 * ```ts
 * import { parseCidr } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const lan = parseCidr("10.0.0.0/8");
 * assert.equal(lan.contains("10.1.2.3"), true);
 * assert.equal(lan.contains("::ffff:10.1.2.3"), true);
 * assert.equal(lan.contains("11.0.0.1"), false);
 * assert.equal(lan.text, "10.0.0.0/8");
 * ```
 */
export interface Cidr {
  /** The block as written. */
  readonly text: string;
  /**
   * Whether an address falls in the block.
   *
   * @param address An IPv4 or IPv6 address, as text or as {@linkcode parseIp} returns it; a
   * hostname or malformed text is contained only in `all`.
   */
  contains(address: string | Uint8Array): boolean;
}

const EXPECTED = "expected an IPv4 or IPv6 address or CIDR, such as 10.0.0.0/8, ::1 or all";

/**
 * Parses a CIDR block: `10.0.0.0/8`, `2001:db8::/32`, `::ffff:10.0.0.0/104`, a single address
 * (a full-length prefix), or `all` for every client, even one whose address is not an IP address.
 *
 * @param text The block.
 * @param label What the text is, for the error message, such as `"--allow"`.
 * @returns The block.
 * @throws {TypeError} If the text is not one of these forms, or the prefix is too long.
 *
 * @example Errors name the text
 * ```ts
 * import { parseCidr } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseCidr("all").contains("2001:db8::1"), true);
 * assert.throws(() => parseCidr("10.0.0.0/33", "--deny"), {
 *   message: 'Cannot parse --deny "10.0.0.0/33": expected an IPv4 or IPv6 address or CIDR, ' +
 *     "such as 10.0.0.0/8, ::1 or all",
 * });
 * ```
 */
export function parseCidr(text: string, label = "CIDR"): Cidr {
  if (text === "all") {
    return { text, contains: () => true };
  }
  const slash = text.indexOf("/");
  const addressText = slash < 0 ? text : text.slice(0, slash);
  const network = parseIp(addressText);
  const ipv4 = !addressText.includes(":");
  const maxPrefix = ipv4 ? 32 : 128;
  const prefixText = slash < 0 ? String(maxPrefix) : text.slice(slash + 1);
  const prefix = Number(prefixText);
  if (
    network === undefined || addressText.includes("%") || !/^\d{1,3}$/.test(prefixText) ||
    prefix > maxPrefix
  ) {
    throw new TypeError(`Cannot parse ${label} "${text}": ${EXPECTED}`);
  }
  const bits = ipv4 ? prefix + 96 : prefix;
  const mask = maskOf(bits);
  for (let i = 0; i < 16; i++) network[i] &= mask[i];
  return {
    text,
    contains(address) {
      const ip = typeof address === "string" ? parseIp(address) : address;
      if (ip === undefined || ip.length !== 16) return false;
      for (let i = 0; i < 16; i++) if ((ip[i] & mask[i]) !== network[i]) return false;
      return true;
    },
  };
}

function maskOf(bits: number): Uint8Array {
  const mask = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const left = bits - 8 * i;
    mask[i] = left >= 8 ? 0xff : left <= 0 ? 0 : (0xff << (8 - left)) & 0xff;
  }
  return mask;
}

/**
 * The key the limit layers count a client under: its address in one canonical form, with an
 * IPv4-mapped IPv6 address written as plain IPv4 and IPv6 in lower case with `::` compression.
 * Text that is not an IP address (a Unix socket path, say) is its own key.
 *
 * @param address The client's address.
 * @returns The key.
 *
 * @example The same client written two ways has one key
 * ```ts
 * import { clientKey } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(clientKey("::FFFF:192.0.2.1"), "192.0.2.1");
 * assert.equal(clientKey("2001:DB8:0:0::1"), "2001:db8::1");
 * ```
 */
export function clientKey(address: string): string {
  if (!address.includes(":")) return address;
  const ip = parseIp(address);
  if (ip === undefined) return address;
  if (isMappedV4(ip)) return `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  return new URL(`http://[${withoutZone(address)}]/`).hostname.slice(1, -1);
}

function isMappedV4(ip: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return ip[10] === 0xff && ip[11] === 0xff;
}

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const GROUP = /^[0-9a-f]{1,4}$/i;

/**
 * Whether a text is an IP address, IPv4 or IPv6 (with a zone or not), rather than a hostname.
 *
 * @param text The text.
 * @returns Whether it is.
 *
 * @example Addresses and names
 * ```ts
 * import { isIpAddress } from "./ip.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isIpAddress("10.0.0.1"), true);
 * assert.equal(isIpAddress("fe80::1%eth0"), true);
 * assert.equal(isIpAddress("db.internal"), false);
 * ```
 */
export function isIpAddress(text: string): boolean {
  return parseIp(text) !== undefined;
}

/**
 * Parses an IPv4 or IPv6 address into 16 bytes, an IPv4 address in its IPv4-mapped form
 * (`::ffff:a.b.c.d`). Parse a client's address once to test it against several blocks. The zone
 * of a link-local IPv6 address (`fe80::1%eth0`) is left out: no block names one.
 *
 * @param text The address, without brackets.
 * @returns The 16 bytes, or undefined if the text is not an IP address.
 *
 * @example IPv4 comes back mapped
 * ```ts
 * import { parseIp } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual([...parseIp("192.0.2.1")!.subarray(10)], [255, 255, 192, 0, 2, 1]);
 * assert.equal(parseIp("example.com"), undefined);
 * ```
 */
export function parseIp(text: string): Uint8Array | undefined {
  const bytes = new Uint8Array(16);
  if (!text.includes(":")) {
    if (!writeV4(text, bytes, 12)) return undefined;
    bytes[10] = bytes[11] = 0xff;
    return bytes;
  }
  const halves = withoutZone(text).split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : halves[0].split(":");
  const tail = halves.length === 1 || halves[1] === "" ? [] : halves[1].split(":");
  const groups = [...head, ...tail];
  const last = groups.at(-1) ?? "";
  const v4Tail = last.includes(".");
  if (v4Tail && halves.length === 2 && tail.length === 0) return undefined; // 1.2.3.4::
  const count = groups.length + (v4Tail ? 1 : 0);
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  if (v4Tail && !writeV4(last, bytes, 12)) return undefined;
  const write = (group: string, index: number) => {
    if (!GROUP.test(group)) return false;
    const value = parseInt(group, 16);
    bytes[2 * index] = value >> 8;
    bytes[2 * index + 1] = value & 0xff;
    return true;
  };
  const tailGroups = v4Tail ? tail.slice(0, -1) : tail;
  const headGroups = v4Tail && tail.length === 0 ? head.slice(0, -1) : head;
  const tailStart = (v4Tail ? 6 : 8) - tailGroups.length;
  if (!headGroups.every(write)) return undefined;
  if (!tailGroups.every((group, i) => write(group, tailStart + i))) return undefined;
  return bytes;
}

function withoutZone(address: string): string {
  const percent = address.indexOf("%");
  return percent < 0 ? address : address.slice(0, percent);
}

function writeV4(text: string, bytes: Uint8Array, at: number): boolean {
  const match = V4.exec(text);
  if (!match) return false;
  for (let i = 0; i < 4; i++) {
    const part = match[i + 1];
    if (part.length > 1 && part[0] === "0") return false; // 010 would be octal to some parsers
    const value = Number(part);
    if (value > 255) return false;
    bytes[at + i] = value;
  }
  return true;
}

/**
 * Whether an address is a loopback address: in 127.0.0.0/8 (mapped into IPv6 or not), or `::1`.
 *
 * @param text The address, without brackets.
 * @returns Whether it is loopback; `false` for text that is not an IP address.
 *
 * @example
 * ```ts
 * import { isLoopback } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isLoopback("127.0.0.1") && isLoopback("::1") && isLoopback("::ffff:127.1.2.3"));
 * assert.ok(!isLoopback("0.0.0.0") && !isLoopback("10.0.0.1") && !isLoopback("localhost"));
 * ```
 */
export function isLoopback(text: string): boolean {
  const ip = parseIp(text);
  if (ip === undefined) return false;
  if (isMappedV4(ip)) return ip[12] === 127;
  for (let i = 0; i < 15; i++) if (ip[i] !== 0) return false;
  return ip[15] === 1;
}
