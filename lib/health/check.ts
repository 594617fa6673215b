/**
 * Active health checks: a function that probes one upstream and settles with the verdict.
 *
 * @module
 */

import type { Address } from "../address.ts";
import { withConnection } from "./_util.ts";

/**
 * Probes one upstream. It resolves when the upstream is healthy and rejects with an `Error` whose
 * message says why when it is not, such as `Connection refused (os error 111)` or
 * `HTTP status 503, expected 2xx or 3xx`.
 *
 * A check must honour `signal`: the scheduler aborts it when the check takes too long. The
 * built-in checks then close their socket, so a pending read ends, and reject with
 * `signal.reason`.
 *
 * @param upstream The upstream to probe.
 * @param signal Aborted when the check must stop.
 * @returns A promise that resolves when healthy and rejects when not.
 *
 * @example A check of your own: the upstream must accept within the signal's deadline
 * ```ts
 * import { type HealthCheck, tcpCheck } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const tcp = tcpCheck();
 * const notOnPort9: HealthCheck = async (upstream, signal) => {
 *   if (upstream.port === 9) throw new Error("Port 9 is the discard service");
 *   await tcp(upstream, signal);
 * };
 * await assert.rejects(
 *   notOnPort9({ hostname: "127.0.0.1", port: 9 }, AbortSignal.timeout(1_000)),
 *   { message: "Port 9 is the discard service" },
 * );
 * ```
 */
export type HealthCheck = (upstream: Address, signal: AbortSignal) => Promise<unknown>;

/**
 * A check that passes when a TCP connect succeeds; the connection is closed at once.
 *
 * @returns The check.
 *
 * @example An upstream passes while it listens, and fails once it stops
 * ```ts
 * import { tcpCheck } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const check = tcpCheck();
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const upstream = { hostname: "127.0.0.1", port: listener.addr.port };
 * await check(upstream, AbortSignal.timeout(5_000));
 * listener.close();
 * await assert.rejects(check(upstream, AbortSignal.timeout(5_000)), Deno.errors.ConnectionRefused);
 * ```
 */
export function tcpCheck(): HealthCheck {
  return function tcpCheck(upstream, signal) {
    return withConnection(upstream, signal, () => Promise.resolve());
  };
}
