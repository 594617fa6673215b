/**
 * The flags for HTTP mode: `--mode http`, the routes by host and path, who is trusted to have
 * set the forwarding fields, and the limits of a request. They parse into plain data;
 * {@linkcode buildStack} turns them into an HTTP server over an HTTP proxy.
 *
 * @module
 */

import type { AlgorithmName } from "../balance/algorithms.ts";
import { durationFlag, oneOfFlag, type Values, wholeFlag } from "./_flag_values.ts";
import type { ForwardedStyle } from "../http/proxy/forwarded.ts";
import { isRouteHost, isRoutePath } from "../http/proxy/router.ts";
import { parseCidr } from "../ip.ts";
import { parseUpstream } from "../pool/upstream.ts";
import { parseSize } from "../size.ts";
import type { EdgeFlags } from "./edge_flags.ts";
import type { LayerFlags } from "./layer_flags.ts";
import type { PoolFlags } from "./pool_flags.ts";

/** The modes a server runs in. */
export const MODES = ["tcp", "http"] as const;
/** The forwarding fields `--forwarded` may ask for. */
export const FORWARDED_STYLES = ["x-forwarded", "forwarded", "both", "none"] as const;

/** One route of HTTP mode: which requests it takes, and its own pool. */
export interface HttpRouteFlags {
  /** The host, exact (`example.com`) or a wildcard (`*.example.com`); any host if absent. */
  host?: string;
  /** The path prefix, starting with `/`. */
  path: string;
  /** The route's upstreams. */
  upstreams: PoolFlags["upstreams"];
  /** The route's balancing algorithm; the server's if absent. */
  balance?: AlgorithmName;
  /** The route's health check, as `--health-check` writes it; the server's if absent. */
  healthCheck?: string;
  /** The timing of the route's health check; the server's if absent. */
  health?: PoolFlags["health"];
}

/** What the HTTP flags say. Every field is plain data. */
export interface HttpFlags {
  /** `--mode`: `tcp` forwards bytes; `http` reads requests and proxies each. */
  mode: typeof MODES[number];
  /** `--route`: routes by host and path, before the default pool (`--upstream`) takes the rest. */
  routes: HttpRouteFlags[];
  /** `--trusted-proxy`: CIDR blocks whose forwarding fields are kept and added to. */
  trustedProxies: string[];
  /** `--forwarded`: which fields tell the upstream about the client. */
  forwarded: ForwardedStyle;
  /** `--max-header-size` in bytes: larger request heads get 431. */
  maxHeaderSize: number;
  /** `--max-body-size` in bytes: larger request bodies get 413; 0 for no limit. */
  maxBodySize: number;
  /** `--header-timeout` in milliseconds: a request head takes longer, it gets 408. */
  headerTimeout: number;
  /** `--keep-alive-timeout` in milliseconds: how long a client connection waits for a request. */
  keepAliveTimeout: number;
  /** `--response-timeout` in milliseconds: an upstream's answer takes longer, the client gets 504. */
  responseTimeout: number;
  /** `--upstream-keepalive`: idle connections kept per upstream; 0 closes each after a request. */
  upstreamKeepalive: number;
}

/** The HTTP flags' defaults, as the help text shows them. */
export const HTTP_DEFAULTS = {
  mode: "tcp",
  forwarded: "x-forwarded",
  maxHeaderSize: 32 * 1024,
  maxBodySize: 0,
  headerTimeout: 30_000,
  keepAliveTimeout: 60_000,
  responseTimeout: 60_000,
  upstreamKeepalive: 32,
} as const;

/** The parseArgs options for these flags. */
export const HTTP_FLAGS = {
  mode: { type: "string" },
  route: { type: "string", multiple: true },
  "trusted-proxy": { type: "string", multiple: true },
  forwarded: { type: "string" },
  "max-header-size": { type: "string" },
  "max-body-size": { type: "string" },
  "header-timeout": { type: "string" },
  "keep-alive-timeout": { type: "string" },
  "response-timeout": { type: "string" },
  "upstream-keepalive": { type: "string" },
} as const;

/**
 * Reads the HTTP flags from parseArgs' values.
 *
 * @param values What parseArgs returned as `values`.
 * @returns The HTTP flags, with defaults filled in.
 * @throws {TypeError} For a malformed value, or an HTTP flag without `--mode http`; the CLI
 * reports it as a usage error.
 */
