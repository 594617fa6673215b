/**
 * Retiring the stacks a reload replaced: their pools' health checks stop, and the connections on
 * upstreams the new config no longer has are drained or closed as it says.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { formatAddress } from "../address.ts";
import type { ServerConfig, UpstreamRemoval } from "../config/config.ts";
import type { Pool } from "../pool/pool.ts";
import type { Stack } from "./stack.ts";

const log = getLogger(["minginx", "reload"]);

/**
 * Lets an old stack go: its discovery and its pools' health checks stop, and the connections on
 * upstreams that the new stack no longer has (in any pool: the default, an SNI route, the fallback) are drained
 * or closed as they say.
 */
export function retire(
  old: { settings: ServerConfig; stack: Stack },
  replacement: { settings: ServerConfig; stack: Stack } | undefined,
): void {
  old.stack.stopDiscovery();
  const next = replacement?.settings;
  const all = next
    ? [
      ...next.upstreams,
      ...next.sni.flatMap(({ upstreams }) => upstreams),
      ...next.sniFallback ?? [],
    ]
    : [];
  const kept = new Set(all.map(({ address }) => formatAddress(address)));
  // Discovered upstreams are in the new pools, which start with the sets the old ones had.
  for (const pool of replacement?.stack.pools ?? []) {
    for (const { name } of pool.upstreams) kept.add(name);
  }
  const { action, after } = (next ?? old.settings).onUpstreamRemoved;
  const drains = old.stack.pools.map((pool) => retirePool(pool, kept, action, after));
  Promise.all(drains).then(() => Promise.all(old.stack.pools.map((pool) => pool.close())));
}

function retirePool(
  pool: Pool,
  kept: Set<string>,
  action: UpstreamRemoval["action"],
  after: number,
): Promise<unknown> {
  const drains: Promise<void>[] = [];
  for (const upstream of pool.upstreams) {
    if (kept.has(upstream.name) || upstream.active === 0) continue;
    if (action === "drain" && after === 0) continue; // they go on until they end
    log.info(
      "Upstream {upstream} was removed: its {open} connections are closed after {after} ms",
      {
        upstream: upstream.name,
        open: upstream.active,
        after,
      },
    );
    drains.push(pool.drain(upstream, { timeout: after }));
  }
  return Promise.all(drains);
}
