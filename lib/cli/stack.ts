/**
 * The service stack one server's settings describe, from flags or from a config file: the access
 * log, the access rules and limits, the timeouts, any faults, and forward over its pool.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { forward, type ForwardOptions } from "../forward.ts";
import type { DiscoveredUpstream, Discovery } from "../discovery/discovery.ts";
import { sourceKey } from "../discovery/source.ts";
import { accessLog } from "../middleware/access_log.ts";
import type { ProxyMetrics } from "../metrics/proxy_metrics.ts";
import { timeout } from "../middleware/timeout.ts";
import type { Pool } from "../pool/pool.ts";
import type { ConnectionReport } from "../report.ts";
import { type Layer, type Service, ServiceBuilder } from "../service.ts";
import type { EdgeFlags } from "./edge_flags.ts";
import { type LayerFlags, type LayerReuse, limitLayers } from "./layer_flags.ts";
import { connectFromFlags, type PoolFlags, poolFromFlags } from "./pool_flags.ts";
import type { HttpFlags } from "./http_flags.ts";
import { httpBottom } from "./http_stack.ts";
import { modules } from "./optional_modules.ts";

/** What one server's stack is made from: plain data, the same from flags and from a file. */
export type StackSettings = LayerFlags & PoolFlags & EdgeFlags & HttpFlags & {
  /** The server's name, which names its pools. */
  name: string;
  /** Close a connection after this long with nothing moving, in milliseconds; 0 for never. */
  idleTimeout: number;
};

/** What a stack is built with beyond its settings. */
export interface StackOptions {
  /**
   * How many proxies share the port: `maxConnections` and its queue are split among them.
   *
   * @default {1}
   */
  workers?: number;
  /** The limit layers of the stack before a reload, to keep those that did not change. */
  reuse?: LayerReuse;
  /**
   * Counts the connections a shutdown closes (reason `shutdown`), for the final line of a stop;
   * it may be shared by the stacks of several reloads.
   */
  shutdowns?: { count: number };
  /** Where to count connections and connects, for the admin API. */
  metrics?: ProxyMetrics;
  /**
   * Each discovery source's last set, by {@linkcode sourceKey}: the pool starts with them, and
   * every new set is written back, for the next reload's stack.
   */
  seeds?: Map<string, readonly DiscoveredUpstream[]>;
}

/** A server's stack and the pools at its bottom, whose health checks run until they are closed. */
export interface Stack {
  /** The service to hand connections to. */
  service: Service<Connection, ConnectionReport>;
  /** The default upstream pool that forward walks. */
  pool: Pool;
  /**
   * Every pool: the default (named after the server), then those of the SNI routes
   * (`SERVER/sni/NAME`) and the fallback (`SERVER/fallback`), or of the HTTP routes
   * (`SERVER/route/HOST/PATH`, with `*` for any host).
   */
  pools: Pool[];
  /**
   * Reads the TLS certificate files again, for new connections; present when TLS is terminated.
   * Throws, and changes nothing, if one cannot be read or loaded.
   */
  reloadCertificates?: () => void;
  /** Stops following the default pool's discovery sources; the pool keeps what it has. */
  stopDiscovery: () => void;
  /**
   * In HTTP mode, closes the upstream connections kept alive between requests: the idle ones at
   * once, those in use once their request ends.
   */
  closeIdle?: () => Promise<void>;
}

/**
 * Builds the stack the settings describe.
 *
 * @param settings The server's settings.
 * @param options The worker count, the layers to reuse, and what to count in.
 * @returns The service and its pools.
 * @throws {TypeError} If a TLS certificate cannot be loaded; other errors of reading its files
 * (`Deno.errors.NotFound`, `NotCapable`) name the file. `loadModules()` must have loaded the
 * modules of the features the settings use, as `Runtime` does.
 */
