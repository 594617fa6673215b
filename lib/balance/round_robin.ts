/**
 * Round-robin balancing: each connection starts at the next upstream in the list.
 *
 * @module
 */

import { type Address, parseAddress } from "../address.ts";
import type { Balancer } from "../connect.ts";

/**
 * A balancer that hands each new connection the next upstream in the list, then the rest in list
 * order as fallbacks, so a refused connect moves on to the following upstream.
 *
 * @param upstreams The upstreams, as addresses or `HOST:PORT` text; at least one.
 * @returns The balancer.
 * @throws {TypeError} If the list is empty or a text is not `HOST:PORT`.
 *
 * @example Connections cycle through the upstreams in order
 * ```ts
 * import { formatAddress, roundRobin } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const balancer = roundRobin(["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]);
 * const first = () => formatAddress([...balancer.pick()][0]);
 * assert.deepEqual([first(), first(), first(), first()], [
 *   "10.0.0.1:80",
 *   "10.0.0.2:80",
 *   "10.0.0.3:80",
 *   "10.0.0.1:80",
 * ]);
 * ```
 */
export function roundRobin(upstreams: readonly (string | Address)[]): Balancer {
  if (upstreams.length === 0) {
    throw new TypeError("Cannot balance over no upstreams: expected at least one");
  }
  const list = upstreams.map((upstream) =>
    typeof upstream === "string" ? parseAddress(upstream, { label: "upstream" }) : upstream
  );
  let next = 0;
  return {
    *pick(): Generator<Address> {
      const start = next;
      next = (next + 1) % list.length;
      for (let i = 0; i < list.length; i++) yield list[(start + i) % list.length];
    },
  };
}
