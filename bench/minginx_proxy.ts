/**
 * minginx as a target: the bare proxy as a `deno run` subprocess, and its variants measured
 * against it, the same command line with flags added: `minginx-layers` with five layers that
 * never touch bytes, `minginx-metrics` with the admin API, which turns counting on.
 *
 * @module
 */

import { HOST } from "./net.ts";
import type { ProxyOptions, Target } from "./proxies.ts";
import { type Child, spawn } from "./resources.ts";

/** The minginx targets: bare, and each variant of {@linkcode VARIANTS}. */
export type MinginxTarget = "minginx" | typeof VARIANTS[number];

/**
 * The variants of minginx, each compared with bare minginx measured in the same round: they run
 * back to back with it (see `roundOrder`) and are reported as a ratio over it.
 */
export const VARIANTS = ["minginx-layers", "minginx-metrics"] as const;

/**
 * The flags `minginx-layers` adds to the bare minginx command line: five layers (an IP filter, a
 * rate limit, a per-IP and a global connection limit, a fault that never fires) that let every
 * connection of the benchmark through and never touch its bytes. The limits are far above what
 * any workload reaches, the idle workload's held connections included.
 */
export const LAYER_ARGS: readonly string[] = [
  "--allow",
  "127.0.0.0/8",
  "--rate-limit",
  "1000000/s",
  "--rate-burst",
  "1000000",
  "--max-connections-per-ip",
  "1000000",
  "--max-connections",
  "1000000",
  "--fault",
  "upstream:latency=1ms,probability=0",
];

/** The flag `minginx-metrics` adds to the bare command line, followed by the admin address. */
export const ADMIN_FLAG = "--admin";

const REPO = new URL("..", import.meta.url).pathname;

/**
 * Whether a target is minginx, bare or a variant.
 *
 * @param target The target.
 * @returns `true` for `minginx` and its variants.
 */
export function isMinginx(target: Target): target is MinginxTarget {
  return target === "minginx" || (VARIANTS as readonly string[]).includes(target);
}

/**
 * Starts minginx on one core: `-l` and `-u` with warnings only, plus the variant's flags, and
 * `--mode http` for the HTTP-mode workload.
 *
 * @param target Which minginx.
 * @param port The port to listen on.
 * @param options The upstream, the CPUs, and the mode (`tcp`, the default, adds no flag).
 * @param adminPort Where `minginx-metrics` serves its admin API; ignored by the others.
 * @returns The running process.
 */
export function startMinginx(
  target: MinginxTarget,
  port: number,
  { upstreamPort, cpus, mode = "tcp" }: Pick<ProxyOptions, "upstreamPort" | "cpus"> & {
    mode?: "tcp" | "http";
  },
  adminPort?: number,
): Child {
  const listen = `${HOST}:${port}`;
  const upstream = `${HOST}:${upstreamPort}`;
  const admin = target === "minginx-metrics" ? [`${HOST}:${adminPort}`] : [];
  return spawn(target, Deno.execPath(), [
    "run",
    `--allow-net=${[listen, upstream, ...admin].join(",")}`,
    "main.ts",
    "-l",
    listen,
    "-u",
    upstream,
    "--log-level",
    "warning",
    ...(mode === "http" ? ["--mode", "http"] : []),
    ...(target === "minginx-layers" ? LAYER_ARGS : []),
    ...admin.flatMap((address) => [ADMIN_FLAG, address]),
  ], { cwd: REPO, cpus });
}
