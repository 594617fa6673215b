/**
 * The flags for the upstream pool: upstreams with weights and backups, the balancing algorithm,
 * health checks, passive ejection, slow start, and how hard to try connecting. They parse into
 * plain data, which a worker receives as it is, and {@linkcode poolFromFlags} turns into a pool.
 *
 * @module
 */

import { isIpAddress } from "../ip.ts";
import { durationFlag, type Values, wholeFlag } from "./_flag_values.ts";
import { type Address, parseAddress } from "../address.ts";
import { type AlgorithmName, ALGORITHMS } from "../balance/algorithms.ts";
import type { ConnectOptions } from "../connect.ts";
import type { HealthOptions } from "../health/checker.ts";
import { parseHealthCheck } from "../health/parse.ts";
import { Pool } from "../pool/pool.ts";
import { parseUpstream, type UpstreamSpec } from "../pool/upstream.ts";
import { Resolver } from "../resolve.ts";
import { parseSource, type SourceSpec } from "../discovery/source.ts";

/** What the pool's flags say. Every field is plain data. */
export interface PoolFlags {
  /** `--upstream`, each with its weight and tier. */
  upstreams: (Required<UpstreamSpec> & { address: Address })[];
  /** `--upstream` discovery sources: `dns:HOST:PORT`, `srv:NAME`, `file:PATH`. */
  discover: SourceSpec[];
  /** `--discovery-interval` in milliseconds. */
  discoveryInterval: number;
  /** `--resolver`: the DNS server discovery asks; the system's if absent. */
  resolver?: Address;
  /** `--balance`. */
  balance: AlgorithmName;
  /** `--health-check`, as written; checked when parsed. */
  healthCheck?: string;
  /** `--health-interval`, `--health-timeout`, `--health-rise`, `--health-fall`. */
  health: Required<HealthOptions>;
  /** `--max-fails`. */
  maxFails: number;
  /** `--fail-timeout` in milliseconds. */
  failTimeout: number;
  /** `--slow-start` in milliseconds. */
  slowStart: number;
  /** `--connect-tries`. */
  connectTries: number;
  /** `--connect-timeout` (each try) in milliseconds. */
  connectTimeout: number;
  /** `--connect-deadline` (all tries) in milliseconds. */
  connectDeadline: number;
  /** `--dns-ttl` in milliseconds. */
  dnsTtl: number;
}

/** The pool flags' defaults, as the help text shows them. */
export const POOL_DEFAULTS = {
  upstream: "127.0.0.1:8080",
  balance: "round-robin",
  health: { interval: 2_000, timeout: 1_000, rise: 2, fall: 3 },
  maxFails: 1,
  failTimeout: 10_000,
  slowStart: 0,
  connectTries: 3,
  connectTimeout: 5_000,
  connectDeadline: 15_000,
  dnsTtl: 10_000,
  discoveryInterval: 5_000,
} as const;

/** The parseArgs options for these flags. */
export const POOL_FLAGS = {
  upstream: { type: "string", short: "u", multiple: true },
  balance: { type: "string", short: "b" },
  "health-check": { type: "string" },
  "health-interval": { type: "string" },
  "health-timeout": { type: "string" },
  "health-rise": { type: "string" },
  "health-fall": { type: "string" },
  "max-fails": { type: "string" },
  "fail-timeout": { type: "string" },
  "slow-start": { type: "string" },
  "connect-tries": { type: "string" },
  "connect-timeout": { type: "string" },
  "connect-deadline": { type: "string" },
  "dns-ttl": { type: "string" },
  "discovery-interval": { type: "string" },
  resolver: { type: "string" },
} as const;

/**
 * Reads the pool flags from parseArgs' values.
 *
 * @param values What parseArgs returned as `values`.
 * @returns The pool flags, with defaults filled in.
 * @throws {TypeError} For a malformed value, or a health flag without `--health-check`; the CLI
 * reports it as a usage error.
 */
