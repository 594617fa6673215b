/**
 * The metrics of a running proxy: what its connections and upstreams did, defined once in a
 * registry that outlives reloads, so that counters keep counting when the stacks change.
 *
 * @module
 */

import type { Balancer } from "../connect.ts";
import type { Connection } from "../connection.ts";
import type { Pool } from "../pool/pool.ts";
import type { ConnectionReport } from "../report.ts";
import type { Counter } from "./counter.ts";
import { OpenConnections } from "./_open_connections.ts";
import type { Gauge } from "./gauge.ts";
import type { Histogram } from "./histogram.ts";
import { collectUpstreamStates, meteredBalancer } from "./pool_metrics.ts";
import { discoveryMetrics } from "./discovery_metrics.ts";
import { Registry } from "./registry.ts";

/** Bounds of `minginx_connection_duration_seconds`: from 5 ms to an hour. */
// deno-fmt-ignore
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600];
/** Bounds of `minginx_upstream_connect_duration_seconds`: from 0.5 ms to 10 s. */
// deno-fmt-ignore
const CONNECT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/**
 * The metrics of a proxy, in a {@linkcode Registry}. The {@linkcode connectionMetrics} layer feeds
 * the connection metrics and {@linkcode ProxyMetrics.prototype.balancer} the upstream ones; a
 * collector sets the upstream state gauges from the pools it was given, and adds the bytes of
 * connections still open, so that a long transfer shows while it runs. Every label names a
 * listener, a pool, an upstream, a close reason or an error kind: never a client.
 *
 * | metric | labels |
 * |---|---|
 * | `minginx_connections_accepted_total` | listener |
 * | `minginx_connections_active` | listener |
 * | `minginx_connections_closed_total` | listener, reason |
 * | `minginx_forwarded_bytes_total` | listener, direction (`up`: client to upstream, `down`) |
 * | `minginx_connection_duration_seconds` | listener |
 * | `minginx_upstream_connections_total` | pool, upstream |
 * | `minginx_upstream_connections_active` | pool, upstream |
 * | `minginx_upstream_connections_closed_total` | pool, upstream, reason |
 * | `minginx_upstream_forwarded_bytes_total` | pool, upstream, direction |
 * | `minginx_upstream_connect_errors_total` | pool, upstream, kind |
 * | `minginx_upstream_connect_duration_seconds` | pool, upstream |
 * | `minginx_upstream_state` | pool, upstream, state (1 for the current state, 0 for the others) |
 * | `minginx_upstream_weight` | pool, upstream |
 * | `minginx_open_sockets` | (none): a client's socket, and its upstream's once connected |
 *
 * @example Count a proxy's connections and read a scrape
 * ```ts
 * import { connectionMetrics, forward, ProxyMetrics, serve, ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const metrics = new ProxyMetrics();
 * const service = new ServiceBuilder()
 *   .layer(connectionMetrics(metrics))
 *   .service(forward({ upstreams: ["127.0.0.1:9"] })); // nothing listens on port 9
 * {
 *   await using proxy = serve({ listen: "127.0.0.1:0", service });
 *   using client = await Deno.connect(proxy.address);
 *   assert.equal(await client.read(new Uint8Array(1)), null);
 * }
 * assert.match(metrics.registry.render(), /^minginx_connections_closed_total\{listener="127\.0\.0\.1:\d+",reason="no_upstream"\} 1$/m);
 * ```
 */
export class ProxyMetrics {
  /** The registry the metrics are in; add others to it, such as {@linkcode processMetrics}. */
  readonly registry: Registry;
  /** Connections accepted, by listener. */
  readonly accepted: Counter;
  /** Connections open now, by listener. */
  readonly active: Gauge;
  /** Connections closed, by listener and reason. */
  readonly closed: Counter;
  /** Bytes forwarded, by listener and direction. */
  readonly bytes: Counter;
  /** How long connections lasted, by listener. */
  readonly duration: Histogram;
  /** Connections made to upstreams. */
  readonly upstreamConnections: Counter;
  /** Connections open to upstreams now. */
  readonly upstreamActive: Gauge;
  /** Connections to upstreams closed, by reason. */
  readonly upstreamClosed: Counter;
  /** Bytes forwarded through upstreams, by direction. */
  readonly upstreamBytes: Counter;
  /** Failed connects to upstreams, by kind of error. */
  readonly connectErrors: Counter;
  /** How long successful connects to upstreams took. */
  readonly connectDuration: Histogram;
  /** Each upstream's state, as 1 for the current one. */
  readonly upstreamState: Gauge;
  /** Each upstream's configured weight. */
  readonly upstreamWeight: Gauge;
  /** Sockets open for connections, set at each scrape. */
  readonly sockets: Gauge;
  readonly #open = new OpenConnections(this);
  readonly #pools = new Set<Pool>();

