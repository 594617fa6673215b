/**
 * The permission preflight: before listening, check that `--allow-net` covers the listen address
 * and every upstream, and if not, say which flag would.
 *
 * @module
 */

import { type Address, formatAddress } from "../address.ts";

/** A network permission the proxy needs, and what for. */
export interface NetNeed {
  /** The address to listen on or connect to. */
  address: Address;
  /** What the address is. */
  role: "listen" | "upstream";
}

/**
 * The `--allow-net` value that grants exactly what is needed: each address once, in order, as
 * `HOST:PORT` (IPv6 in brackets).
 *
 * @param needs What the proxy will listen on and connect to.
 * @returns The flag, such as `--allow-net=127.0.0.1:8081,127.0.0.1:8080`.
 */
export function allowNetFlag(needs: readonly NetNeed[]): string {
  const hosts = [...new Set(needs.map(({ address }) => formatAddress(address)))];
  return `--allow-net=${hosts.join(",")}`;
}

/**
 * Checks the network permissions with `Deno.permissions.query`, which matches the host text
 * exactly as `Deno.listen` and `Deno.connect` will.
 *
 * @param needs What the proxy will listen on and connect to.
 * @returns `undefined` if everything is granted, otherwise one line naming what is missing and
 * the flag that would work.
 */
export async function checkNetPermissions(needs: readonly NetNeed[]): Promise<string | undefined> {
  const missing: string[] = [];
  for (const { address, role } of needs) {
    const host = formatAddress(address);
    const { state } = await Deno.permissions.query({ name: "net", host });
    if (state !== "granted") missing.push(`${host} (${role})`);
  }
  if (missing.length === 0) return undefined;
  return `Missing network permission for ${missing.join(", ")}: run with ${allowNetFlag(needs)}`;
}
