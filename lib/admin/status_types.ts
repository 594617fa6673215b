/**
 * What `GET /status` of the admin API returns: the proxy's listeners, pools and upstreams, with
 * their health and counters, as JSON.
 *
 * @module
 */

import type { UpstreamState } from "../pool/upstream.ts";

/**
 * Bytes forwarded each way, counted from the start of the process (connections still open
 * included, up to the moment of the snapshot).
 */
export interface ByteCounts {
  /** From clients to upstreams. */
  bytesUp: number;
  /** From upstreams to clients. */
  bytesDown: number;
}

/** One listening address. */
export interface ListenerStatus extends ByteCounts {
  /** Where it listens, as `HOST:PORT`. */
  address: string;
  /** The server (from the config file, or `default` from flags) it belongs to. */
  server: string;
  /** Connections accepted since the process started. */
  accepted: number;
  /** Connections open now. */
  active: number;
}

/** One upstream of a pool. */
export interface UpstreamStatus extends ByteCounts {
  /** Its address as `HOST:PORT`, which names it in the admin API's paths. */
  address: string;
  /** Whether it takes new connections, and if not, why. */
  state: UpstreamState;
  /** Whether the active health checks find it healthy (always true without them). */
  healthy: boolean;
  /** Its configured weight. */
  weight: number;
  /** Whether it is a backup, offered only when no primary is available. */
  backup: boolean;
  /** Connections open to it now. */
  active: number;
  /** Connections made to it since the process started. */
  connections: number;
  /** Connect attempts to it that failed since the process started. */
  connectErrors: number;
}

/** One pool of upstreams. */
export interface PoolStatus {
  /**
   * Its name, which names it in the admin API's paths: the server's name for its default pool,
   * `SERVER/sni/NAME` for an SNI route's, `SERVER/fallback` for the SNI fallback's.
   */
  name: string;
  /** The server it belongs to. */
  server: string;
  /** Its balancing algorithm. */
  balance: string;
  /** Its upstreams, in list order. */
  upstreams: UpstreamStatus[];
  /** What each discovery source of the pool has done; absent if nothing discovers it. */
  discovery?: DiscoveryStatus[];
}

/** One discovery source of a pool, as `/status` shows it. */
export interface DiscoveryStatus {
  /** The source, as written: `dns:web.internal:8080`. */
  source: string;
  /** Upstreams in its last good set. */
  upstreams: number;
  /** Sets it delivered that changed the pool. */
  updates: number;
  /** Failed queries; the last good set was kept. */
  failures: number;
  /** When its last set was applied, as ISO 8601; absent before the first. */
  lastUpdate?: string;
  /** Its last failure, if it failed since its last good set. */
  lastError?: string;
}

/** What the servers a proxy runs report: their listeners and pools, with the totals. */
export interface ServersStatus extends ByteCounts {
  /** Connections accepted since the process started, over all listeners. */
  accepted: number;
  /** Connections open now, over all listeners. */
  active: number;
  /** Every listener, in config order. */
  listeners: ListenerStatus[];
  /** Every pool, in config order. */
  pools: PoolStatus[];
}

/** The whole of `GET /status`. */
export interface ProxyStatus extends ServersStatus {
  /** The minginx version. */
  version: string;
  /** When the process started, as an ISO 8601 time. */
  startedAt: string;
  /** Seconds since then. */
  uptimeSeconds: number;
  /** Whether the proxy is shutting down: it accepts no new connections and drains. */
  draining: boolean;
  /** The config in use. */
  config: {
    /** 1 for the config started with, plus 1 for each reload applied. */
    version: number;
    /** The config file, if one is used. */
    file?: string;
    /** When the config in use was applied, as an ISO 8601 time. */
    loadedAt: string;
    /** Reloads refused: an invalid file, a missing permission, a listener that could not open. */
    failedReloads: number;
  };
  /** How many threads forward connections: 1, or the number of workers. */
  workers: number;
}
