/**
 * The connections a {@linkcode ProxyMetrics} counts while they are open: what each has already
 * added to the byte counters, so that a scrape adds what moved since, and their end adds the rest.
 * Not exported from mod.ts.
 *
 * @module
 */

import { formatAddress } from "../address.ts";
import type { Connection } from "../connection.ts";
import type { ConnectionReport } from "../report.ts";
import type { CounterChild } from "./counter.ts";
import type { GaugeChild } from "./gauge.ts";
import type { HistogramChild } from "./histogram.ts";
import type { ProxyMetrics } from "./proxy_metrics.ts";

/** A listener's series, looked up once for all its connections. */
interface Listener {
  accepted: CounterChild;
  active: GaugeChild;
  duration: HistogramChild;
  up: CounterChild;
  down: CounterChild;
}

/** What is kept about an open connection: the byte counts already added to the counters. */
interface Open {
  listener: Listener;
  upstreamUp: CounterChild | undefined;
  upstreamDown: CounterChild | undefined;
  up: number;
  down: number;
}

/** The open connections of a {@linkcode ProxyMetrics}. */
export class OpenConnections {
  readonly #metrics: ProxyMetrics;
  readonly #open = new Map<Connection, Open>();
  readonly #listeners = new Map<string, Listener>();

  /**
   * @param metrics Whose counters to add to.
   */
  constructor(metrics: ProxyMetrics) {
    this.#metrics = metrics;
  }

  /** How many connections are open. */
  get size(): number {
    return this.#open.size;
  }

  /**
   * Counts a connection as accepted and open; the {@linkcode connectionMetrics} layer calls it.
   *
   * @param connection The connection, just accepted.
   * @param listener Its listener, as `HOST:PORT`.
   */
  opened(connection: Connection, listener: string): void {
    const series = this.#listeners.get(listener) ?? this.#listener(listener);
    series.accepted.inc();
    series.active.inc();
    this.#open.set(connection, {
      listener: series,
      upstreamUp: undefined,
      upstreamDown: undefined,
      up: 0,
      down: 0,
    });
  }

  /**
   * Counts a connection as closed, from its report; the {@linkcode connectionMetrics} layer
   * calls it.
   *
   * @param connection The connection.
   * @param report Its report.
   */
  ended(connection: Connection, report: ConnectionReport): void {
    const open = this.#open.get(connection);
    if (open === undefined) return;
    this.#open.delete(connection);
    this.#addBytes(connection, open, report.bytesUp, report.bytesDown);
    const { reason } = report;
    open.listener.active.dec();
    open.listener.duration.observe(report.durationMs / 1000);
    this.#metrics.closed.labels(report.listener, reason).inc();
    if (report.upstream !== null) {
      this.#metrics.upstreamClosed.labels(report.pool ?? "", report.upstream, reason).inc();
    }
  }

  /** Adds the bytes that open connections moved since the last call; a scrape calls it first. */
  sync(): void {
    let sockets = 0;
    for (const [connection, open] of this.#open) {
      this.#addBytes(connection, open, connection.up.bytes, connection.down.bytes);
      sockets += connection.upstream === undefined ? 1 : 2;
    }
    this.#metrics.sockets.set(sockets);
  }

  #listener(address: string): Listener {
    const { accepted, active, duration, bytes } = this.#metrics;
    const series = {
      accepted: accepted.labels(address),
      active: active.labels(address),
      duration: duration.labels(address),
      up: bytes.labels(address, "up"),
      down: bytes.labels(address, "down"),
    };
    this.#listeners.set(address, series);
    return series;
  }

  #addBytes(connection: Connection, open: Open, up: number, down: number): void {
    if (up === open.up && down === open.down) return;
    // Bytes only move once an upstream is connected, so both sets of counters move together.
    if (open.upstreamUp === undefined && connection.upstreamAddress !== undefined) {
      const pool = connection.pool ?? "";
      const upstream = formatAddress(connection.upstreamAddress);
      open.upstreamUp = this.#metrics.upstreamBytes.labels(pool, upstream, "up");
      open.upstreamDown = this.#metrics.upstreamBytes.labels(pool, upstream, "down");
    }
    open.listener.up.inc(up - open.up);
    open.listener.down.inc(down - open.down);
    open.upstreamUp?.inc(up - open.up);
    open.upstreamDown?.inc(down - open.down);
    open.up = up;
    open.down = down;
  }
}
