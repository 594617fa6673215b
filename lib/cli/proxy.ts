/**
 * What the CLI's proxies share, on the main thread or in each worker: how workers share a port,
 * the counters the supervisor adds up, and reloading TLS certificates on SIGHUP.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { messageOf } from "../_util.ts";

/** What a worker's proxy needs beyond the flags: how it shares the port with the others. */
export interface Sharing {
  /** Bind with SO_REUSEPORT. */
  reusePort: boolean;
  /** This proxy numbers its connections from `first` by `step`. */
  connectionIds: { first: number; step: number };
  /** How many proxies share the port: `--max-connections` and `--queue` are split among them. */
  workers: number;
}

/** A proxy's counters: what the supervisor adds up over the workers. */
export interface ProxyCounters {
  /** Connections accepted so far. */
  accepted: number;
  /** Connections open now. */
  open: number;
  /**
   * Connections a shutdown closed (reason `shutdown`): still open when the drain ran out, or when
   * a second signal came.
   */
  closedByShutdown: number;
}

/**
 * Reads the `--tls-cert` files again, as SIGHUP asks without a config file, and logs how it went:
 * on failure the certificates in use stay.
 *
 * @param reload The proxy's `reloadCertificates`, if it terminates TLS.
 * @param who Who reloads, for the log line: `""` or `"Worker 2: "`.
 */
export function reloadCertificates(reload: (() => void) | undefined, who = ""): void {
  const log = getLogger(["minginx"]);
  if (!reload) {
    log.warning("{who}SIGHUP reloads a --config file or --tls-cert files; there are neither", {
      who,
    });
    return;
  }
  try {
    reload();
    log.info("{who}Reloaded the TLS certificates, for new connections", { who });
  } catch (error) {
    log.error("{who}Cannot reload the TLS certificates, the old ones stay: {error}", {
      who,
      error: messageOf(error),
    });
  }
}
