/**
 * Checking a parsed config file, and filling in its defaults: every mistake is found, not just
 * the first, and each value is read by the same parser as the command line's flag for it.
 *
 * @module
 */

import { type Address, formatAddress, parseAddress } from "../address.ts";
import { adminProblem, DEFAULTS, LOG_FORMATS, LOG_LEVELS, MAX_WORKERS } from "../cli/args.ts";
import { clientKey } from "../ip.ts";
import { Checker, join } from "./_fields.ts";
import { layersOf } from "./_layer_fields.ts";
import { poolOf } from "./_pool_fields.ts";
import { edgeOf } from "./_edge_fields.ts";
import { httpOf } from "./_http_fields.ts";
import { type Config, ConfigError, type ServerConfig, type UpstreamRemoval } from "./config.ts";

const REMOVAL_ACTIONS: UpstreamRemoval["action"][] = ["drain", "close"];
const ADDRESS = 'an address such as "127.0.0.1:8081"';

/**
 * Checks a parsed config file (see schema.json for its shape) and fills in its defaults, which
 * are the command line's. Durations may be text such as `"5s"` or whole milliseconds.
 *
 * @param value The parsed file, as {@linkcode parseJsonc} returns it.
 * @returns The config.
 * @throws {ConfigError} Listing every mistake, each as `PATH: what is wrong`, such as
 * `servers[0].upstreams[1]: "10.0.0:80" is not valid: expected HOST:PORT`.
 *
 * @example Defaults, and every mistake at once
 * ```ts
 * import { validateConfig } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const config = validateConfig({
 *   servers: [{
 *     listen: ["127.0.0.1:8081", "[::1]:8081"],
 *     upstreams: ["10.0.0.1:80,weight=2", { address: "10.0.0.2:80", backup: true }],
 *     maxConnections: { max: 1000, queue: 100, queueTimeout: "2s" },
 *   }],
 * });
 * assert.equal(config.servers[0].upstreams[1].backup, true);
 * assert.deepEqual(config.servers[0].maxConnections, { max: 1000, queue: 100, queueTimeout: 2_000 });
 *
 * assert.throws(
 *   () => validateConfig({ servers: [{ listen: "127.0.0.1:8081", upstreams: [], balanse: "p2c" }] }),
 *   {
 *     name: "ConfigError",
 *     issues: [
 *       'servers[0].balanse: unknown key; did you mean "balance"?',
 *       "servers[0].upstreams: expected at least one upstream, got []",
 *     ],
 *   },
 * );
 * ```
 */
export function validateConfig(value: unknown): Config {
  const c = new Checker();
  const read = c.reader(c.object("")(value, "") ?? {}, "");
  read("$schema", c.parsed(String, "a string"), ""); // for editors; ignored
  const drainTimeout = read("drainTimeout", c.duration(), DEFAULTS.drainTimeout);
  const logLevel = read("logLevel", c.oneOf(LOG_LEVELS), DEFAULTS.logLevel);
  const logFormat = read("logFormat", c.oneOf(LOG_FORMATS), DEFAULTS.logFormat);
  const accessLog = read("accessLog", c.string("a file path"), undefined);
  const admin = read(
    "admin",
    c.parsed((text, label) => parseAddress(text, { label, allowPortZero: true }), ADDRESS),
    undefined,
  );
  const adminToken = read("adminToken", c.string("a token"), undefined);
  if (admin !== undefined) {
    const problem = adminProblem(admin, adminToken, "adminToken");
    if (problem) c.add("admin", `"${formatAddress(admin)}" ${problem}`);
  } else if (adminToken !== undefined) c.add("adminToken", "needs admin: add it");
  const workers = read("workers", (v, p) => workersOf(c, v, p), DEFAULTS.workers);
  const seen = { listen: new Map<string, string>(), name: new Map<string, string>() };
  const servers = read("servers", c.list("server"), [])
    .map((server, i) => serverOf(c, server, join("servers", i), i, seen));
  if (c.issues.length > 0) throw new ConfigError(c.issues);
  const config: Config = { drainTimeout, logLevel, logFormat, workers, servers };
  if (accessLog !== undefined) config.accessLog = accessLog;
  if (admin !== undefined) config.admin = admin;
  if (adminToken !== undefined) config.adminToken = adminToken;
  return config;
}

function workersOf(c: Checker, value: unknown, path: string): number | undefined {
  if (value === "auto") return Math.min(navigator.hardwareConcurrency, MAX_WORKERS);
  if (Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= MAX_WORKERS) {
    return value as number;
  }
  return c.expected(path, `a whole number from 1 to ${MAX_WORKERS}, or "auto"`, value);
}

/** What the servers so far use, for finding a listen address or a name used twice. */
type Seen = { listen: Map<string, string>; name: Map<string, string> };

function serverOf(c: Checker, value: unknown, path: string, index: number, seen: Seen) {
  const server = c.object("servers[]")(value, path) ?? {};
  const read = c.reader(server, path);
  const name = read("name", c.string(), `server-${index}`);
  const first = seen.name.get(name);
  if (first === undefined) seen.name.set(name, path);
  else if (Object.hasOwn(server, "name")) {
    c.add(join(path, "name"), `"${name}" is already used by ${first}: expected each name once`);
  } else c.add(path, `its name "${name}" is already used by ${first}: expected each name once`);
  // Read in the order of the keys, so the mistakes come in that order too.
  const listen = read("listen", (v, p) => listenOf(c, v, p, seen.listen), []);
  const idleTimeout = read("idleTimeout", c.duration(), DEFAULTS.idleTimeout);
  const pool = poolOf(c, server, path);
  const layers = layersOf(c, server, path);
  const edge = edgeOf(c, server, path);
  return {
    name,
    listen,
    idleTimeout,
    ...pool,
    ...layers,
    ...edge,
    ...httpOf(c, server, path, { ...edge, faults: layers.faults }),
    onUpstreamRemoved: read("onUpstreamRemoved", (v, p) => removalOf(c, v, p), {
      action: "drain",
      after: 0,
    }),
  } satisfies ServerConfig;
}

function listenOf(c: Checker, value: unknown, path: string, seen: Map<string, string>) {
  let items: [unknown, string][] = [];
  if (typeof value === "string") items = [[value, path]];
  else if (Array.isArray(value) && value.length > 0) {
    items = value.map((item, i) => [item, join(path, i)]);
  } else c.expected(path, `${ADDRESS}, or an array of one or more`, value);
  const parse = c.parsed(
    (text, label) => parseAddress(text, { label, allowPortZero: true }),
    ADDRESS,
  );
  const addresses: Address[] = [];
  for (const [item, itemPath] of items) {
    const address = parse(item, itemPath);
    if (address === undefined) continue;
    addresses.push(address);
    if (address.port === 0) continue; // each gets a port of its own
    const key = `${clientKey(address.hostname).toLowerCase()}:${address.port}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, itemPath);
    else c.add(itemPath, `"${item}" is already used by ${first}: expected each address once`);
  }
  return addresses;
}

function removalOf(c: Checker, value: unknown, path: string): UpstreamRemoval | undefined {
  const removal = c.object("servers[].onUpstreamRemoved")(value, path);
  if (removal === undefined) return undefined;
  const read = c.reader(removal, path);
  return {
    action: read("action", c.oneOf(REMOVAL_ACTIONS), "drain"),
    after: read("after", c.duration(), 0),
  };
}
