/**
 * HTTP mode's part of a server in a config file: the mode, the routes with their own pools, the
 * trusted proxies and the limits of a request, read as the command line's HTTP flags read them.
 *
 * @module
 */

import { type AlgorithmName, ALGORITHMS } from "../balance/algorithms.ts";
import type { EdgeFlags } from "../cli/edge_flags.ts";
import type { LayerFlags } from "../cli/layer_flags.ts";
import {
  FORWARDED_STYLES,
  HTTP_DEFAULTS,
  type HttpFlags,
  type HttpRouteFlags,
  MODES,
  routeMatchOf,
  tcpOnly,
} from "../cli/http_flags.ts";
import { bytesIn } from "../size.ts";
import { type Check, type Checker, join, type Json } from "./_fields.ts";
import { cidrsOf } from "./_edge_fields.ts";
import { healthOf, upstreamsOf } from "./_pool_fields.ts";

const SIZE = 'a size such as "64KiB" or "1MB", or whole bytes';

/**
 * Reads a server's HTTP fields, with the HTTP flags' defaults. Given without `"mode": "http"`,
 * they are mistakes, and so are the edge fields HTTP mode cannot use.
 *
 * @param c Where mistakes go.
 * @param server The server.
 * @param path The server's path.
 * @param edge The server's edge fields and faults, already read.
 * @returns What the HTTP flags would say.
 */
export function httpOf(
  c: Checker,
  server: Json,
  path: string,
  edge: EdgeFlags & Pick<LayerFlags, "faults">,
): HttpFlags {
  const read = c.reader(server, path);
  const d = HTTP_DEFAULTS;
  const mode = read("mode", c.oneOf(MODES), d.mode);
  const flags: HttpFlags = {
    mode,
    routes: read("routes", (v, p) => routesOf(c, v, p), []),
    trustedProxies: read("trustedProxies", (v, p) => cidrsOf(c, v, p), []),
    forwarded: read("forwarded", c.oneOf(FORWARDED_STYLES), d.forwarded),
    maxHeaderSize: read("maxHeaderSize", size(c, 256), d.maxHeaderSize),
    maxBodySize: read("maxBodySize", size(c, 0), d.maxBodySize),
    headerTimeout: read("headerTimeout", c.duration(1), d.headerTimeout),
    keepAliveTimeout: read("keepAliveTimeout", c.duration(1), d.keepAliveTimeout),
    responseTimeout: read("responseTimeout", c.duration(1), d.responseTimeout),
    upstreamKeepalive: read("upstreamKeepalive", c.whole(0, 9999), d.upstreamKeepalive),
  };
  if (mode === "http") {
    for (const { key, why } of tcpOnly(edge)) {
      c.add(join(path, key), `does not go with "mode": "http": ${why}`);
    }
  } else {
    for (const key of Object.keys(server)) {
      if (key === "mode" || !(key in flags)) continue;
      c.add(join(path, key), 'needs "mode": "http": add it, or drop this');
    }
  }
  return flags;
}

function routesOf(c: Checker, value: unknown, path: string): HttpRouteFlags[] {
  const routes: HttpRouteFlags[] = [];
  const object = c.object("servers[].routes[]");
  const algorithm = c.oneOf(Object.keys(ALGORITHMS) as AlgorithmName[]);
  for (const [i, item] of (c.list("route", true)(value, path) ?? []).entries()) {
    const itemPath = join(path, i);
    const read = c.reader(object(item, itemPath) ?? {}, itemPath);
    const host = read("host", c.string('a host such as "example.com" or "*.example.com"'), "");
    const prefix = read("path", c.string('a path prefix such as "/api"'), "/");
    const match = routeMatchOf(`${host}${prefix}`);
    if (match === undefined || !prefix.startsWith("/")) {
      c.add(
        itemPath,
        `host "${host}" and path "${prefix}" are not valid: expected a host such as ` +
          "example.com or *.example.com, and a path prefix such as /api",
      );
    }
    const route: HttpRouteFlags = {
      ...(match?.host === undefined ? {} : { host: match.host }),
      path: match?.path ?? prefix,
      upstreams: read("upstreams", (v, p) => upstreamsOf(c, v, p), []),
    };
    const balance = read("balance", algorithm, undefined);
    if (balance) route.balance = balance;
    const health = read(
      "healthCheck",
      (v, p) => healthOf(c, v, p, "servers[].routes[].healthCheck"),
      undefined,
    );
    if (health?.healthCheck) Object.assign(route, health);
    routes.push(route);
  }
  return routes;
}

/** A size as text such as `"64KiB"`, or whole bytes, of at least `min`. */
function size(c: Checker, min: number): Check<number> {
  return (value, path) => {
    const bytes = typeof value === "string" ? bytesIn(value) : value;
    if (Number.isSafeInteger(bytes) && (bytes as number) >= min) return bytes as number;
    return c.expected(path, `${SIZE} of at least ${min}`, value);
  };
}
