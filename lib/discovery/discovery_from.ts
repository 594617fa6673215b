/**
 * Following a parsed discovery source: the DNS, SRV or file discovery it describes. Apart from
 * the parsing in `source.ts`, so that a proxy without sources loads no discovery at all.
 *
 * @module
 */

import type { Address } from "../address.ts";
import type { Discovery } from "./discovery.ts";
import { dnsDiscovery, type NameServer } from "./dns.ts";
import { fileDiscovery } from "./file.ts";
import type { SourceSpec } from "./source.ts";
import { srvDiscovery } from "./srv.ts";

/** How sources are followed: how often, asking which DNS server. */
export interface SourceOptions {
  /** How often to resolve names and read files again, in milliseconds. */
  interval: number;
  /** The DNS server to ask; the system's if absent. */
  resolver?: Address;
  /** Ends the discovery. */
  signal?: AbortSignal;
}

/**
 * The discovery a parsed source describes.
 *
 * @param source The source.
 * @param options How often, and which DNS server.
 * @returns The discovery, for `discover()`.
 *
 * @example Follow a file every second
 * ```ts
 * import { discoveryFrom, parseSource } from "@minginx/minginx";
 *
 * const source = discoveryFrom(parseSource("file:/run/minginx/web.json")!, { interval: 1_000 });
 * ```
 */
export function discoveryFrom(source: SourceSpec, options: SourceOptions): Discovery {
  const { interval, signal } = options;
  const nameServer = nameServerOf(options.resolver);
  switch (source.kind) {
    case "dns": {
      const { address: { hostname, port }, weight, backup } = source;
      return dnsDiscovery({ hostname, port, weight, backup, interval, nameServer, signal });
    }
    case "srv":
      return srvDiscovery({ name: source.name, interval, nameServer, signal });
    case "file":
      return fileDiscovery({ path: source.path, interval, signal });
  }
}

function nameServerOf(resolver: Address | undefined): NameServer | undefined {
  return resolver && { ipAddr: resolver.hostname, port: resolver.port };
}
