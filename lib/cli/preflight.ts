/**
 * The permission preflight: before listening, check that `--allow-net` covers the listen address
 * and every upstream, and if not, say which flag would.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { type Address, formatAddress } from "../address.ts";

/** A network permission the proxy needs, and what for. */
export interface NetNeed {
  /** The address to listen on or connect to. */
  address: Address;
  /** What the address is. */
  role: "listen" | "admin" | "upstream" | "resolver";
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

/**
 * Checks what `--workers N` needs beyond the network: Deno's `--unstable-net` (for SO_REUSEPORT,
 * without which `Deno.listen` would end the process) and, when the code runs from local files,
 * read access to them, since each worker loads its modules anew (a compiled binary and code
 * imported from JSR need none).
 *
 * @param workers How many workers were asked for.
 * @param code Where the workers' modules live: the `lib/` folder.
 * @returns `undefined` if the workers can start, otherwise one line naming what is missing.
 */
export async function checkWorkerPermissions(
  workers: number,
  code: URL = new URL("../", import.meta.url),
): Promise<string | undefined> {
  if (workers === 1) return undefined;
  const missing: string[] = [];
  if (typeof Deno.listenDatagram !== "function") missing.push("--unstable-net");
  // A `deno compile` binary carries its modules inside: they need no read permission.
  if (code.protocol === "file:" && !Deno.build.standalone) {
    const path = fileURLToPath(code).replace(/\/$/, "");
    const { state } = await Deno.permissions.query({ name: "read", path });
    if (state !== "granted") missing.push(`--allow-read=${path}`);
  }
  if (missing.length === 0) return undefined;
  return `--workers ${workers} shares the port with SO_REUSEPORT (--unstable-net) and loads the ` +
    `proxy's code in each worker: run with ${missing.join(" ")}`;
}

/**
 * Checks that the process may read the files the servers need (TLS certificates and keys).
 *
 * @param paths The files.
 * @returns `undefined`, or one line naming what is missing and the flag that would grant it.
 */
export async function checkReadPermissions(paths: readonly string[]): Promise<string | undefined> {
  const missing: string[] = [];
  for (const path of paths) {
    const { state } = await Deno.permissions.query({ name: "read", path });
    if (state !== "granted") missing.push(path);
  }
  if (missing.length === 0) return undefined;
  return `Missing read permission for ${missing.join(", ")} (TLS files): run with ` +
    `--allow-read=${missing.join(",")}`;
}

/**
 * Checks that the process may write the access log file, if there is one.
 *
 * @param path The `--access-log` file, if any.
 * @returns `undefined`, or one line naming the flag that would grant it.
 */
export async function checkWritePermission(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  const { state } = await Deno.permissions.query({ name: "write", path });
  if (state === "granted") return undefined;
  return `Missing write permission for the access log ${path}: run with --allow-write=${path}`;
}
