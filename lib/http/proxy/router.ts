/**
 * Choosing a route for a request: by `Host` (exact, or a `*.` wildcard), then by the longest path
 * prefix.
 *
 * @module
 */

/**
 * Where a route applies: a host, a path prefix, or both. A route with neither takes every
 * request no other route takes.
 *
 * @example Every request for the API of one host
 * ```ts
 * import type { RouteMatch } from "@minginx/minginx/http";
 *
 * const match: RouteMatch = { host: "example.com", path: "/api" };
 * ```
 */
export interface RouteMatch {
  /**
   * The host, without a port: `example.com` (that host only) or `*.example.com` (any host under
   * it, not `example.com` itself). Case does not matter.
   *
   * @default {any host}
   */
  host?: string;
  /**
   * A path prefix starting with `/`. `/api` takes `/api`, `/api/...` and `/api?...`, not
   * `/apis`; `/api/` takes only what is under `/api/`.
   *
   * @default {"/"}
   */
  path?: string;
}

const HOST = /^(?:\*\.)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$|^\[[0-9a-f:.]+\]$/;

/**
 * Whether a route may name this host: a DNS name, optionally after `*.`, or an IP address (in
 * brackets for IPv6).
 *
 * @param host The host, in lower case.
 * @returns Whether it may.
 */
export function isRouteHost(host: string): boolean {
  return HOST.test(host);
}

/**
 * Whether a route may take this path prefix: a `/`, then no spaces, `?` or `#`.
 *
 * @param path The prefix.
 * @returns Whether it may.
 */
export function isRoutePath(path: string): boolean {
  return path.startsWith("/") && !/[\s?#]/.test(path);
}

/**
 * Routes requests to targets, by host and then path. Hosts are tried most specific first (the
 * exact host, then wildcards from the longest), then routes without a host; within them, the
 * longest matching path prefix wins. So a more specific host takes a request only for the paths
 * it has routes for, and the rest fall through.
 *
 * @typeParam T What a route leads to, such as a pool.
 */
export class Router<T> {
  readonly #exact = new Map<string, Entry<T>[]>();
  readonly #wildcards: { suffix: string; entries: Entry<T>[] }[] = [];
  readonly #any: Entry<T>[] = [];

  /**
   * @param routes Each route's match and target; the first of two identical matches wins.
   * @throws {TypeError} If a host or path is malformed, naming it.
   */
  constructor(routes: Iterable<{ match: RouteMatch; target: T }>) {
    for (const { match, target } of routes) {
      const path = match.path ?? "/";
      if (!isRoutePath(path)) {
        throw new TypeError(`Cannot use route path "${path}": expected a prefix such as /api`);
      }
      const entry = { path, target };
      if (match.host === undefined) {
        this.#any.push(entry);
        continue;
      }
      const host = match.host.toLowerCase();
      if (!isRouteHost(host)) {
        throw new TypeError(
          `Cannot use route host "${match.host}": expected a host such as example.com or *.example.com`,
        );
      }
      if (host.startsWith("*.")) {
        const suffix = host.slice(1);
        let group = this.#wildcards.find((wildcard) => wildcard.suffix === suffix);
        if (!group) this.#wildcards.push(group = { suffix, entries: [] });
        group.entries.push(entry);
      } else {
        const group = this.#exact.get(host) ?? [];
        group.push(entry);
        this.#exact.set(host, group);
      }
    }
    this.#wildcards.sort((a, b) => b.suffix.length - a.suffix.length);
    for (const entries of [this.#any, ...this.#exact.values()]) sortByPath(entries);
    for (const { entries } of this.#wildcards) sortByPath(entries);
  }

  /**
   * The target for a request.
   *
   * @param host The `Host` field, port and case as sent.
   * @param path The URL's path.
   * @returns The target, or `undefined` if no route takes the request.
   */
  route(host: string, path: string): T | undefined {
    const name = hostname(host);
    const exact = this.#exact.get(name);
    if (exact) {
      const found = byPath(exact, path);
      if (found) return found;
    }
    for (const { suffix, entries } of this.#wildcards) {
      if (name.length > suffix.length && name.endsWith(suffix)) {
        const found = byPath(entries, path);
        if (found) return found;
      }
    }
    return byPath(this.#any, path);
  }
}

interface Entry<T> {
  path: string;
  target: T;
}

function sortByPath<T>(entries: Entry<T>[]): void {
  entries.sort((a, b) => b.path.length - a.path.length); // stable: first of equals stays first
}

function byPath<T>(entries: Entry<T>[], path: string): T | undefined {
  for (const { path: prefix, target } of entries) {
    if (!path.startsWith(prefix)) continue;
    if (path.length === prefix.length || prefix.endsWith("/") || path[prefix.length] === "/") {
      return target;
    }
  }
  return undefined;
}

/** The host of a `Host` field: lowercase, without its port. */
function hostname(host: string): string {
  const end = host.startsWith("[") ? host.indexOf("]") + 1 : host.lastIndexOf(":");
  return (end > 0 ? host.slice(0, end) : host).toLowerCase();
}
