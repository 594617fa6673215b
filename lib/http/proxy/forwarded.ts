/**
 * The fields a reverse proxy changes on the way to the upstream: hop-by-hop fields removed, and
 * `X-Forwarded-*` (or `Forwarded`) set, keeping what a trusted proxy in front already set.
 *
 * @module
 */

import { type Cidr, parseCidr, parseIp } from "../../ip.ts";
import type { RequestInfo } from "../request_info.ts";

/** Fields that describe one hop (RFC 9110 7.6.1), never passed on, in either direction. */
export const HOP_BY_HOP: readonly string[] = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/**
 * Which fields tell the upstream about the client: `X-Forwarded-For`, `-Proto` and `-Host`, the
 * standard `Forwarded` (RFC 7239), both, or none.
 *
 * @example The standard field only
 * ```ts
 * import type { ForwardedStyle } from "@minginx/minginx/http";
 *
 * const style: ForwardedStyle = "forwarded";
 * ```
 */
export type ForwardedStyle = "x-forwarded" | "forwarded" | "both" | "none";

/**
 * Removes hop-by-hop fields, those the `Connection` field names included.
 *
 * @param headers The fields, changed in place.
 * @param keepUpgrade Whether to keep `Upgrade` and `Connection: upgrade`, for a request that
 * switches protocols.
 */
export function stripHopByHop(headers: Headers, keepUpgrade = false): void {
  const connection = headers.get("connection");
  if (connection !== null) {
    for (const token of connection.split(",")) {
      const name = token.trim().toLowerCase();
      // Host is what the request is for: no client may have it dropped.
      if (name !== "" && name !== "host" && name !== "upgrade" && name !== "close") {
        headers.delete(name);
      }
    }
  }
  for (const name of HOP_BY_HOP) {
    if (keepUpgrade && name === "upgrade") continue;
    if (headers.has(name)) headers.delete(name);
  }
  if (keepUpgrade) headers.set("connection", "upgrade");
}

/** Decides whose forwarding fields to believe: the peers in a list of blocks. */
export class TrustedProxies {
  readonly #blocks: Cidr[];

  /**
   * @param blocks CIDR blocks or addresses, such as `10.0.0.0/8`.
   * @throws {TypeError} If a block is malformed, naming it as `--trusted-proxy`.
   */
  constructor(blocks: readonly string[] = []) {
    this.#blocks = blocks.map((block) => parseCidr(block, "--trusted-proxy"));
  }

  /** Whether the peer's address is in one of the blocks. */
  has(address: string): boolean {
    if (this.#blocks.length === 0) return false;
    const ip = parseIp(address) ?? address;
    return this.#blocks.some((block) => block.contains(ip));
  }
}

/**
 * Sets the forwarding fields for a request from `info`'s client. A trusted peer's fields are
 * kept and the client appended (`X-Forwarded-For`, `Forwarded`) or kept as they are
 * (`X-Forwarded-Proto`, `-Host`); an untrusted peer's are replaced.
 *
 * @param headers The request's fields, changed in place.
 * @param info Who sent the request, and over what.
 * @param style Which fields to set.
 * @param trusted Whose fields to keep.
 */
export function setForwarded(
  headers: Headers,
  info: RequestInfo,
  style: ForwardedStyle,
  trusted: TrustedProxies,
): void {
  if (style === "none") return;
  const keep = trusted.has(info.client.hostname);
  const client = info.client.hostname;
  const proto = info.secure ? "https" : "http";
  const host = headers.get("host");
  if (style !== "forwarded") {
    const chain = keep ? headers.get("x-forwarded-for") : null;
    headers.set("x-forwarded-for", chain ? `${chain}, ${client}` : client);
    if (!keep || !headers.has("x-forwarded-proto")) headers.set("x-forwarded-proto", proto);
    if (host !== null && (!keep || !headers.has("x-forwarded-host"))) {
      headers.set("x-forwarded-host", host);
    }
  }
  if (style !== "x-forwarded") {
    const node = client.includes(":") ? `"[${client}]"` : client;
    let element = `for=${node};proto=${proto}`;
    if (host !== null) element += `;host=${quoted(host)}`;
    const chain = keep ? headers.get("forwarded") : null;
    headers.set("forwarded", chain ? `${chain}, ${element}` : element);
  }
}

/** A `Forwarded` value: a token as it is, anything else in quotes. */
function quoted(value: string): string {
  return /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)
    ? value
    : `"${value.replace(/["\\]/g, "\\$&")}"`;
}