export function buildStack(settings: StackSettings, options: StackOptions = {}): Stack {
  const { workers = 1, reuse, shutdowns, metrics } = options;
  const limits = limitLayers(shareOut(settings, workers), reuse);
  const { handshakeTimeout } = settings;
  let builder = new ServiceBuilder<Connection, ConnectionReport>();
  if (metrics) builder = builder.layer(modules("metrics").connectionMetrics(metrics));
  if (shutdowns) builder = builder.layer(countShutdowns(shutdowns));
  builder = builder.layer(accessLog());
  if (settings.acceptProxy.length > 0) {
    const { acceptProxy } = modules("acceptProxy");
    builder = builder.layer(
      acceptProxy({ trusted: settings.acceptProxy, timeout: handshakeTimeout }),
    );
  }
  for (const layer of limits) builder = builder.layer(layer);
  let reloadCertificates: Stack["reloadCertificates"];
  const http = settings.mode === "http";
  if (settings.tls.length > 0) {
    const { TlsCertificates, readCertificateFiles, terminateTls } = modules("tls");
    const certificates = new TlsCertificates(readCertificateFiles(settings.tls));
    reloadCertificates = () => certificates.replace(readCertificateFiles(settings.tls));
    // HTTP mode's server speaks HTTP/1.1 only, so it offers no other protocol.
    const alpn = http ? ["http/1.1"] : settings.tlsAlpn;
    builder = builder.layer(terminateTls({ certificates, alpn, timeout: handshakeTimeout }));
  }
  // In HTTP mode, connects are per request, under the proxy's own timeouts.
  const connect = http ? 0 : settings.connectDeadline;
  builder = builder.layer(timeout({ connect, idle: settings.idleTimeout }));
  if (settings.faults.length > 0) {
    builder = builder.layer(modules("faults").faults(settings.faults));
  }
  const forwarding = forwardOptions(settings);
  const pools: Pool[] = [];
  const balancer = (flags: PoolFlags, name: string) => {
    const pool = poolFromFlags(flags, name);
    pools.push(pool);
    return metrics ? metrics.balancer(pool) : pool;
  };
  const forwardTo = (upstreams: PoolFlags["upstreams"], name: string) =>
    forward({ ...forwarding, balancer: balancer({ ...settings, upstreams }, name) });
  const fallback = balancer(settings, settings.name);
  const stopDiscovery = followSources(pools[0], settings, options.seeds);
  const stack = { pool: pools[0], pools, reloadCertificates, stopDiscovery };
  if (http) {
    const bottom = httpBottom(settings, balancer, fallback);
    return { service: builder.service(bottom.service), ...stack, closeIdle: bottom.close };
  }
  const main = forward({ ...forwarding, balancer: fallback });
  if (settings.sni.length === 0) return { service: builder.service(main), ...stack };
  const routes = Object.fromEntries(
    settings.sni.map(({ name, upstreams }) => [
      name,
      forwardTo(upstreams, `${settings.name}/sni/${name}`),
    ]),
  );
  const router = modules("sni").routeBySni({
    routes,
    default: main,
    fallback: settings.sniFallback && forwardTo(settings.sniFallback, `${settings.name}/fallback`),
    peek: settings.tls.length === 0,
    timeout: handshakeTimeout,
  });
  return { service: builder.service(router), ...stack };
}

/** Follows the settings' discovery sources into `pool`; returns what stops them. */
function followSources(
  pool: Pool,
  settings: StackSettings,
  seeds?: Map<string, readonly DiscoveredUpstream[]>,
): () => void {
  if (settings.discover.length === 0) return () => {};
  const { discoveryInterval: interval, resolver } = settings;
  const { discover, discoveryFrom } = modules("discovery");
  const stop = new AbortController();
  const { signal } = stop;
  // Sources go by their text in logs and metrics, and by their key in `seeds`.
  const sources: Record<string, Discovery> = {};
  const known: Record<string, readonly DiscoveredUpstream[]> = {};
  const keys = new Map<string, string>();
  for (const source of settings.discover) {
    const key = sourceKey(source, resolver);
    keys.set(source.text, key);
    sources[source.text] = discoveryFrom(source, { interval, resolver, signal });
    const seed = seeds?.get(key);
    if (seed) known[source.text] = seed;
  }
  discover(pool, {
    sources,
    upstreams: settings.upstreams,
    seeds: known,
    retry: interval,
    signal,
    onSet: (text, set) => seeds?.set(keys.get(text)!, set),
  });
  return () => stop.abort();
}

/** How forward connects, and what it sends first, as the settings say. */
function forwardOptions(settings: StackSettings): ForwardOptions {
  const { upstreamTls } = settings;
  return {
    connect: connectFromFlags(settings),
    proxyProtocol: settings.sendProxy,
    tls: upstreamTls && {
      serverName: upstreamTls.serverName,
      alpn: upstreamTls.alpn,
      caCerts: upstreamTls.ca === undefined
        ? undefined
        : [modules("tls").readPemFile(upstreamTls.ca, "CA file")],
    },
    tlsTimeout: settings.handshakeTimeout,
  };
}

/** Counts the connections that end with reason `shutdown`; the access log inside it reports all. */
function countShutdowns(ended: { count: number }): Layer<Connection, ConnectionReport> {
  return (inner) =>
    async function countShutdowns(connection) {
      const report = await inner(connection);
      if (report.reason === "shutdown") ended.count++;
      return report;
    };
}

/** Each of `workers` proxies gets its share of the overall connection limit and queue. */
function shareOut(flags: LayerFlags, workers: number): LayerFlags {
  if (!flags.maxConnections || workers === 1) return flags;
  const { max, queue, queueTimeout } = flags.maxConnections;
  return {
    ...flags,
    maxConnections: {
      max: Math.max(1, Math.floor(max / workers)),
      queue: Math.ceil(queue / workers),
      queueTimeout,
    },
  };
}
