/**
 * Host and port parsing: the `HOST:PORT` form used by `--listen`, `--upstream` and the library.
 *
 * @module
 */

/**
 * Where to listen or connect: a hostname or IP address, and a TCP port.
 *
 * @example Writing an upstream by hand
 * ```ts
 * import { type Address, formatAddress } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const upstream: Address = { hostname: "::1", port: 8080 };
 * assert.equal(formatAddress(upstream), "[::1]:8080");
 * ```
 */
export interface Address {
  /** A hostname, an IPv4 address, or an IPv6 address without brackets. */
  hostname: string;
  /** A TCP port, 0 to 65535. */
  port: number;
}

/**
 * Options for {@linkcode parseAddress}.
 *
 * @example A listen address may use port 0
 * ```ts
 * import { parseAddress } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseAddress("0.0.0.0:0", { label: "--listen", allowPortZero: true }).port, 0);
 * assert.throws(() => parseAddress("0.0.0.0:0", { label: "--upstream" }), /--upstream/);
 * ```
 */
export interface ParseAddressOptions {
  /**
   * What the text is, for error messages, such as `"--upstream"`.
   *
   * @default {"address"}
   */
  label?: string;
  /**
   * Accept port 0 (let the system pick a port), which makes sense for a listen address only.
   *
   * @default {false}
   */
  allowPortZero?: boolean;
}

const HOSTNAME =
  /^(?=.{1,253}\.?$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;
const IPV4_LIKE = /^[0-9.]+$/;
const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const PORT = /^[0-9]{1,5}$/;

/**
 * Parses `HOST:PORT`, where HOST is a hostname, an IPv4 address, or an IPv6 address in brackets.
 *
 * @param text The text to parse, such as `"127.0.0.1:8080"` or `"[::1]:8080"`.
 * @param options How to label errors and whether port 0 is allowed.
 * @returns The parsed address; an IPv6 hostname comes back without its brackets.
 * @throws {TypeError} If the text is not a valid `HOST:PORT`; the message quotes it.
 *
 * @example Parsing IPv4, IPv6 and hostnames
 * ```ts
 * import { parseAddress } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseAddress("127.0.0.1:8080"), { hostname: "127.0.0.1", port: 8080 });
 * assert.deepEqual(parseAddress("[::1]:8081"), { hostname: "::1", port: 8081 });
 * assert.throws(
 *   () => parseAddress("10.0.0:80", { label: "--upstream" }),
 *   { message: 'Cannot parse --upstream "10.0.0:80": expected HOST:PORT' },
 * );
 * ```
 */
export function parseAddress(text: string, options: ParseAddressOptions = {}): Address {
  const { label = "address", allowPortZero = false } = options;
  const fail = (hint = ""): never => {
    throw new TypeError(`Cannot parse ${label} "${text}": expected HOST:PORT${hint}`);
  };
  let hostname: string;
  let portText: string;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0 || text[end + 1] !== ":") fail(", as in [::1]:8080");
    hostname = text.slice(1, end);
    portText = text.slice(end + 2);
    if (!isIPv6(hostname)) fail(` with a valid IPv6 address in the brackets`);
  } else {
    const colon = text.lastIndexOf(":");
    if (colon < 0) fail();
    hostname = text.slice(0, colon);
    portText = text.slice(colon + 1);
    if (hostname.includes(":")) fail(", with an IPv6 address in brackets as in [::1]:8080");
    if (IPV4_LIKE.test(hostname) ? !isIPv4(hostname) : !HOSTNAME.test(hostname)) fail();
  }
  const port = Number(portText);
  const lowest = allowPortZero ? 0 : 1;
  if (!PORT.test(portText) || port < lowest || port > 65535) {
    fail(` with PORT from ${lowest} to 65535`);
  }
  return { hostname, port };
}

/**
 * Formats an address as `HOST:PORT`, with brackets around an IPv6 address. This is also the form
 * that `--allow-net` and `Deno.permissions` expect.
 *
 * @param address The address to format.
 * @returns The text, such as `"127.0.0.1:8080"` or `"[::1]:8080"`.
 *
 * @example Round trip
 * ```ts
 * import { formatAddress, parseAddress } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatAddress({ hostname: "::1", port: 80 }), "[::1]:80");
 * assert.equal(formatAddress(parseAddress("example.com:443")), "example.com:443");
 * ```
 */
export function formatAddress(address: Address): string {
  const { hostname, port } = address;
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

function isIPv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((part) => OCTET.test(part) && Number(part) <= 255);
}

function isIPv6(text: string): boolean {
  if (!text.includes(":") || !/^[0-9a-f:.]+$/i.test(text)) return false; // URL drops \t\n\r
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}
