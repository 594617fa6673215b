/**
 * What a PROXY protocol header says (haproxy's PROXY protocol, versions 1 and 2): who the client
 * is, whom it connected to, and the error for a header that cannot be read.
 *
 * @module
 */

import type { Address } from "../address.ts";

/**
 * A parsed PROXY protocol header. Addresses are undefined when the header carries none that a TCP
 * proxy can use: v1 `UNKNOWN`, the v2 `LOCAL` command, and the v2 families UNSPEC, UDP and UNIX.
 * The receiver then uses the connection's own addresses.
 *
 * IPv4 addresses are written as dotted quads; IPv6 addresses as Deno writes them (lower case,
 * `::` compression, an IPv4-mapped address as `::ffff:192.0.2.1`), without brackets.
 *
 * @example Using the client's address when the header has one
 * ```ts
 * import type { Address, ProxyHeader } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const header: ProxyHeader = {
 *   version: 2,
 *   command: "proxy",
 *   source: { hostname: "2001:db8::1", port: 51000 },
 *   destination: { hostname: "2001:db8::80", port: 443 },
 *   authority: "example.com",
 * };
 * const peer: Address = { hostname: "10.0.0.2", port: 40000 }; // the proxy that connected
 * assert.equal((header.source ?? peer).hostname, "2001:db8::1");
 * ```
 */
export interface ProxyHeader {
  /** 1 for the text form (`PROXY TCP4 ...\r\n`), 2 for the binary form. */
  version: 1 | 2;
  /**
   * `"proxy"` when the proxy relays a client; `"local"` when the proxy connected on its own
   * behalf, such as for a health check (v2 only).
   */
  command: "proxy" | "local";
  /** The client's address and port, or undefined when the header has none. */
  source: Address | undefined;
  /** The address and port the client connected to, or undefined when the header has none. */
  destination: Address | undefined;
  /** The host name the client asked for (TLS SNI), from the v2 `PP2_TYPE_AUTHORITY` TLV. */
  authority: string | undefined;
}

/**
 * Why a header could not be read: `"malformed"` for bytes that are not a valid header,
 * `"truncated"` for a connection that ended before the header did, `"too_large"` for a header
 * longer than the reader allows.
 *
 * @example Telling a bad peer from a short read
 * ```ts
 * import type { ProxyHeaderProblem } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const blame = (problem: ProxyHeaderProblem) => problem === "truncated" ? "network" : "peer";
 * assert.equal(blame("malformed"), "peer");
 * ```
 */
export type ProxyHeaderProblem = "malformed" | "truncated" | "too_large";

/**
 * Thrown when a PROXY protocol header cannot be parsed or read; `problem` says why. The
 * connection should be closed: the spec forbids guessing what the bytes were meant to be.
 *
 * @example Catching a bad header
 * ```ts
 * import { parseProxyHeader, ProxyHeaderError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * try {
 *   parseProxyHeader(new TextEncoder().encode("GET / HTTP/1.1\r\n"));
 *   assert.fail("expected a ProxyHeaderError");
 * } catch (error) {
 *   assert.ok(error instanceof ProxyHeaderError);
 *   assert.equal(error.name, "ProxyHeaderError");
 *   assert.equal(error.problem, "malformed");
 * }
 * ```
 */
export class ProxyHeaderError extends Error {
  /** Why the header could not be read. */
  readonly problem: ProxyHeaderProblem;

  /**
   * Makes the error.
   *
   * @param problem Why the header could not be read.
   * @param message What was wrong and what was expected.
   * @param options The error's cause, if any.
   */
  constructor(problem: ProxyHeaderProblem, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProxyHeaderError";
    this.problem = problem;
  }
}
