/**
 * The admin API: an HTTP listener that serves the metrics, the status and the status page, and
 * drains and enables upstreams on request.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type Address, formatAddress, parseAddress } from "../address.ts";
import { isLoopback } from "../ip.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../metrics/registry.ts";
import { messageOf } from "../_util.ts";
import { type AdminBackend, AdminError, type UpstreamAction } from "./backend.ts";
import { CHALLENGES, Guard } from "./_guard.ts";
import { statusPage, statusPageCsp } from "./page.ts";

const log = getLogger(["minginx", "admin"]);

/**
 * Options for {@linkcode serveAdmin}.
 *
 * @example Options for an admin API on every address, which needs a token
 * ```ts
 * import { type AdminBackend, type AdminOptions, Registry } from "@minginx/minginx";
 *
 * const registry = new Registry();
 * const backend: AdminBackend = {
 *   metrics: () => registry.render(),
 *   status: () => Promise.reject(new Error("not here")),
 *   upstream: () => Promise.reject(new Error("not here")),
 * };
 * const options: AdminOptions = { listen: "0.0.0.0:9090", token: "a-long-random-secret", backend };
 * ```
 */
export interface AdminOptions {
  /** Where to listen: `HOST:PORT` or an address. Any address but loopback needs `token`. */
  listen: string | Address;
  /**
   * The token every request must carry, as `Authorization: Bearer TOKEN` (or as the password of
   * HTTP Basic authentication, which a browser asks for). Never logged.
   */
  token?: string;
  /** What the API serves and changes. */
  backend: AdminBackend;
  /** Stops the listener when aborted. */
  signal?: AbortSignal;
}

/** A running admin API, returned by {@linkcode serveAdmin}. */
export interface AdminServer extends AsyncDisposable {
  /** Where it listens, with the real port when port 0 was asked for. */
  readonly address: Address;
  /** Settles once it has stopped. */
  readonly finished: Promise<void>;
  /** Stops listening and waits for requests in progress. */
  shutdown(): Promise<void>;
}

/**
 * Serves the admin API:
 *
 * | request | answer |
 * |---|---|
 * | `GET /` | the status page: listeners and upstreams, live charts, drain and enable buttons |
 * | `GET /metrics` | the Prometheus text exposition |
 * | `GET /status` | the status, as JSON ({@linkcode ProxyStatus}) |
 * | `POST /upstreams/{pool}/{address}/drain` | drains the upstream; it stays listed, draining |
 * | `POST /upstreams/{pool}/{address}/enable` | takes it back |
 *
 * Without a token it may only listen on loopback, and only answers requests whose `Host` is a
 * loopback address or `localhost`. A change is refused from another web origin, and logged with
 * the caller's address.
 *
 * @param options Where to listen, the token, and the backend.
 * @returns The running server.
 * @throws {TypeError} If the address is malformed, or is not loopback and there is no token.
 *
 * @example Serve the metrics of a registry
 * ```ts
 * import { type AdminBackend, AdminError, Registry, serveAdmin } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const registry = new Registry();
 * registry.counter({ name: "minginx_demo_total", help: "A demo counter." }).inc();
 * const backend: AdminBackend = {
 *   metrics: () => registry.render(),
 *   status: () => { throw new AdminError(404, "No status here"); },
 *   upstream: () => { throw new AdminError(404, "No upstreams here"); },
 * };
 * await using admin = serveAdmin({ listen: "127.0.0.1:0", backend });
 * const response = await fetch(`http://127.0.0.1:${admin.address.port}/metrics`);
 * assert.match(await response.text(), /^minginx_demo_total 1$/m);
 * ```
 */
