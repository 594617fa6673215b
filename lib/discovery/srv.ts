/**
 * Discovery from SRV records, as Consul, Nomad and Kubernetes serve them: each record's target
 * and port is an upstream, the lowest priority are the primaries and the rest backups, and the
 * record's weight is the upstream's.
 *
 * @module
 */

import { MAX_WEIGHT } from "../pool/upstream.ts";
import { type DiscoveredUpstream, type Discovery, poll } from "./discovery.ts";
import { type NameServer, queryLimit, resolveAddresses } from "./dns.ts";

/** Options for {@linkcode srvDiscovery}. */
export interface SrvDiscoveryOptions {
  /** The SRV name, such as `_http._tcp.web.service.consul`. */
  name: string;
  /**
   * How often to resolve it again, in milliseconds.
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
 * Follows a name's SRV records. Each target is resolved to its addresses (A and AAAA), each an
 * upstream on the record's port. The records of the lowest priority are the primaries, and
 * those of every higher priority are backups, offered only when no primary is available. A
 * record's weight (0 to 65535) becomes the upstream's (1 to 1000): as it is when every weight
 * fits, else scaled so the largest is 1000; 0 becomes 1. A target that does not resolve is left
 * out; if none resolves, or there are no records, it is a failure and the pool keeps its last set.
 *
 * @param options The name and how often to resolve it.
 * @returns The discovery, for {@linkcode discover}.
 *
 * @example Follow a Consul service
 * ```ts
 * import { srvDiscovery } from "@minginx/minginx";
 *
 * const source = srvDiscovery({
 *   name: "_web._tcp.service.consul",
 *   nameServer: { ipAddr: "127.0.0.1", port: 8600 },
 * });
 * ```
 */
export function srvDiscovery(options: SrvDiscoveryOptions): Discovery {
  const { name, interval = 5_000, nameServer, signal } = options;
  return poll(() => resolveSrv(name, nameServer, signal), interval, signal);
}

async function resolveSrv(
  name: string,
  nameServer?: NameServer,
  signal?: AbortSignal,
): Promise<DiscoveredUpstream[]> {
  const records = await Deno.resolveDns(name, "SRV", { nameServer, signal: queryLimit(signal) });
  if (records.length === 0) throw new Error(`Cannot resolve "${name}": no SRV records`);
  const primary = Math.min(...records.map((r) => r.priority));
  const heaviest = Math.max(...records.map((r) => r.weight));
  const scale = heaviest > MAX_WEIGHT ? MAX_WEIGHT / heaviest : 1;
  const failures: string[] = [];
  const resolved = await Promise.all(records.map(async (record) => {
    const target = record.target.replace(/\.$/, "");
    try {
      const addresses = await resolveAddresses(target, nameServer, signal);
      return addresses.map((ip): DiscoveredUpstream => ({
        address: { hostname: ip, port: record.port },
        weight: Math.max(1, Math.round(record.weight * scale)),
        backup: record.priority !== primary,
      }));
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      failures.push(target);
      return [];
    }
  }));
  const upstreams = resolved.flat().sort((a, b) => key(a).localeCompare(key(b)));
  if (upstreams.length > 0) return upstreams;
  throw new Error(`Cannot resolve the targets of "${name}": ${failures.join(", ")}`);
}

function key(upstream: DiscoveredUpstream): string {
  return JSON.stringify(upstream);
}
