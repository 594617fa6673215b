/**
 * The targets of the HTTP-mode workload, each on one core in front of the HTTP responder: minginx
 * with `--mode http`, which reads each request and forwards it over kept-alive upstream
 * connections; nginx as an HTTP reverse proxy (`proxy_pass` to an `upstream` block with
 * `keepalive 32`); and "direct", which is no proxy at all.
 *
 * @module
 */

import { startMinginx } from "./minginx_proxy.ts";
import { HOST } from "./net.ts";
import {
  type ProxyOptions,
  type RunningProxy,
  startInTempDir,
  startNginxWith,
  startProxy,
  type Target,
} from "./proxies.ts";
import type { Child } from "./resources.ts";

/** The targets the HTTP-mode workload compares, in the order they run. */
export const HTTP_MODE_TARGETS = ["minginx", "nginx", "direct"] as const;
/** One of {@linkcode HTTP_MODE_TARGETS}. */
export type HttpModeTarget = typeof HTTP_MODE_TARGETS[number];

/**
 * The idle upstream connections each proxy keeps: nginx's `keepalive` in its `upstream` block,
 * and minginx's `--upstream-keepalive` default.
 */
export const UPSTREAM_KEEPALIVE = 32;

/**
 * Whether a target takes part in the HTTP-mode workload.
 *
 * @param target The target.
 * @returns `true` for minginx, nginx and direct.
 */
export function isHttpModeTarget(target: Target): target is HttpModeTarget {
  return (HTTP_MODE_TARGETS as readonly string[]).includes(target);
}

/**
 * Starts an HTTP proxy in front of the HTTP responder and waits until it accepts connections;
 * for `direct`, the responder's own port.
 *
 * @param target Which proxy, or `direct`.
 * @param options The upstream, the CPUs, and how many sockets it must hold.
 * @returns The running proxy.
 * @throws {Error} For a target that is not an HTTP proxy here, or one that does not start.
 */
export function startHttpModeProxy(target: Target, options: ProxyOptions): Promise<RunningProxy> {
  if (!isHttpModeTarget(target)) {
    return Promise.reject(new Error(`${target} is not a target of the HTTP-mode workload`));
  }
  if (target === "direct") return startProxy(target, options);
  return startInTempDir(
    target,
    `http-${target}`,
    (port, dir) =>
      target === "minginx"
        ? startMinginx(target, port, { ...options, mode: "http" })
        : startNginxHttp(port, options, dir),
  );
}

/**
 * nginx's HTTP proxy as the workload runs it: one worker, no access log, HTTP/1.1 to a pool of
 * up to {@linkcode UPSTREAM_KEEPALIVE} idle upstream connections (the `Connection` field
 * cleared, so that nginx does not ask the upstream to close), and its temporary files in `dir`.
 * Everything else is nginx's default, `keepalive_requests 1000` on both sides among it.
 */
function startNginxHttp(port: number, options: ProxyOptions, dir: string): Promise<Child> {
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((name) => `  ${name}_temp_path ${dir}/${name}_temp;`).join("\n");
  return startNginxWith(
    dir,
    options,
    `http {
  access_log off;
${temp}
  upstream responder {
    server ${HOST}:${options.upstreamPort};
    keepalive ${UPSTREAM_KEEPALIVE};
  }
  server {
    listen ${HOST}:${port};
    location / {
      proxy_pass http://responder;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}`,
  );
}
