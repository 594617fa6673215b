/**
 * TLS's modules, loaded only when a server terminates TLS or trusts a CA file of its own: they
 * bring in Node's TLS and crypto modules, which a proxy without TLS does without. Load them with
 * {@linkcode loadTls} before building the stacks of servers that need them.
 *
 * @module
 */

import type { EdgeFlags } from "./edge_flags.ts";
import type * as Certificates from "../tls/certificates.ts";
import type * as Terminate from "../tls/terminate.ts";

/** What the stacks use of the TLS modules. */
export interface TlsModules {
  /** Reads the certificate and key files of each pair. */
  readCertificateFiles: typeof Certificates.readCertificateFiles;
  /** Reads a PEM file, such as a CA file. */
  readPemFile: typeof Certificates.readPemFile;
  /** The certificates a TLS layer serves, which a reload can replace. */
  TlsCertificates: typeof Certificates.TlsCertificates;
  /** The TLS termination layer. */
  terminateTls: typeof Terminate.terminateTls;
}

let loaded: TlsModules | undefined;

/**
 * Whether any of the servers needs the TLS modules.
 *
 * @param servers Their settings.
 * @returns `true` if one terminates TLS or names a CA file for its upstreams.
 */
export function needsTls(servers: readonly EdgeFlags[]): boolean {
  return servers.some((server) => server.tls.length > 0 || server.upstreamTls?.ca !== undefined);
}

/**
 * Loads the TLS modules if the servers need them and they are not loaded yet.
 *
 * @param servers The settings of the servers about to be built.
 */
export async function loadTls(servers: readonly EdgeFlags[]): Promise<void> {
  if (loaded || !needsTls(servers)) return;
  const [certificates, terminate] = await Promise.all([
    import("../tls/certificates.ts"),
    import("../tls/terminate.ts"),
  ]);
  loaded ??= {
    readCertificateFiles: certificates.readCertificateFiles,
    readPemFile: certificates.readPemFile,
    TlsCertificates: certificates.TlsCertificates,
    terminateTls: terminate.terminateTls,
  };
}

/**
 * The TLS modules, for a stack that needs them.
 *
 * @returns The modules.
 * @throws {Error} If {@linkcode loadTls} has not loaded them: a mistake in minginx, not in a config.
 */
export function tlsModules(): TlsModules {
  if (!loaded) {
    throw new Error(
      "The TLS modules were not loaded before a stack that needs them: call loadTls()",
    );
  }
  return loaded;
}
