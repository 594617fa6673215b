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
  tcpOnly,
} from "../cli/http_flags.ts";
import { isRouteHost, isRoutePath } from "../http/proxy/router.ts";
import { parseSize } from "../size.ts";
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
      c.add(key.split(".").reduce(join, path), `does not go with "mode": "http": ${why}`);
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
  const seen = new Map<string, number>(); // each route's host and path, to find a second
  for (const [i, item] of (c.list("route", true)(value, path) ?? []).entries()) {
    const itemPath = join(path, i);
    const read = c.reader(object(item, itemPath) ?? {}, itemPath);
    const issues = c.issues.length;
    const host = read("host", routeHost(c), undefined);
    const prefix = read("path", routePath(c), "/");
    // Two routes of one host and path: the second would never take a request.
    const key = `${host ?? "*"} ${prefix}`;
    const same = seen.get(key);
    if (c.issues.length === issues && same !== undefined) {
      c.add(
        itemPath,
        `has the host and path of ${join(path, same)}: give one route both upstreams`,
      );
    } else if (c.issues.length === issues) seen.set(key, i);
    const route: HttpRouteFlags = {
      ...(host === undefined ? {} : { host }),
      path: prefix,
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

/** A route's host, in lower case: a name such as `example.com`, or `*.example.com`. */
function routeHost(c: Checker): Check<string> {
  const check = c.string('a host such as "example.com" or "*.example.com"');
  return (value, path) => {
    const host = check(value, path)?.toLowerCase();
    if (host === undefined || isRouteHost(host)) return host;
    return c.add(
      path,
      `"${value}" is not valid: expected a host such as example.com or *.example.com`,
    );
  };
}

/** A route's path prefix: a `/`, then no spaces, `?` or `#`. */
function routePath(c: Checker): Check<string> {
  const check = c.string('a path prefix such as "/api"');
  return (value, path) => {
    const prefix = check(value, path);
    if (prefix === undefined || isRoutePath(prefix)) return prefix;
    return c.add(
      path,
      `"${prefix}" is not valid: expected a path prefix such as /api: a "/", then no spaces, ? or #`,
    );
  };
}

/** A size as text such as `"64KiB"`, read as `--max-body-size` reads it, or whole bytes. */
function size(c: Checker, min: number): Check<number> {
  const text = c.parsed((value, label) => parseSize(value, label, min), "");
  return (value, path) => {
    if (typeof value === "string") return text(value, path);
    if (Number.isSafeInteger(value) && (value as number) >= min) return value as number;
    return c.expected(path, `${SIZE} of at least ${min}`, value);
  };
}
