/**
 * The messages between the main thread and its workers (see workers.ts and worker.ts).
 *
 * @module
 */

import type { Seeds } from "./discovery_seeds.ts";
import type { Address } from "../address.ts";
import type { UpstreamAction } from "../admin/backend.ts";
import type { ServersStatus, UpstreamStatus } from "../admin/status_types.ts";
import type { MetricSnapshot } from "../metrics/snapshot.ts";
import type { Config } from "../config/config.ts";
import type { CliOptions } from "./args.ts";
import type { LogLosses } from "./logging.ts";
import type { ProxyCounters } from "./proxy.ts";
import type { ReloadChanges } from "./runtime.ts";

/** A message from the main thread to a worker. */
export type ToWorker =
  | {
    type: "start";
    index: number;
    count: number;
    options: CliOptions;
    config?: Config;
    seeds?: Seeds;
  }
  | { type: "drain"; ms: number }
  | { type: "reload"; config: Config; seeds?: Seeds }
  | { type: "reload-tls" }
  | { type: "reopen-log" }
  | { type: "stats" }
  | { type: "observe"; id: number }
  | { type: "upstream"; id: number; pool: string; address: string; action: UpstreamAction };

/** A message from a worker to the main thread. */
export type FromWorker =
  | { type: "listening"; address: Address }
  | { type: "failed"; message: string }
  | { type: "stats" } & WorkerStats
  | { type: "reloaded"; index: number; error?: string; changes?: ReloadChanges }
  | { type: "finished"; losses: LogLosses; stats: WorkerStats }
  | {
    type: "observed";
    id: number;
    index: number;
    metrics: MetricSnapshot[];
    status: ServersStatus;
  }
  | {
    type: "upstream-changed";
    id: number;
    index: number;
    upstream?: UpstreamStatus;
    error?: { status: number; message: string };
  };

/** One worker's counters. */
export interface WorkerStats extends ProxyCounters {
  /** The worker's number, from 1. */
  index: number;
}