export function parsePoolFlags(values: Values): PoolFlags {
  const text = (name: string) => values[name] as string | undefined;
  const duration = (name: string, fallback: number) => durationFlag(values, name, fallback, true);
  const positive = (name: string, fallback: number) => durationFlag(values, name, fallback);
  const whole = (name: string, fallback: number, lowest: number) =>
    wholeFlag(values, name, fallback, lowest);
  const upstreams = (values.upstream as string[] | undefined) ?? [POOL_DEFAULTS.upstream];
  const healthCheck = text("health-check");
  if (healthCheck !== undefined) parseHealthCheck(healthCheck, "--health-check");
  else {
    const orphan = ["interval", "timeout", "rise", "fall"].find((key) => text(`health-${key}`));
    if (orphan) {
      throw new TypeError(`Option --health-${orphan} needs --health-check: add it, or drop it`);
    }
  }
  const { health } = POOL_DEFAULTS;
  const sources = upstreams.map((upstream) => parseSource(upstream, "--upstream"));
  const resolver = text("resolver");
  return {
    upstreams: upstreams.filter((_, i) => !sources[i]).map((u) => parseUpstream(u, "--upstream")),
    discover: sources.filter((source) => source !== undefined),
    discoveryInterval: positive("discovery-interval", POOL_DEFAULTS.discoveryInterval),
    ...(resolver === undefined ? {} : { resolver: parseResolver(resolver, "--resolver") }),
    balance: algorithmName(text("balance") ?? POOL_DEFAULTS.balance),
    healthCheck,
    health: {
      interval: positive("health-interval", health.interval),
      timeout: positive("health-timeout", health.timeout),
      rise: whole("health-rise", health.rise, 1),
      fall: whole("health-fall", health.fall, 1),
    },
    maxFails: whole("max-fails", POOL_DEFAULTS.maxFails, 0),
    failTimeout: duration("fail-timeout", POOL_DEFAULTS.failTimeout),
    slowStart: duration("slow-start", POOL_DEFAULTS.slowStart),
    connectTries: whole("connect-tries", POOL_DEFAULTS.connectTries, 1),
    connectTimeout: duration("connect-timeout", POOL_DEFAULTS.connectTimeout),
    connectDeadline: duration("connect-deadline", POOL_DEFAULTS.connectDeadline),
    dnsTtl: duration("dns-ttl", POOL_DEFAULTS.dnsTtl),
  };
}

/**
 * The pool the flags describe, with its health checks running until it is closed.
 *
 * @param flags What the flags say.
 * @param name The pool's name, for logs, metrics and the admin API.
 * @returns The pool.
 */
export function poolFromFlags(flags: PoolFlags, name?: string): Pool {
  return new Pool({
    name,
    upstreams: flags.upstreams,
    balance: ALGORITHMS[flags.balance],
    healthCheck: flags.healthCheck === undefined ? undefined : parseHealthCheck(flags.healthCheck),
    health: flags.health,
    maxFails: flags.maxFails,
    failTimeout: flags.failTimeout,
    slowStart: flags.slowStart,
  });
}

/**
 * How forward should connect, as the flags say.
 *
 * @param flags What the flags say.
 * @returns The connect options.
 */
export function connectFromFlags(flags: PoolFlags): Omit<ConnectOptions, "onFailure"> {
  return {
    tries: flags.connectTries,
    timeout: flags.connectTimeout,
    resolver: new Resolver({ ttl: flags.dnsTtl }),
  };
}

/**
 * Parses a DNS server's address, as `--resolver` takes it: an IP address and a port.
 *
 * @param text The text, such as `127.0.0.1:5353`.
 * @param label What the text is, for error messages.
 * @returns The address.
 * @throws {TypeError} If it is not `IP:PORT`; the message quotes it.
 */
export function parseResolver(text: string, label = "--resolver"): Address {
  const expected =
    `Cannot parse ${label} "${text}": expected IP:PORT of a DNS server, such as 127.0.0.1:53`;
  let address: Address;
  try {
    address = parseAddress(text, { label });
  } catch {
    throw new TypeError(expected);
  }
  if (!isIpAddress(address.hostname)) throw new TypeError(expected);
  return address;
}

function algorithmName(name: string): AlgorithmName {
  if (Object.hasOwn(ALGORITHMS, name)) return name as AlgorithmName;
  const names = Object.keys(ALGORITHMS);
  throw new TypeError(
    `Cannot parse --balance "${name}": expected ${names.slice(0, -1).join(", ")} or ${
      names.at(-1)
    }`,
  );
}
