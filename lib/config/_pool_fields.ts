/**
 * The pool's part of a server in a config file: upstreams, balancing, health checks, passive
 * ejection, slow start and connecting, read as the command line's pool flags read them.
 *
 * @module
 */

import { parseAddress } from "../address.ts";
import { type AlgorithmName, ALGORITHMS } from "../balance/algorithms.ts";
import { POOL_DEFAULTS, type PoolFlags } from "../cli/pool_flags.ts";
import { isSource, parseSource, type SourceSpec } from "../discovery/source.ts";
import { parseHealthCheck } from "../health/parse.ts";
import { MAX_WEIGHT, parseUpstream } from "../pool/upstream.ts";
import { parseResolver } from "../cli/pool_flags.ts";
import { type Checker, join, type Json } from "./_fields.ts";

const ALGORITHM_NAMES = Object.keys(ALGORITHMS) as AlgorithmName[];
const ADDRESS = 'an address such as "10.0.0.1:80"';
const UPSTREAM = 'an upstream such as "10.0.0.1:80" or { "address": "10.0.0.1:80" }';
const HEALTH_CHECK = 'a health check such as "tcp" or "http:/healthz"';

/**
 * Reads a server's pool fields, with the pool flags' defaults.
 *
 * @param c Where mistakes go.
 * @param server The server.
 * @param path The server's path.
 * @returns What the pool flags would say.
 */
export function poolOf(c: Checker, server: Json, path: string): PoolFlags {
  const d = POOL_DEFAULTS;
  const read = c.reader(server, path);
  const passive = c.reader(
    read("passive", c.object("servers[].passive"), {}),
    join(path, "passive"),
  );
  const connect = c.reader(
    read("connect", c.object("servers[].connect"), {}),
    join(path, "connect"),
  );
  const discover: SourceSpec[] = [];
  return {
    upstreams: read("upstreams", (v, p) => upstreamsOf(c, v, p, discover), []),
    discover,
    discoveryInterval: read("discoveryInterval", c.duration(1), d.discoveryInterval),
    ...optional("resolver", read("resolver", c.parsed(parseResolver, ""), undefined)),
    balance: read("balance", c.oneOf(ALGORITHM_NAMES), d.balance),
    ...read("healthCheck", (v, p) => healthOf(c, v, p), {
      healthCheck: undefined,
      health: { ...d.health },
    }),
    maxFails: passive("maxFails", c.whole(0), d.maxFails),
    failTimeout: passive("failTimeout", c.duration(), d.failTimeout),
    slowStart: read("slowStart", c.duration(), d.slowStart),
    connectTries: connect("tries", c.whole(1), d.connectTries),
    connectTimeout: connect("timeout", c.duration(), d.connectTimeout),
    connectDeadline: connect("deadline", c.duration(), d.connectDeadline),
    dnsTtl: read("dnsTtl", c.duration(), d.dnsTtl),
  };
}

/**
 * Reads a list of upstreams: each text as `--upstream` reads it, or an object.
 *
 * @param c Where mistakes go.
 * @param value The list.
 * @param path Its path.
 * @param sources Where discovery sources go (`dns:`, `srv:`, `file:`); a list without it (an SNI
 * route's) may hold none.
 * @returns The upstreams that are right.
 */
export function upstreamsOf(
  c: Checker,
  value: unknown,
  path: string,
  sources?: SourceSpec[],
): PoolFlags["upstreams"] {
  const text = c.parsed(parseUpstream, "");
  const source = c.parsed(parseSource, "");
  const object = c.object("servers[].upstreams[]", UPSTREAM);
  const address = c.parsed((text, label) => parseAddress(text, { label }), ADDRESS);
  const upstreams: PoolFlags["upstreams"] = [];
  for (const [i, item] of (c.list("upstream")(value, path) ?? []).entries()) {
    const itemPath = join(path, i);
    if (typeof item === "string" && isSource(item)) {
      if (!sources) {
        c.add(
          itemPath,
          `"${item}" is not valid here: discovery sources (dns:, srv:, file:) go in a ` +
            `server's own "upstreams", not in a route's ("sni", "sniFallback" or "routes")`,
        );
      }
      const parsed = source(item, itemPath);
      if (parsed) sources?.push(parsed);
      continue;
    }
    if (typeof item === "string") {
      const upstream = text(item, itemPath);
      if (upstream) upstreams.push(upstream);
      continue;
    }
    const upstream = object(item, itemPath);
    if (upstream === undefined) continue;
    const read = c.reader(upstream, itemPath);
    const spec = {
      address: read("address", address, undefined),
      weight: read("weight", c.whole(1, MAX_WEIGHT), 1),
      backup: read("backup", c.boolean(), false),
    };
    if (spec.address) upstreams.push({ ...spec, address: spec.address });
  }
  return upstreams;
}

/**
 * Reads a health check object: the check as `--health-check` writes it, and its timing.
 *
 * @param c Where mistakes go.
 * @param value The object.
 * @param path Its path.
 * @param place Where it sits: a server's, or an HTTP route's.
 * @returns The check, and its timing with defaults.
 */
export function healthOf(
  c: Checker,
  value: unknown,
  path: string,
  place: "servers[].healthCheck" | "servers[].routes[].healthCheck" = "servers[].healthCheck",
): Pick<PoolFlags, "healthCheck" | "health"> {
  const read = c.reader(c.object(place)(value, path) ?? {}, path);
  const check = (text: string, label: string) => (parseHealthCheck(text, label), text);
  const d = POOL_DEFAULTS.health;
  return {
    healthCheck: read("check", c.parsed(check, HEALTH_CHECK), undefined),
    health: {
      interval: read("interval", c.duration(1), d.interval),
      timeout: read("timeout", c.duration(1), d.timeout),
      rise: read("rise", c.whole(1), d.rise),
      fall: read("fall", c.whole(1), d.fall),
    },
  };
}

/** `{ key: value }`, or nothing if the value is absent, so configs have no undefined keys. */
function optional<K extends string, T>(key: K, value: T | undefined): { [k in K]?: T } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: T };
}
