/**
 * The upstream side of {@linkcode ProxyMetrics}: a balancer that counts connects as a pool hands
 * them out, and the state of each upstream at scrape time.
 *
 * @module
 */

import { type Address, formatAddress } from "../address.ts";
import type { Balancer, Connected } from "../connect.ts";
import { Upstream, type UpstreamState } from "../pool/upstream.ts";
import type { Pool } from "../pool/pool.ts";
import { ResolveError } from "../resolve.ts";
import type { CounterChild } from "./counter.ts";
import type { GaugeChild } from "./gauge.ts";
import type { HistogramChild } from "./histogram.ts";
import type { ProxyMetrics } from "./proxy_metrics.ts";

/** Why a connect to an upstream failed, as `minginx_upstream_connect_errors_total` counts it. */
export type ConnectErrorKind =
  | "refused"
  | "timeout"
  | "unreachable"
  | "reset"
  | "dns"
  | "permission"
  | "other";

const STATES: readonly UpstreamState[] = ["up", "down", "ejected", "draining"];

/**
 * The kind of a connect error, for the `kind` label.
 *
 * @param error What a connect threw.
 * @returns Its kind; `other` for anything unexpected.
 *
 * @example
 * ```ts
 * import { connectErrorKind } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(connectErrorKind(new Deno.errors.ConnectionRefused("refused")), "refused");
 * assert.equal(connectErrorKind(new Deno.errors.TimedOut("no answer within 2s")), "timeout");
 * assert.equal(connectErrorKind(new Error("???")), "other");
 * ```
 */
export function connectErrorKind(error: unknown): ConnectErrorKind {
  if (error instanceof ResolveError) return "dns";
  if (error instanceof Deno.errors.ConnectionRefused) return "refused";
  if (error instanceof Deno.errors.TimedOut) return "timeout";
  if (error instanceof Deno.errors.NotCapable) return "permission";
  if (error instanceof Deno.errors.NetworkUnreachable) return "unreachable";
  if (error instanceof Deno.errors.ConnectionReset) return "reset";
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "EHOSTUNREACH" || code === "ENETUNREACH") return "unreachable";
  return "other";
}

interface Children {
  connections: CounterChild;
  active: GaugeChild;
  connectDuration: HistogramChild;
}

/**
 * Wraps a pool so that its connects are counted: made, open, failed by kind, and how long a
 * successful one took. It picks, counts and ejects exactly as the pool does.
 *
 * @param pool The pool.
 * @param metrics Where to count.
 * @returns The balancer to give {@linkcode forward}.
 */
export function meteredBalancer(pool: Pool, metrics: ProxyMetrics): Balancer {
  const children = new WeakMap<Address, Children>();
  const childrenOf = (upstream: Address): Children => {
    let found = children.get(upstream);
    if (found === undefined) {
      const labels = [pool.name, nameOf(upstream)];
      found = {
        connections: metrics.upstreamConnections.labels(...labels),
        active: metrics.upstreamActive.labels(...labels),
        connectDuration: metrics.connectDuration.labels(...labels),
      };
      children.set(upstream, found);
    }
    return found;
  };
  return {
    name: pool.name,
    pick: (connection) => pool.pick(connection),
    onConnect(address: Address, connection: Connected) {
      const release = pool.onConnect(address, connection);
      const counted = childrenOf(address);
      counted.connections.inc();
      counted.active.inc();
      if (connection.connectMs !== undefined) {
        counted.connectDuration.observe(connection.connectMs / 1000);
      }
      return () => {
        counted.active.dec();
        release();
      };
    },
    onConnectFailure(address: Address, error: unknown) {
      pool.onConnectFailure(address);
      metrics.connectErrors.labels(pool.name, nameOf(address), connectErrorKind(error)).inc();
    },
  };
}

/**
 * Sets the state and weight gauges from the pools' upstreams as they are now; upstreams that
 * left the pools leave the gauges.
 *
 * @param pools The pools in use.
 * @param metrics Whose gauges to set.
 */
export function collectUpstreamStates(pools: Iterable<Pool>, metrics: ProxyMetrics): void {
  const { upstreamState, upstreamWeight } = metrics;
  upstreamState.clear();
  upstreamWeight.clear();
  for (const pool of pools) {
    for (const upstream of pool.upstreams) {
      const { state } = upstream;
      for (const each of STATES) {
        upstreamState.labels(pool.name, upstream.name, each).set(each === state ? 1 : 0);
      }
      upstreamWeight.labels(pool.name, upstream.name).set(upstream.weight);
    }
  }
}

function nameOf(address: Address): string {
  return address instanceof Upstream ? address.name : formatAddress(address);
}
