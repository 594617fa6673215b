/**
 * The proxies of the TLS workload, each terminating TLS with the same certificate on one core in
 * front of the HTTP responder: minginx with `--tls-cert` and `--tls-key`, and nginx's stream
 * proxy with `listen ... ssl`.
 *
 * @module
 */

import { HOST } from "./net.ts";
import { type RunningProxy, startInTempDir, startNginxStream } from "./proxies.ts";
import { type Child, spawn } from "./resources.ts";

/** The targets the TLS workload compares, in the order they run. */
export const TLS_TARGETS = ["minginx", "nginx"] as const;
/** One of {@linkcode TLS_TARGETS}. */
export type TlsTarget = typeof TLS_TARGETS[number];

/** How a TLS-terminating proxy is started. */
export interface TlsProxyOptions {
  /** The HTTP responder's port on {@linkcode HOST}. */
  upstreamPort: number;
  /** The CPUs to pin the proxy to, as `taskset -c` takes them. */
  cpus: string;
  /** The most connections the proxy must hold at once, counting both sides of each. */
  maxSockets: number;
  /** The certificate's PEM file. */
  certFile: string;
  /** Its private key's PEM file. */
  keyFile: string;
}

const REPO = new URL("..", import.meta.url).pathname;

/**
 * Starts a proxy that terminates TLS and forwards the plaintext to the HTTP responder, and waits
 * until it accepts connections.
 *
 * @param target Which proxy.
 * @param options The upstream, the CPUs, the sockets and the certificate.
 * @returns The running proxy.
 * @throws {Error} If it exits or does not accept in time; the message holds its output.
 */
export function startTlsProxy(
  target: TlsTarget,
  options: TlsProxyOptions,
): Promise<RunningProxy> {
  return startInTempDir(
    target,
    `tls-${target}`,
    (port, dir) =>
      target === "minginx" ? startMinginx(port, options) : startNginx(port, options, dir),
  );
}

function startMinginx(port: number, options: TlsProxyOptions): Child {
  const listen = `${HOST}:${port}`;
  const upstream = `${HOST}:${options.upstreamPort}`;
  return spawn("minginx", Deno.execPath(), [
    "run",
    `--allow-net=${listen},${upstream}`,
    `--allow-read=${options.certFile},${options.keyFile}`,
    "main.ts",
    ...["-l", listen, "-u", upstream],
    ...["--tls-cert", options.certFile, "--tls-key", options.keyFile],
    ...["--log-level", "warning"],
  ], { cwd: REPO, cpus: options.cpus });
}

// nginx 1.22 offers TLS 1.2 at most unless told otherwise; minginx offers 1.3, and so does this.
function startNginx(port: number, options: TlsProxyOptions, dir: string): Promise<Child> {
  return startNginxStream(
    dir,
    options,
    `listen ${HOST}:${port} ssl;
    ssl_certificate ${options.certFile};
    ssl_certificate_key ${options.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;`,
  );
}
