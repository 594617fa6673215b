/**
 * Retiring the stacks a reload replaced: their pools' health checks stop, and the connections on
 * upstreams the new config no longer has are drained or closed as it says.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { ServerConfig, UpstreamRemoval } from "../config/config.ts";
import type { Pool } from "../pool/pool.ts";
import type { Stack } from "./stack.ts";

const log = getLogger(["minginx", "reload"]);

/**
 * Lets an old stack go: its discovery and its pools' health checks stop, its idle kept-alive
 * upstream connections (HTTP mode) close, and the connections on
 * upstreams that the new stack's pools no longer have (the default, an SNI route, the fallback;
 * listed or discovered) are drained or closed as its settings say.
 */
export function retire(
  old: { settings: ServerConfig; stack: Stack },
  replacement: { settings: ServerConfig; stack: Stack } | undefined,
): void {
  old.stack.stopDiscovery();
  old.stack.closeIdle?.();
  // The new pools hold every upstream the new settings list, and the sets discovery had found.
  const kept = new Set(
    (replacement?.stack.pools ?? []).flatMap((pool) => pool.upstreams.map(({ name }) => name)),
  );
  const { action, after } = (replacement?.settings ?? old.settings).onUpstreamRemoved;
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