  /**
   * Defines the metrics.
   *
   * @param registry Where to define them; a new registry if absent.
   * @throws {TypeError} If the registry already has a metric of one of their names.
   */
  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const r = registry;
    const listener = ["listener"];
    const upstream = ["pool", "upstream"];
    this.accepted = r.counter({
      name: "minginx_connections_accepted_total",
      help: "Connections accepted, by listener.",
      labelNames: listener,
    });
    this.active = r.gauge({
      name: "minginx_connections_active",
      help: "Connections open now, by listener.",
      labelNames: listener,
    });
    this.closed = r.counter({
      name: "minginx_connections_closed_total",
      help: "Connections closed, by listener and close reason.",
      labelNames: [...listener, "reason"],
    });
    this.bytes = r.counter({
      name: "minginx_forwarded_bytes_total",
      help: "Bytes forwarded, by listener and direction (up: client to upstream; down: back).",
      labelNames: [...listener, "direction"],
    });
    this.duration = r.histogram({
      name: "minginx_connection_duration_seconds",
      help: "How long connections lasted, from accept to close, by listener.",
      labelNames: listener,
      buckets: DURATION_BUCKETS,
    });
    this.upstreamConnections = r.counter({
      name: "minginx_upstream_connections_total",
      help: "Connections made to each upstream.",
      labelNames: upstream,
    });
    this.upstreamActive = r.gauge({
      name: "minginx_upstream_connections_active",
      help: "Connections open to each upstream now.",
      labelNames: upstream,
    });
    this.upstreamClosed = r.counter({
      name: "minginx_upstream_connections_closed_total",
      help: "Connections to each upstream closed, by close reason.",
      labelNames: [...upstream, "reason"],
    });
    this.upstreamBytes = r.counter({
      name: "minginx_upstream_forwarded_bytes_total",
      help: "Bytes forwarded through each upstream, by direction (up: to it; down: from it).",
      labelNames: [...upstream, "direction"],
    });
    this.connectErrors = r.counter({
      name: "minginx_upstream_connect_errors_total",
      help: "Failed connects to each upstream, by kind: refused, timeout, unreachable, reset, " +
        "dns, permission or other.",
      labelNames: [...upstream, "kind"],
    });
    this.connectDuration = r.histogram({
      name: "minginx_upstream_connect_duration_seconds",
      help: "How long successful connects to each upstream took, name resolution included.",
      labelNames: upstream,
      buckets: CONNECT_BUCKETS,
    });
    this.upstreamState = r.gauge({
      name: "minginx_upstream_state",
      help: "Each upstream's state: 1 for the one it is in (up, down, ejected, draining), else 0.",
      labelNames: [...upstream, "state"],
      merge: "max",
    });
    this.upstreamWeight = r.gauge({
      name: "minginx_upstream_weight",
      help: "Each upstream's configured weight.",
      labelNames: upstream,
      merge: "max",
    });
    this.sockets = r.gauge({
      name: "minginx_open_sockets",
      help: "Sockets open for connections: one a client, one a connected upstream.",
    });
    registry.addCollector(() => (this.sync(), collectUpstreamStates(this.#pools, this)));
    discoveryMetrics(registry, () => this.#pools);
  }

  /** The pools whose upstreams the state gauges show, in the order they were given. */
  get pools(): readonly Pool[] {
    return [...this.#pools];
  }

  /**
   * Counts a pool's connects, and shows its upstreams' state, until
   * {@linkcode ProxyMetrics.prototype.forget} is called with it.
   *
   * @param pool The pool.
   * @returns The balancer to give {@linkcode forward} in place of the pool.
   */
  balancer(pool: Pool): Balancer {
    this.#pools.add(pool);
    return meteredBalancer(pool, this);
  }

  /**
   * Stops showing a pool's upstreams' state, as when a reload replaced it; its connections still
   * open are counted until they end.
   *
   * @param pool The pool.
   */
  forget(pool: Pool): void {
    this.#pools.delete(pool);
  }

  /** Connections open now, as the {@linkcode connectionMetrics} layer tracks them. */
  get openConnections(): number {
    return this.#open.size;
  }

  /**
   * Counts a connection as accepted and open; the {@linkcode connectionMetrics} layer calls it.
   *
   * @param connection The connection, just accepted.
   * @param listener Its listener, as `HOST:PORT`.
   */
  opened(connection: Connection, listener: string): void {
    this.#open.opened(connection, listener);
  }

  /**
   * Counts a connection as closed, from its report; the {@linkcode connectionMetrics} layer
   * calls it.
   *
   * @param connection The connection.
   * @param report Its report.
   */
  ended(connection: Connection, report: ConnectionReport): void {
    this.#open.ended(connection, report);
  }

  /** Adds the bytes that open connections moved since the last call; a scrape calls it first. */
  sync(): void {
    this.#open.sync();
  }
}
