/**
 * Discovery from a name's A and AAAA records: every address is an upstream on one port, as a
 * Kubernetes headless Service or Consul's DNS interface answers.
 *
 * @module
 */

import { isIpAddress } from "../ip.ts";
import { messageOf } from "../_util.ts";
import { type DiscoveredUpstream, type Discovery, poll } from "./discovery.ts";

/** A DNS server to ask instead of the system's, as `Deno.resolveDns` takes it. */
export interface NameServer {
  /** Its IP address. */
  ipAddr: string;
  /**
   * Its port.
   *
   * @default {53}
   */
  port?: number;
}

/** Options for {@linkcode dnsDiscovery}. */
export interface DnsDiscoveryOptions {
  /** The name whose A and AAAA records are the upstreams. */
  hostname: string;
  /** The port every upstream listens on. */
  port: number;
  /**
   * Every upstream's weight, 1 to 1000.
   *
   * @default {1}
   */
  weight?: number;
  /** Whether every upstream is a backup. */
  backup?: boolean;
  /**
   * How often to resolve the name again, in milliseconds.
   *
   * @default {5000}
   */
  interval?: number;
  /** The DNS server to ask; the system's if absent. Deno needs `--allow-net` for it (`IP:53`). */
  nameServer?: NameServer;
  /** Ends the discovery. */
  signal?: AbortSignal;
}

/**
 * Follows a name's A and AAAA records: yields the upstreams whenever the addresses change. A
 * name with neither kind of record is a failure, so the pool keeps its last set.
 *
 * @param options The name, port and how often to resolve it.
 * @returns The discovery, for {@linkcode discover}.
 *
 * @example Follow a headless Service's pods
 * ```ts
 * import { dnsDiscovery } from "@minginx/minginx";
 *
 * const source = dnsDiscovery({ hostname: "web.default.svc.cluster.local", port: 8080 });
 * ```
 */
export function dnsDiscovery(options: DnsDiscoveryOptions): Discovery {
  const { hostname, port, weight = 1, backup = false, interval = 5_000, signal } = options;
  return poll(
    async () => {
      const addresses = await resolveAddresses(hostname, options.nameServer, signal);
      return addresses.map((ip): DiscoveredUpstream => ({
        address: { hostname: ip, port },
        weight,
        backup,
      }));
    },
    interval,
    signal,
  );
}

/** How long one DNS query may take: Deno waits 15 s for a server that does not answer. */
export const DNS_QUERY_TIMEOUT_MS = 2_000;

/**
 * A signal that aborts a query after {@linkcode DNS_QUERY_TIMEOUT_MS}, or when `signal` does.
 *
 * @param signal The caller's signal, if any.
 * @returns The signal to query with.
 *
 * @example Limit a query
 * ```ts
 * import { queryLimit } from "@minginx/minginx";
 *
 * const signal = queryLimit(new AbortController().signal);
 * ```
 */
export function queryLimit(signal?: AbortSignal): AbortSignal {
  const limit = AbortSignal.timeout(DNS_QUERY_TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, limit]) : limit;
}

/**
 * A name's IPv4 and IPv6 addresses, sorted, from one A and one AAAA query.
 *
 * @param hostname The name; an IP address is returned as it is.
 * @param nameServer The DNS server to ask; the system's if absent.
 * @param signal Cuts the queries short.
 * @returns The addresses, never empty.
 * @throws {Error} If neither query found an address; the message names the name and both
 * answers. A missing permission for the DNS server throws `Deno.errors.NotCapable`.
 *
 * @example An IP address needs no query
 * ```ts
 * import { resolveAddresses } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(await resolveAddresses("10.0.0.1"), ["10.0.0.1"]);
 * ```
 */
export async function resolveAddresses(
  hostname: string,
  nameServer?: NameServer,
  signal?: AbortSignal,
): Promise<string[]> {
  if (isIpAddress(hostname)) return [hostname];
  const ask = (type: "A" | "AAAA") =>
    Deno.resolveDns(hostname, type, { nameServer, signal: queryLimit(signal) });
  const answers = await Promise.allSettled([ask("A"), ask("AAAA")]);
  const addresses = answers.flatMap((a) => a.status === "fulfilled" ? a.value : []);
  if (addresses.length > 0) return addresses.sort();
  for (const answer of answers) {
    if (answer.status === "rejected" && answer.reason instanceof Deno.errors.NotCapable) {
      throw answer.reason;
    }
  }
  const why = answers.map((a) => a.status === "rejected" ? messageOf(a.reason) : "no records");
  throw new Error(`Cannot resolve "${hostname}" (A: ${why[0]}; AAAA: ${why[1]})`);
}
