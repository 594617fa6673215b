/**
 * A runtime on the main thread, for `--workers 1`: the same face a group of workers shows the CLI,
 * so that signals, reloads and the admin API treat both alike.
 *
 * @module
 */

import type { Seeds } from "./discovery_seeds.ts";
import type { Address } from "../address.ts";
import type { Config } from "../config/config.ts";
import type { ProxyMetrics } from "../metrics/proxy_metrics.ts";
import type { CliOptions } from "./args.ts";
import { loadModules, modules } from "./optional_modules.ts";
import type { ReloadChanges, Runtime } from "./runtime.ts";
import type { Proxies } from "./proxies.ts";

/** What runs a config's servers, on the main thread or in workers. */
export interface Target extends Proxies {
  /** Every listener's address, where the target knows them. */
  readonly addresses?: Address[];
  /** Applies a new config. */
  reload(config: Config, seeds?: Seeds): ReloadChanges | Promise<ReloadChanges>;
}

/**
 * Wraps a runtime on the main thread.
 *
 * @param runtime The runtime.
 * @returns The proxies it runs.
 */
export function onMainThread(runtime: Runtime): Target {
  const { admin } = runtime;
  return {
    get address() {
      return runtime.addresses[0];
    },
    get addresses() {
      return runtime.addresses;
    },
    finished: runtime.finished,
    shutdown: (ms) => void runtime.shutdown(ms),
    stats: () =>
      Promise.resolve([{
        index: 1,
        accepted: runtime.accepted,
        open: runtime.connections,
        closedByShutdown: runtime.closedByShutdown,
      }]),
    reload: (config, seeds) => runtime.reload(config, seeds),
    get reloadCertificates() {
      return runtime.reloadCertificates;
    },
    observe: admin &&
      (() =>
        Promise.resolve({
          metrics: [modules("metrics").snapshotOf(admin.metrics.registry)],
          statuses: [admin.status()],
        })),
    setUpstream: admin &&
      ((pool, address, action) => Promise.resolve(admin.setUpstream(pool, address, action))),
  };
}

/**
 * The metrics a proxy counts in, when the admin API is on; none otherwise, so that a proxy
 * without it does no counting at all (nor loads the modules that count).
 *
 * @param options The command line.
 * @returns New metrics, or `undefined`.
 */
export async function metricsFor(
  options: Pick<CliOptions, "admin">,
): Promise<ProxyMetrics | undefined> {
  if (options.admin === undefined) return undefined;
  await loadModules([], true);
  return new (modules("metrics").ProxyMetrics)();
}
