/**
 * What the CLI runs, as signals, reloads and the admin API see it: one runtime on the main
 * thread, or a group of workers.
 *
 * @module
 */

import type { Address } from "../address.ts";
import type { UpstreamAction } from "../admin/backend.ts";
import type { ServersStatus, UpstreamStatus } from "../admin/status_types.ts";
import type { MetricSnapshot } from "../metrics/snapshot.ts";
import type { WorkerStats } from "./worker_protocol.ts";

/** What the CLI runs: one server on the main thread, or a group of workers. */
export interface Proxies {
  /** Where they listen. */
  readonly address: Address;
  /** Settles when every connection has ended after a shutdown. */
  readonly finished: Promise<void>;
  /**
   * Stops accepting and gives open connections `ms` milliseconds to finish; the rest are then
   * closed with reason `shutdown`. A second call with 0 closes them at once.
   */
  shutdown(ms: number): void;
  /** The counters of each worker (one entry on the main thread), also once they have finished. */
  stats(): Promise<WorkerStats[]>;
  /**
   * Reads the `--tls-cert` files again, for new connections; present when TLS is terminated
   * without a config file. Throws, or logs from each worker, if a file cannot be loaded.
   */
  reloadCertificates?(): void;
  /** Each thread's metrics and status; present when the admin API is on. */
  observe?(): Promise<Observation>;
  /**
   * Drains an upstream, keeping it listed, or takes it back, in every thread; present when the
   * admin API is on.
   *
   * @throws {AdminError} 404 if there is no such pool or upstream.
   */
  setUpstream?(pool: string, address: string, action: UpstreamAction): Promise<UpstreamStatus>;
}

/** What each thread that forwards connections counted. */
export interface Observation {
  /** Each thread's metrics. */
  metrics: MetricSnapshot[][];
  /** Each thread's status. */
  statuses: ServersStatus[];
}