export function serveAdmin(options: AdminOptions): AdminServer {
  const listen = typeof options.listen === "string"
    ? parseAddress(options.listen, { label: "admin", allowPortZero: true })
    : options.listen;
  if (options.token === undefined && !isLoopback(listen.hostname)) {
    throw new TypeError(
      `Cannot serve the admin API on ${formatAddress(listen)} without a token: ` +
        `expected a loopback address such as 127.0.0.1, or a token`,
    );
  }
  if (options.token !== undefined && options.token.length === 0) {
    throw new TypeError("Cannot use an empty admin token: expected at least one character");
  }
  const guard = new Guard(options.token);
  // The page may run only its own script and style, by their hashes, and fetch only from here.
  const page = { html: statusPage(), policy: statusPageCsp() };
  const { backend } = options;
  const server = Deno.serve({
    hostname: listen.hostname,
    port: listen.port,
    signal: options.signal,
    onListen: () => {},
    onError: (error) => {
      log.error("Admin API error: {error}", { error: messageOf(error) });
      return json(500, { error: "Internal error; see the proxy's log" });
    },
  }, (request, info) => {
    const refusal = guard.check(request);
    if (refusal) {
      log.debug("Refused an admin request from {caller}: {why}", {
        caller: formatAddress(info.remoteAddr),
        why: refusal.message,
      });
      const response = json(refusal.status, { error: refusal.message });
      if (refusal.status === 401) {
        for (const challenge of CHALLENGES) response.headers.append("www-authenticate", challenge);
      }
      return response;
    }
    return route(request, formatAddress(info.remoteAddr), backend, page);
  });
  const address = { hostname: server.addr.hostname, port: server.addr.port };
  return {
    address,
    finished: server.finished,
    shutdown: () => server.shutdown(),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

async function route(
  request: Request,
  caller: string,
  backend: AdminBackend,
  page: { html: string; policy: Promise<string> },
): Promise<Response> {
  const { pathname } = new URL(request.url);
  const read = request.method === "GET" || request.method === "HEAD";
  try {
    if (pathname === "/" || pathname === "/metrics" || pathname === "/status") {
      if (!read) return notAllowed(pathname, "GET, HEAD");
      if (pathname === "/metrics") return text(await backend.metrics(), PROMETHEUS_CONTENT_TYPE);
      if (pathname === "/status") return json(200, await backend.status());
      const response = text(page.html, "text/html; charset=utf-8");
      response.headers.set("content-security-policy", await page.policy);
      return response;
    }
    const change = upstreamChange(pathname);
    if (change === undefined) {
      return json(404, {
        error: `No ${pathname}: expected /, /metrics, /status or ` +
          `/upstreams/{pool}/{address}/drain or /enable`,
      });
    }
    if (request.method !== "POST") return notAllowed(pathname, "POST");
    const upstream = await backend.upstream(change.pool, change.address, change.action);
    log.info("Admin API: {caller} asked to {action} upstream {upstream} in pool {pool}", {
      caller,
      ...change,
      upstream: change.address,
    });
    return json(200, { pool: change.pool, ...upstream });
  } catch (error) {
    if (!(error instanceof AdminError)) throw error;
    return json(error.status, { error: error.message });
  }
}

/** `/upstreams/{pool}/{address}/{action}`, where a pool's name may hold slashes. */
function upstreamChange(
  pathname: string,
): { pool: string; address: string; action: UpstreamAction } | undefined {
  const parts = pathname.split("/").slice(1);
  if (parts.length < 4 || parts[0] !== "upstreams") return undefined;
  const action = parts.at(-1);
  if (action !== "drain" && action !== "enable") return undefined;
  try {
    return {
      pool: parts.slice(1, -2).map(decodeURIComponent).join("/"),
      address: decodeURIComponent(parts.at(-2)!),
      action,
    };
  } catch {
    return undefined;
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body, null, 2) + "\n", {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}

function text(body: string, type: string): Response {
  return new Response(body, { headers: { "content-type": type, "cache-control": "no-store" } });
}

function notAllowed(pathname: string, allow: string): Response {
  const response = json(405, { error: `${pathname} takes ${allow}` });
  response.headers.set("allow", allow);
  return response;
}
