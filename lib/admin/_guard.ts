/**
 * Who may use the admin API: the bearer token (or the same token as a Basic password, which is
 * what a browser can send), and the checks that keep other web pages out: a Host that a DNS
 * rebinding cannot forge when there is no token, and a same-origin rule for changes.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { isLoopback } from "../ip.ts";

/** Why a request is refused, as the status and message to answer with. */
export interface Refusal {
  status: 401 | 403;
  message: string;
}

/** Answers to a refused request that asks for credentials, in the two forms accepted. */
export const CHALLENGES = ['Bearer realm="minginx"', 'Basic realm="minginx", charset="UTF-8"'];

/**
 * Checks requests against the admin token, if there is one.
 *
 * @example
 * ```ts ignore
 * const guard = new Guard("s3cret");
 * guard.check(request); // undefined, or why it is refused
 * ```
 */
export class Guard {
  readonly #digest: Uint8Array | undefined;

  /**
   * @param token The token requests must carry; none if `undefined`.
   */
  constructor(token: string | undefined) {
    this.#digest = token === undefined ? undefined : digest(token);
  }

  /**
   * Why a request may not be served, or `undefined` if it may.
   *
   * @param request The request.
   * @returns The refusal, or `undefined`.
   */
  check(request: Request): Refusal | undefined {
    const host = request.headers.get("host") ?? "";
    if (this.#digest === undefined) {
      // Without a token, only loopback can reach the API; a page on another site must not reach
      // it through a name that resolves to 127.0.0.1 (DNS rebinding), so the Host must be one.
      if (!loopbackHost(host)) {
        return {
          status: 403,
          message:
            `Host "${host}" is not a loopback address or localhost: without --admin-token, ` +
            "the admin API answers only to 127.0.0.1, [::1] or localhost",
        };
      }
    } else if (!this.#authorized(request.headers.get("authorization"))) {
      return { status: 401, message: "Expected the admin token, as a Bearer token" };
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      // A change must come from the API's own page or from a program, never from another origin.
      const origin = request.headers.get("origin");
      if (origin !== null && origin !== `http://${host}` && origin !== `https://${host}`) {
        return { status: 403, message: `Origin "${origin}" may not change the proxy` };
      }
    }
    return undefined;
  }

  #authorized(header: string | null): boolean {
    if (header === null) return false;
    const space = header.indexOf(" ");
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    let token: string;
    if (scheme === "bearer") token = value;
    else if (scheme === "basic") {
      let decoded: string;
      try {
        decoded = new TextDecoder().decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)));
      } catch {
        return false;
      }
      token = decoded.slice(decoded.indexOf(":") + 1);
    } else return false;
    // Both sides are hashed first, so the comparison takes the same time whatever was sent.
    return timingSafeEqual(digest(token), this.#digest!);
  }
}

function digest(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

function loopbackHost(host: string): boolean {
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.split(":")[0];
  return name === "localhost" || isLoopback(name);
}
