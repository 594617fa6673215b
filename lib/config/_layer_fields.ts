/**
 * The optional layers' part of a server in a config file: access rules, rate and connection
 * limits, and faults, read as the command line's layer flags read them.
 *
 * @module
 */

import { DEFAULT_QUEUE_TIMEOUT_MS, type LayerFlags } from "../cli/layer_flags.ts";
import { parseCidr } from "../ip.ts";
import type { IpRule } from "../middleware/ip_filter.ts";
import { parseFault } from "../middleware/faults/spec.ts";
import { parseRate } from "../rate.ts";
import { type Checker, join, type Json } from "./_fields.ts";

const RULE = 'an access rule such as { "allow": "10.0.0.0/8" } or { "deny": "all" }';
const CIDR = 'a CIDR such as "10.0.0.0/8", "::1" or "all"';
const FAULT = 'a fault such as "upstream:latency=100ms"';
const RATE = 'a rate such as "20/s" or "600/m"';

/**
 * Reads a server's layer fields; a layer the server does not ask for is left out.
 *
 * @param c Where mistakes go.
 * @param server The server.
 * @param path The server's path.
 * @returns What the layer flags would say.
 */
export function layersOf(c: Checker, server: Json, path: string): LayerFlags {
  const read = c.reader(server, path);
  const flags: LayerFlags = {
    ipRules: read("access", (v, p) => accessOf(c, v, p), []),
    faults: read("faults", (v, p) => faultsOf(c, v, p), []),
  };
  const rateLimit = read("rateLimit", (v, p) => rateLimitOf(c, v, p), undefined);
  if (rateLimit) flags.rateLimit = rateLimit;
  const perIp = read("maxConnectionsPerIp", c.whole(1), undefined);
  if (perIp !== undefined) flags.maxConnectionsPerIp = perIp;
  const maxConnections = read("maxConnections", (v, p) => maxConnectionsOf(c, v, p), undefined);
  if (maxConnections) flags.maxConnections = maxConnections;
  return flags;
}

function accessOf(c: Checker, value: unknown, path: string): IpRule[] {
  const object = c.object("servers[].access[]", RULE);
  const cidr = c.parsed(parseCidr, CIDR);
  const rules: IpRule[] = [];
  for (const [i, item] of (c.list("access rule", true)(value, path) ?? []).entries()) {
    const itemPath = join(path, i);
    const rule = object(item, itemPath);
    if (rule === undefined) continue;
    const actions = (["allow", "deny"] as const).filter((action) => Object.hasOwn(rule, action));
    if (actions.length === 2) c.add(itemPath, 'expected "allow" or "deny", not both');
    if (Object.keys(rule).length === 0) c.add(itemPath, 'missing "allow" or "deny"');
    for (const action of actions) {
      const block = cidr(rule[action], join(itemPath, action));
      if (block) rules.push({ action, cidr: block.text });
    }
  }
  return rules;
}

function faultsOf(c: Checker, value: unknown, path: string): LayerFlags["faults"] {
  const fault = c.parsed(parseFault, FAULT);
  const list = c.list("fault", true)(value, path) ?? [];
  return list.flatMap((item, i) => fault(item, join(path, i)) ?? []);
}

function rateLimitOf(c: Checker, value: unknown, path: string): LayerFlags["rateLimit"] {
  const read = c.reader(c.object("servers[].rateLimit")(value, path) ?? {}, path);
  const rate = read("rate", c.parsed(parseRate, RATE), undefined);
  const burst = read("burst", c.whole(1), undefined);
  return rate === undefined ? undefined : { rate, burst: burst ?? Math.max(1, Math.ceil(rate)) };
}

function maxConnectionsOf(c: Checker, value: unknown, path: string): LayerFlags["maxConnections"] {
  const limit = c.object("servers[].maxConnections")(value, path) ?? {};
  const read = c.reader(limit, path);
  const max = read("max", c.whole(1), undefined);
  const queue = read("queue", c.whole(0), 0);
  const queueTimeout = read("queueTimeout", c.duration(), DEFAULT_QUEUE_TIMEOUT_MS);
  if (Object.hasOwn(limit, "queueTimeout") && (limit.queue ?? 0) === 0) {
    c.add(join(path, "queueTimeout"), 'needs "queue" above 0: add it, or drop "queueTimeout"');
  }
  return max === undefined ? undefined : { max, queue, queueTimeout };
}
