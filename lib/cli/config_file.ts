/**
 * The config file on the command line: reading it, letting flags override a single server, the
 * one-server config that plain flags amount to, and the summary `main.ts check` prints.
 *
 * @module
 */

import { formatAddress } from "../address.ts";
import type { Config, ServerConfig } from "../config/config.ts";
import { formatDuration } from "../duration.ts";
import { type CliOptions, UsageError } from "./args.ts";
import { HTTP_FLAGS, tcpOnly } from "./http_flags.ts";

/**
 * Reads and validates a config file.
 *
 * @param file Its path.
 * @returns The config.
 * @throws {Error} If it cannot be read (the message names the file), or a `SyntaxError` or
 * `ConfigError` listing every mistake.
 */
export async function loadConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new Error(`Cannot read ${file}: run with --allow-read=${file}`, { cause: error });
    }
    throw new Error(`Cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  // The parser and its checks load with the first file: a proxy run from flags does without.
  const { parseConfig } = await import("../config/parse_config.ts");
  return parseConfig(text, file);
}

/** Which field of a server each flag sets, and which part of it for the flags that set a part. */
const SERVER_FLAGS: Record<string, [keyof ServerConfig, string?]> = {
  listen: ["listen"],
  upstream: ["upstreams"],
  balance: ["balance"],
  "health-check": ["healthCheck"],
  "health-interval": ["health", "interval"],
  "health-timeout": ["health", "timeout"],
  "health-rise": ["health", "rise"],
  "health-fall": ["health", "fall"],
  "max-fails": ["maxFails"],
  "fail-timeout": ["failTimeout"],
  "slow-start": ["slowStart"],
  "connect-tries": ["connectTries"],
  "connect-timeout": ["connectTimeout"],
  "connect-deadline": ["connectDeadline"],
  "dns-ttl": ["dnsTtl"],
  "discovery-interval": ["discoveryInterval"],
  resolver: ["resolver"],
  "idle-timeout": ["idleTimeout"],
  allow: ["ipRules"],
  deny: ["ipRules"],
  "rate-limit": ["rateLimit", "rate"],
  "rate-burst": ["rateLimit", "burst"],
  "max-connections-per-ip": ["maxConnectionsPerIp"],
  "max-connections": ["maxConnections", "max"],
  queue: ["maxConnections", "queue"],
  "queue-timeout": ["maxConnections", "queueTimeout"],
  fault: ["faults"],
  "tls-cert": ["tls"],
  "tls-key": ["tls"],
  "tls-alpn": ["tlsAlpn"],
  "handshake-timeout": ["handshakeTimeout"],
  "upstream-tls": ["upstreamTls"],
  "upstream-tls-ca": ["upstreamTls"],
  "upstream-tls-name": ["upstreamTls"],
  "upstream-tls-alpn": ["upstreamTls"],
  sni: ["sni"],
  "sni-fallback": ["sniFallback"],
  "send-proxy": ["sendProxy"],
  "accept-proxy": ["acceptProxy"],
  mode: ["mode"],
  route: ["routes"],
  "trusted-proxy": ["trustedProxies"],
  forwarded: ["forwarded"],
  "max-header-size": ["maxHeaderSize"],
  "max-body-size": ["maxBodySize"],
  "header-timeout": ["headerTimeout"],
  "keep-alive-timeout": ["keepAliveTimeout"],
  "response-timeout": ["responseTimeout"],
  "upstream-keepalive": ["upstreamKeepalive"],
};

/**
 * The config with the flags given on the command line laid over it. Server flags override the
 * file's only server; with several servers they are a usage error. A flag for a part of a setting
 * (`--health-interval`, `--queue`, `--rate-burst`, ...) changes that part of the file's setting
 * and keeps the rest. `--drain-timeout`, `--log-level`, `--log-format`, `--access-log`,
 * `--admin`, `--admin-token` and `--workers` override the file's top-level settings.
 *
 * @param config The file's config.
 * @param options The command line.
 * @returns The config to run.
 * @throws {UsageError} If server flags are given for a file with several servers.
 */
export function withFlags(config: Config, options: CliOptions): Config {
  const flags = options.given.filter((name) => name in SERVER_FLAGS);
  const given = (flag: string) => options.given.includes(flag);
  config = {
    ...config,
    drainTimeout: given("drain-timeout") ? options.drainTimeout : config.drainTimeout,
    logLevel: given("log-level") ? options.logLevel : config.logLevel,
    logFormat: given("log-format") ? options.logFormat : config.logFormat,
    workers: given("workers") ? options.workers : config.workers,
    accessLog: given("access-log") ? options.accessLog : config.accessLog,
    admin: given("admin") ? options.admin : config.admin,
    adminToken: given("admin-token") ? options.adminToken : config.adminToken,
  };
  for (const key of ["accessLog", "admin", "adminToken"] as const) {
    if (config[key] === undefined) delete config[key];
  }
  if (flags.length === 0) return config;
  if (config.servers.length > 1) {
    throw new UsageError(
      `Option --${flags[0]} would override a server, but ${options.config} has ` +
        `${config.servers.length}: set it in the file, or drop --${flags[0]}`,
    );
  }
  const server: Record<string, unknown> = { ...config.servers[0] };
  for (const name of flags) {
    const [field, part] = SERVER_FLAGS[name];
    const value = field === "listen" ? [options.listen] : options[field as keyof CliOptions];
    const current = server[field] as Record<string, unknown> | undefined;
    // A flag for a part of a setting the file has changes that part only.
    server[field] = part !== undefined && current !== undefined
      ? { ...current, [part]: (value as Record<string, unknown>)[part] }
      : value;
  }
  // --upstream gives the discovery sources too: dns:, srv: and file: are upstreams there.
  if (flags.includes("upstream")) server.discover = options.discover;
  // The file and the flags each made sense alone (both were checked); together they may not.
  const file = options.config;
  const http = server.mode === "http";
  const orphan = flags.find((name) => name !== "mode" && name in HTTP_FLAGS);
  if (!http && orphan) {
    throw new UsageError(`Option --${orphan} needs "mode": "http" in ${file}, or --mode http`);
  }
  const [conflict] = http ? tcpOnly(server as unknown as ServerConfig) : [];
  if (conflict) {
    throw new UsageError(
      given(conflict.flag.slice(2))
        ? `Option ${conflict.flag} does not go with "mode": "http" in ${file}: ${conflict.why}`
        : `Option --mode http does not go with "${conflict.key}" in ${file}: ${conflict.why}`,
    );
  }
  return { ...config, servers: [server as unknown as ServerConfig] };
}

/**
 * The config that plain flags describe: one server.
 *
 * @param options The command line.
 * @returns A config with one server, named `default`.
 */
export function configFromFlags(options: CliOptions): Config {
  return {
    drainTimeout: options.drainTimeout,
    logLevel: options.logLevel,
    logFormat: options.logFormat,
    workers: options.workers,
    ...(options.accessLog === undefined ? {} : { accessLog: options.accessLog }),
    ...(options.admin === undefined ? {} : { admin: options.admin }),
    ...(options.adminToken === undefined ? {} : { adminToken: options.adminToken }),
    servers: [{
      ...options,
      name: "default",
      listen: [options.listen],
      onUpstreamRemoved: { action: "drain", after: 0 },
    }],
  };
}

/**
 * What `main.ts check` prints about a valid config: its listeners and pools.
 *
 * @param file The file.
 * @param config Its config.
 * @returns Lines ending in a newline.
 */
export function describeConfig(file: string, config: Config): string {
  const { servers } = config;
  const lines = [
    `${file} is valid: ${servers.length} server${servers.length === 1 ? "" : "s"}, ` +
    `drain timeout ${formatDuration(config.drainTimeout)}`,
  ];
  const list = (upstreams: ServerConfig["upstreams"]) =>
    upstreams.map(({ address, weight, backup }) =>
      formatAddress(address) + (weight === 1 ? "" : ` weight ${weight}`) + (backup ? " backup" : "")
    ).join(", ");
  for (const server of servers) {
    const upstreams = [list(server.upstreams)];
    const health = server.healthCheck === undefined
      ? "no health check"
      : `health check ${server.healthCheck} every ${formatDuration(server.health.interval)}`;
    lines.push(
      `  ${server.name}: listens on ${server.listen.map(formatAddress).join(", ")}`,
      `    ${server.balance} over ${upstreams.join(", ")}; ${health}`,
      ...edgeLines(server).map((line) => `    ${line}`),
    );
    for (const { name, upstreams } of server.sni) lines.push(`    SNI ${name}: ${list(upstreams)}`);
    if (server.sniFallback) lines.push(`    not TLS: ${list(server.sniFallback)}`);
    for (const { host, path, upstreams } of server.routes) {
      lines.push(`    HTTP ${host ?? "any host"} ${path}: ${list(upstreams)}`);
    }
  }
  return lines.join("\n") + "\n";
}

/** What a server does at its edges, a line each: TLS and the PROXY protocol. */
function edgeLines(server: ServerConfig): string[] {
  const lines: string[] = [];
  if (server.mode === "http") {
    lines.push(
      `HTTP mode: requests no route takes go to the pool above; forwarding fields ` +
        `${server.forwarded}` +
        (server.trustedProxies.length ? `, trusted from ${server.trustedProxies.join(", ")}` : ""),
    );
  }
  if (server.acceptProxy.length) {
    lines.push(`PROXY headers from ${server.acceptProxy.join(", ")}; others are refused`);
  }
  if (server.tls.length) {
    const alpn = server.tlsAlpn.length ? `, ALPN ${server.tlsAlpn.join(",")}` : "";
    lines.push(`terminates TLS with ${server.tls.map(({ cert }) => cert).join(", ")}${alpn}`);
  }
  const tls = server.upstreamTls;
  if (tls) lines.push(`TLS to upstreams${tls.serverName ? ` as ${tls.serverName}` : ""}`);
  if (server.sendProxy) lines.push(`sends PROXY v${server.sendProxy} headers`);
  return lines;
}
