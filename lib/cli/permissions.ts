/**
 * Least privilege from a config: the network permissions a set of servers needs, and the command
 * lines (`deno run`, `deno compile`) that grant exactly those, for `main.ts permissions`.
 *
 * @module
 */

import { type Address, formatAddress } from "../address.ts";
import { allowNetFlag, type NetNeed } from "./preflight.ts";
import type { ServerConfig } from "../config/config.ts";

/**
 * What the servers need from `--allow-net`: every listen address, the admin API's, every
 * upstream, which is also where its health checks connect, and the DNS server (`--resolver`)
 * that discovery asks. Discovered upstreams are not known in advance: see
 * {@linkcode permissionsText}.
 *
 * @param servers The servers, from a config or from flags.
 * @param admin Where the admin API listens, if it does.
 * @returns Each need once, in config order: listeners first, then the admin API.
 */
export function netNeeds(
  servers: readonly (
    & Pick<ServerConfig, "listen" | "upstreams">
    & Partial<Pick<ServerConfig, "sni" | "sniFallback" | "resolver" | "routes">>
  )[],
  admin?: Address,
): NetNeed[] {
  const needs = new Map<string, NetNeed>();
  for (const { listen } of servers) {
    for (const address of listen) needs.set(formatAddress(address), { address, role: "listen" });
  }
  if (admin) needs.set(formatAddress(admin), { address: admin, role: "admin" });
  for (const { resolver } of servers) {
    const key = resolver && formatAddress(resolver);
    if (key && !needs.has(key)) needs.set(key, { address: resolver, role: "resolver" });
  }
  for (const { upstreams, sni = [], sniFallback = [], routes = [] } of servers) {
    const all = [
      ...upstreams,
      ...sni.flatMap((route) => route.upstreams),
      ...sniFallback,
      ...routes.flatMap((route) => route.upstreams),
    ];
    for (const { address } of all) {
      const key = formatAddress(address);
      if (!needs.has(key)) needs.set(key, { address, role: "upstream" });
    }
  }
  return [...needs.values()];
}

/**
 * The files the servers read besides the config file: TLS certificates, keys and CA files, at
 * startup and on every reload, and the files discovery follows (`file:PATH`).
 *
 * @param servers The servers.
 * @returns Their paths, each once.
 */
export function fileNeeds(
  servers: readonly Partial<Pick<ServerConfig, "tls" | "upstreamTls" | "discover">>[],
): string[] {
  const paths = servers.flatMap(({ tls = [], upstreamTls, discover = [] }) => [
    ...discover.flatMap((source) => source.kind === "file" ? [source.path] : []),
    ...tls.flatMap(({ cert, key }) => [cert, key]),
    ...(upstreamTls?.ca === undefined ? [] : [upstreamTls.ca]),
  ]);
  return [...new Set(paths)];
}

/** What `main.ts permissions` is asked about. */
export interface PermissionsRequest {
  /** The network needs. */
  needs: NetNeed[];
  /** The config file, which is read at startup and on every reload. */
  configFile?: string;
  /** Other files read at startup and on every reload: TLS certificates, keys, CA files. */
  files?: string[];
  /** The access log file, which is written. */
  accessLog?: string;
  /** The arguments to run with, after `main.ts`. */
  args: string[];
  /** More than 1 adds what workers need. */
  workers: number;
  /** The folder of the proxy's modules, which workers load (a compiled binary needs none). */
  codeDir: string;
  /** The discovery sources (`dns:`, `srv:`), whose upstreams are found only while running. */
  discovery?: { sources: string[]; systemResolver: boolean };
}

/**
 * The text `main.ts permissions` prints: the minimal `--allow-net` list, then ready command lines
 * for `deno run` and `deno compile`.
 *
 * @param request The needs and how the proxy is run.
 * @returns Lines ending in a newline.
 */
export function permissionsText(request: PermissionsRequest): string {
  const { needs, configFile, args, workers, codeDir, files = [], accessLog, discovery } = request;
  const net = allowNetFlag(needs);
  const readable = [...(configFile === undefined ? [] : [configFile]), ...files];
  const read = readable.length === 0 ? [] : [`--allow-read=${readable.join(",")}`];
  const unstable = workers > 1 ? ["--unstable-net"] : [];
  const workerRead = workers > 1 ? [`--allow-read=${[codeDir, ...readable].join(",")}`] : read;
  const write = accessLog === undefined ? [] : [`--allow-write=${accessLog}`];
  const hostnames = needs.filter(({ address }) => !/^[0-9.]+$|:/.test(address.hostname));
  const lines = [
    net,
    ...read,
    ...write,
    "",
    `deno run ${
      [net, ...workerRead, ...write, ...unstable, "main.ts", ...args].map(quote).join(" ")
    }`,
    `deno compile ${
      [
        net,
        ...read,
        ...write,
        ...unstable,
        ...(workers > 1 ? ["--include", "lib/cli/worker.ts"] : []),
        "--output",
        "minginx",
        "main.ts",
      ].map(quote).join(" ")
    }`,
    `./minginx ${args.map(quote).join(" ")}`.trimEnd(),
  ];
  if (hostnames.length > 0) {
    lines.push(
      "",
      `# ${hostnames.map(({ address }) => address.hostname).join(", ")}: with only HOST:PORT, ` +
        "Deno connects to the first address a name resolves to. To have minginx resolve it " +
        "itself and try each address, also allow the name alone and those addresses.",
    );
  }
  if (discovery && discovery.sources.length > 0) {
    lines.push(
      "",
      `# ${discovery.sources.join(", ")}: the upstreams found are connected to by address. ` +
        "Add each address they may have, or a block of them with the port: Deno takes " +
        "--allow-net=10.0.0.0/8:8080.",
    );
    if (discovery.systemResolver) {
      lines.push(
        "# Without --resolver, names are asked of the system's nameservers " +
          "(/etc/resolv.conf): add each as IP:53.",
      );
    }
  }
  return lines.join("\n") + "\n";
}

function quote(arg: string): string {
  return /^[\w@%+=:,./[\]-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}
