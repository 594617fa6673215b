/**
 * Why connecting to an upstream failed: each attempt, and the error that ends the connection.
 *
 * @module
 */

import { type Address, formatAddress } from "./address.ts";
import { ConnectionError } from "./report.ts";
import { ResolveError } from "./resolve.ts";
import { messageOf } from "./_util.ts";

/**
 * One failed connect attempt.
 *
 * @example Reading why each upstream failed
 * ```ts
 * import { type ConnectAttempt, formatAddress, UpstreamConnectError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const attempts: ConnectAttempt[] = [
 *   { address: { hostname: "10.0.0.1", port: 80 }, error: new Deno.errors.ConnectionRefused() },
 * ];
 * const error = new UpstreamConnectError(attempts);
 * assert.deepEqual(error.attempts.map(({ address }) => formatAddress(address)), ["10.0.0.1:80"]);
 * ```
 */
export interface ConnectAttempt {
  /** The upstream tried. */
  address: Address;
  /** Why it failed. */
  error: unknown;
}

/**
 * Thrown when no candidate accepted. Its reason is `dns_failed` when every candidate failed to
 * resolve, and `no_upstream` otherwise; the message lists each attempt and why it failed.
 *
 * @example The reason follows from the attempts
 * ```ts
 * import { UpstreamConnectError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const refused = new Deno.errors.ConnectionRefused("Connection refused (os error 111)");
 * const error = new UpstreamConnectError([{ address: { hostname: "127.0.0.1", port: 9 }, error: refused }]);
 * assert.equal(error.reason, "no_upstream");
 * assert.equal(error.message, "Cannot connect to 127.0.0.1:9: Connection refused (os error 111)");
 * ```
 */
export class UpstreamConnectError extends ConnectionError {
  /** Every attempt, in the order made. */
  readonly attempts: readonly ConnectAttempt[];

  /**
   * Summarizes failed attempts.
   *
   * @param attempts Every attempt, in order; empty if there was no candidate.
   */
  constructor(attempts: readonly ConnectAttempt[]) {
    const unresolved = attempts.length > 0 &&
      attempts.every(({ error }) => error instanceof ResolveError);
    const describe = ({ address, error }: ConnectAttempt) =>
      `${formatAddress(address)}: ${messageOf(error)}`;
    super(
      unresolved ? "dns_failed" : "no_upstream",
      attempts.length === 0
        ? "Cannot connect: the balancer offered no upstream"
        : `Cannot connect to ${attempts.map(describe).join("; ")}`,
      { cause: attempts.at(-1)?.error },
    );
    this.name = "UpstreamConnectError";
    this.attempts = attempts;
  }
}
