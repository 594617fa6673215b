/**
 * The keys each object in a config file may have, and the "did you mean" for one it may not.
 * schema.json lists the same keys; a test holds the two together.
 *
 * @module
 */

/** An object's keys, in the order the schema lists them, and which of them it must have. */
export interface Keys {
  /** Every key it may have. */
  readonly keys: readonly string[];
  /** The keys it must have. */
  readonly required: readonly string[];
}

/**
 * Every object in a config file by where it sits: `""` is the top level, `"servers[]"` each
 * server, `"servers[].healthCheck"` each server's health check, and so on.
 */
export const CONFIG_KEYS = {
  "": {
    keys: [
      "$schema",
      "drainTimeout",
      "logLevel",
      "logFormat",
      "accessLog",
      "admin",
      "adminToken",
      "workers",
      "servers",
    ],
    required: ["servers"],
  },
  "servers[]": {
    keys: [
      "name",
      "listen",
      "upstreams",
      "balance",
      "healthCheck",
      "passive",
      "slowStart",
      "connect",
      "dnsTtl",
      "discoveryInterval",
      "resolver",
      "idleTimeout",
      "access",
      "rateLimit",
      "maxConnectionsPerIp",
      "maxConnections",
      "faults",
      "onUpstreamRemoved",
      "acceptProxy",
      "tls",
      "sni",
      "sniFallback",
      "handshakeTimeout",
      "upstreamTls",
      "sendProxy",
      "mode",
      "routes",
      "trustedProxies",
      "forwarded",
      "maxHeaderSize",
      "maxBodySize",
      "headerTimeout",
      "keepAliveTimeout",
      "responseTimeout",
      "upstreamKeepalive",
    ],
    required: ["listen", "upstreams"],
  },
  "servers[].upstreams[]": { keys: ["address", "weight", "backup"], required: ["address"] },
  "servers[].healthCheck": {
    keys: ["check", "interval", "timeout", "rise", "fall"],
    required: ["check"],
  },
  "servers[].passive": { keys: ["maxFails", "failTimeout"], required: [] },
  "servers[].connect": { keys: ["tries", "timeout", "deadline"], required: [] },
  "servers[].access[]": { keys: ["allow", "deny"], required: [] },
  "servers[].rateLimit": { keys: ["rate", "burst"], required: ["rate"] },
  "servers[].maxConnections": { keys: ["max", "queue", "queueTimeout"], required: ["max"] },
  "servers[].onUpstreamRemoved": { keys: ["action", "after"], required: [] },
  "servers[].sniFallback[]": { keys: ["address", "weight", "backup"], required: ["address"] },
  "servers[].tls": { keys: ["certificates", "alpn"], required: ["certificates"] },
  "servers[].tls.certificates[]": { keys: ["cert", "key"], required: ["cert", "key"] },
  "servers[].upstreamTls": { keys: ["ca", "serverName", "alpn"], required: [] },
  "servers[].routes[]": {
    keys: ["host", "path", "upstreams", "balance", "healthCheck"],
    required: ["upstreams"],
  },
  "servers[].routes[].upstreams[]": {
    keys: ["address", "weight", "backup"],
    required: ["address"],
  },
  "servers[].routes[].healthCheck": {
    keys: ["check", "interval", "timeout", "rise", "fall"],
    required: ["check"],
  },
} as const satisfies Record<string, Keys>;

/** Where an object sits in a config file, as {@linkcode CONFIG_KEYS} names it. */
export type Place = keyof typeof CONFIG_KEYS;

/**
 * What to say about a key an object may not have: the known key it most likely meant (at most
 * two edits away, or sharing its first four letters), else the keys it may have.
 *
 * @param key The unknown key.
 * @param known The keys the object may have.
 * @returns The message, without the path: `unknown key; did you mean "balance"?`.
 */
export function unknownKey(key: string, known: readonly string[]): string {
  const typed = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const lower = candidate.toLowerCase();
    const distance = levenshtein(typed, lower);
    const prefix = commonPrefix(typed, lower) >= Math.min(4, typed.length, lower.length);
    if ((distance <= 2 || prefix) && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return `unknown key; did you mean "${best}"?`;
  return `unknown key; expected ${listOf(known.map((name) => `"${name}"`))}`;
}

/**
 * A list for a message: `a`, `a or b`, `a, b or c`.
 *
 * @param items The items, already quoted if they need to be.
 * @returns The list.
 */
export function listOf(items: readonly string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return i;
}

/** The number of one-character insertions, deletions and substitutions from `a` to `b`. */
function levenshtein(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, substitution);
    }
    row = next;
  }
  return row[b.length];
}