export function parseHttpFlags(values: Values): HttpFlags {
  const d = HTTP_DEFAULTS;
  const mode = oneOfFlag(values, "mode", MODES, d.mode);
  // With --config, the file may say "mode": "http": withFlags() checks the server it makes.
  if (mode === "tcp" && values.config === undefined) {
    const orphan = Object.keys(HTTP_FLAGS).find((name) => name !== "mode" && name in values);
    if (orphan) throw new TypeError(`Option --${orphan} needs --mode http: add it, or drop it`);
  }
  const size = (name: string, fallback: number, min: number) => {
    const value = values[name];
    return typeof value === "string" ? parseSize(value, `--${name}`, min) : fallback;
  };
  return {
    mode,
    routes: routesOf((values.route as string[] | undefined) ?? []),
    trustedProxies: ((values["trusted-proxy"] as string[] | undefined) ?? [])
      .map((cidr) => parseCidr(cidr, "--trusted-proxy").text),
    forwarded: oneOfFlag(values, "forwarded", FORWARDED_STYLES, d.forwarded),
    maxHeaderSize: size("max-header-size", d.maxHeaderSize, 256),
    maxBodySize: size("max-body-size", d.maxBodySize, 0),
    headerTimeout: durationFlag(values, "header-timeout", d.headerTimeout),
    keepAliveTimeout: durationFlag(values, "keep-alive-timeout", d.keepAliveTimeout),
    responseTimeout: durationFlag(values, "response-timeout", d.responseTimeout),
    upstreamKeepalive: wholeFlag(values, "upstream-keepalive", d.upstreamKeepalive, 0, 9999),
  };
}

/** An edge setting HTTP mode cannot use: its config key and its flag. */
export interface TcpOnly {
  /** Where it is in a config file's server: a key, or a dotted path to a part of one. */
  key: "sni" | "sniFallback" | "sendProxy" | "upstreamTls" | "tls.alpn" | "faults";
  /** The flag. */
  flag: string;
  /** Why HTTP mode cannot use it, and what it has instead. */
  why: string;
}

/**
 * The settings that do not go with HTTP mode: SNI routing, the PROXY protocol to upstreams and
 * faults belong to a client's connection to one upstream, HTTP mode speaks plain HTTP/1.1 to
 * its upstreams, and its server speaks HTTP/1.1 only, so TLS may offer no other protocol.
 *
 * @param edge The edge settings, and the faults.
 * @returns Those given that HTTP mode cannot use; none if it can use them all.
 */
export function tcpOnly(edge: EdgeFlags & Pick<LayerFlags, "faults">): TcpOnly[] {
  const found: TcpOnly[] = [];
  if (edge.faults.length > 0) {
    found.push({
      key: "faults",
      flag: "--fault",
      why: "faults act on a connection to one upstream, which HTTP mode's requests do not have",
    });
  }
  if (edge.sni.length > 0 || edge.sniFallback) {
    const why = "HTTP mode routes by the Host field instead, with routes";
    found.push(
      edge.sni.length > 0
        ? { key: "sni", flag: "--sni", why }
        : { key: "sniFallback", flag: "--sni-fallback", why },
    );
  }
  if (edge.sendProxy) {
    found.push({
      key: "sendProxy",
      flag: "--send-proxy",
      why: "HTTP mode tells upstreams about clients in forwarding fields instead",
    });
  }
  if (edge.upstreamTls) {
    found.push({
      key: "upstreamTls",
      flag: "--upstream-tls",
      why: "HTTP mode speaks plain HTTP/1.1 to its upstreams",
    });
  }
  if (edge.tlsAlpn.some((name) => name !== "http/1.1")) {
    found.push({
      key: "tls.alpn",
      flag: "--tls-alpn",
      why: "HTTP mode's server speaks http/1.1 only, which it offers by itself",
    });
  }
  return found;
}

/**
 * Reads a route's match as `--route` writes it before the `=`: `HOST`, `/PATH` or `HOST/PATH`.
 *
 * @param match The text.
 * @returns The host (if any) and the path prefix; undefined if the text is no such match.
 */
function routeMatchOf(match: string): { host?: string; path: string } | undefined {
  const slash = match.indexOf("/");
  const host = (slash < 0 ? match : match.slice(0, slash)).toLowerCase();
  const path = slash < 0 ? "/" : match.slice(slash);
  if (!isRoutePath(path)) return undefined;
  if (host === "") return slash === 0 ? { path } : undefined;
  return isRouteHost(host) ? { host, path } : undefined;
}

function routesOf(items: string[]): HttpRouteFlags[] {
  const routes: HttpRouteFlags[] = [];
  for (const item of items) {
    const equals = item.indexOf("=");
    const match = equals < 0 ? undefined : routeMatchOf(item.slice(0, equals));
    if (match === undefined) {
      throw new TypeError(
        `Cannot parse --route "${item}": expected [HOST][/PATH]=HOST:PORT, such as ` +
          "example.com/api=10.0.0.1:8080, *.example.com=10.0.0.2:80 or /static=10.0.0.3:80",
      );
    }
    const upstream = parseUpstream(item.slice(equals + 1), "--route");
    const route = routes.find((route) => route.host === match.host && route.path === match.path);
    if (route) route.upstreams.push(upstream);
    else routes.push({ ...match, upstreams: [upstream] });
  }
  return routes;
}
