/** A full example config, its equivalent flags, and helpers for the config tests. */

import assert from "node:assert/strict";
import { ConfigError, type ServerConfig } from "../lib/config/config.ts";
import { validateConfig } from "../lib/config/validate.ts";

export const FULL = `{
  "$schema": "./schema.json",
  "drainTimeout": "45s",
  "servers": [
    {
      "name": "web",
      "listen": ["127.0.0.1:8081", "[::1]:8081"], // or one string
      "upstreams": [
        "10.0.0.1:80",
        { "address": "10.0.0.2:80", "weight": 3, "backup": false },
        "10.0.0.3:80,weight=2,backup", /* the CLI's form */
      ],
      "balance": "least-conn",
      "healthCheck": { "check": "http:/healthz", "interval": "5s", "timeout": 500, "rise": 3, "fall": 4 },
      "passive": { "maxFails": 3, "failTimeout": "30s" },
      "slowStart": 30000,
      "connect": { "tries": 2, "timeout": "1s", "deadline": "3s" },
      "dnsTtl": "30s",
      "idleTimeout": "5m",
      "access": [{ "allow": "10.0.0.0/8" }, { "deny": "all" }],
      "rateLimit": { "rate": "20/s", "burst": 40 },
      "maxConnectionsPerIp": 10,
      "maxConnections": { "max": 1000, "queue": 100, "queueTimeout": "2s" },
      "faults": ["upstream:latency=100ms"],
      "onUpstreamRemoved": { "action": "close", "after": "30s" },
    },
    { "listen": "0.0.0.0:5432", "upstreams": ["db.internal:5432"] },
  ],
}`;

/** The same first server as flags. */
export const FULL_FLAGS = [
  ...["--listen", "127.0.0.1:8081", "--drain-timeout", "45s"],
  ...["-u", "10.0.0.1:80", "-u", "10.0.0.2:80,weight=3", "-u", "10.0.0.3:80,weight=2,backup"],
  ...["--balance", "least-conn", "--health-check", "http:/healthz", "--health-interval", "5s"],
  ...["--health-timeout", "500ms", "--health-rise", "3", "--health-fall", "4"],
  ...["--max-fails", "3", "--fail-timeout", "30s", "--slow-start", "30s"],
  ...["--connect-tries", "2", "--connect-timeout", "1s", "--connect-deadline", "3s"],
  ...["--dns-ttl", "30s", "--idle-timeout", "5m", "--allow", "10.0.0.0/8", "--deny", "all"],
  ...["--rate-limit", "20/s", "--rate-burst", "40", "--max-connections-per-ip", "10"],
  ...["--max-connections", "1000", "--queue", "100", "--queue-timeout", "2s"],
  ...["--fault", "upstream:latency=100ms"],
];

/** The fields a server shares with the command line's options. */
export const SHARED = [
  ...["upstreams", "balance", "healthCheck", "health", "maxFails", "failTimeout", "slowStart"],
  ...["connectTries", "connectTimeout", "connectDeadline", "dnsTtl", "idleTimeout", "ipRules"],
  ...["rateLimit", "maxConnectionsPerIp", "maxConnections", "faults"],
];

export function shared(options: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([key]) => SHARED.includes(key)));
}

export const WEB: ServerConfig = {
  name: "web",
  listen: [{ hostname: "127.0.0.1", port: 8081 }, { hostname: "::1", port: 8081 }],
  upstreams: [
    { address: { hostname: "10.0.0.1", port: 80 }, weight: 1, backup: false },
    { address: { hostname: "10.0.0.2", port: 80 }, weight: 3, backup: false },
    { address: { hostname: "10.0.0.3", port: 80 }, weight: 2, backup: true },
  ],
  balance: "least-conn",
  healthCheck: "http:/healthz",
  health: { interval: 5_000, timeout: 500, rise: 3, fall: 4 },
  maxFails: 3,
  failTimeout: 30_000,
  slowStart: 30_000,
  connectTries: 2,
  connectTimeout: 1_000,
  connectDeadline: 3_000,
  dnsTtl: 30_000,
  discover: [],
  discoveryInterval: 5_000,
  idleTimeout: 300_000,
  ipRules: [{ action: "allow", cidr: "10.0.0.0/8" }, { action: "deny", cidr: "all" }],
  rateLimit: { rate: 20, burst: 40 },
  maxConnectionsPerIp: 10,
  maxConnections: { max: 1000, queue: 100, queueTimeout: 2_000 },
  faults: [{ direction: "upstream", latency: 100 }],
  onUpstreamRemoved: { action: "close", after: 30_000 },
  tls: [],
  tlsAlpn: [],
  handshakeTimeout: 10_000,
  sni: [],
  acceptProxy: [],
  mode: "tcp",
  routes: [],
  trustedProxies: [],
  forwarded: "x-forwarded",
  maxHeaderSize: 32_768,
  maxBodySize: 0,
  headerTimeout: 30_000,
  keepAliveTimeout: 60_000,
  responseTimeout: 60_000,
  upstreamKeepalive: 32,
};

/** The smallest valid config, with one server; `server` adds to or overrides its fields. */
export function minimal(server: Record<string, unknown> = {}): Record<string, unknown> {
  return { servers: [{ listen: "127.0.0.1:8081", upstreams: ["10.0.0.1:80"], ...server }] };
}

/** The issues validateConfig() finds, or [] if it finds none. */
export function issuesOf(value: unknown): readonly string[] {
  try {
    validateConfig(value);
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues;
  }
}
