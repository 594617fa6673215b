/**
 * The CLI's admin API: `--admin` serves what the proxies (on the main thread, or in each worker)
 * count, with the process's own metrics and the config's reloads added by the main thread.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { messageOf } from "../_util.ts";
import { type Address, formatAddress } from "../address.ts";
import { type AdminBackend, AdminError } from "../admin/backend.ts";
import { type AdminServer, serveAdmin } from "../admin/server.ts";
import { mergeStatuses } from "../admin/status.ts";
import type { ProxyStatus } from "../admin/status_types.ts";
import { processMetrics } from "../metrics/process.ts";
import { Registry } from "../metrics/registry.ts";
import { mergeSnapshots, snapshotOf } from "../metrics/snapshot.ts";
import type { Proxies } from "./proxies.ts";

/** What the main thread knows about the run, for the status. */
export interface RunInfo {
  /** The minginx version. */
  version: string;
  /** How many threads forward connections. */
  workers: number;
  /** Whether a shutdown has begun. */
  draining(): boolean;
  /** The config file, if one is used. */
  file?: string;
  /** The reloads so far, and when the config in use was applied. */
  reloads(): { applied: number; failed: number; loadedAt: Date };
}

/**
 * Starts the admin API over the proxies.
 *
 * @param listen Where to listen.
 * @param token The token it requires, if any.
 * @param proxies What runs the servers; started with metrics, so it can observe them.
 * @param info What the main thread knows.
 * @returns The admin server.
 * @throws {Error} If it cannot listen, naming the address.
 */
export function startAdmin(
  listen: Address,
  token: string | undefined,
  proxies: Proxies,
  info: RunInfo,
): AdminServer {
  const { observe, setUpstream } = proxies;
  if (!observe || !setUpstream) throw new Error("Cannot serve the admin API: nothing is counted");
  const registry = new Registry();
  processMetrics(registry);
  const reloads = registry.counter({
    name: "minginx_config_reloads_total",
    help: "Config reloads, by result: applied, or failed (the old config kept running).",
    labelNames: ["result"],
  });
  registry.addCollector(() => {
    const { applied, failed } = info.reloads();
    reloads.labels("applied").inc(applied - reloads.labels("applied").value);
    reloads.labels("failed").inc(failed - reloads.labels("failed").value);
  });
  const startedAt = new Date(performance.timeOrigin);
  const backend: AdminBackend = {
    async metrics() {
      const observed = await observe.call(proxies);
      return mergeSnapshots([snapshotOf(registry), ...observed.metrics]).render();
    },
    async status(): Promise<ProxyStatus> {
      const observed = await observe.call(proxies);
      if (observed.statuses.length === 0) throw new AdminError(503, "No worker answered in time");
      const { applied, failed, loadedAt } = info.reloads();
      return {
        version: info.version,
        startedAt: startedAt.toISOString(),
        uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000),
        draining: info.draining(),
        config: {
          version: applied + 1,
          ...(info.file === undefined ? {} : { file: info.file }),
          loadedAt: loadedAt.toISOString(),
          failedReloads: failed,
        },
        workers: info.workers,
        ...mergeStatuses(observed.statuses),
      };
    },
    upstream: (pool, address, action) => setUpstream.call(proxies, pool, address, action),
  };
  try {
    const server = serveAdmin({ listen, token, backend });
    getLogger(["minginx", "admin"]).info("Admin API listening on http://{admin}/", {
      admin: formatAddress(server.address),
    });
    return server;
  } catch (error) {
    throw new Error(`Cannot serve the admin API on ${formatAddress(listen)}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}
