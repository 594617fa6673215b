/**
 * The certificates a TLS-terminating listener presents, and which one each client gets: the one
 * whose DNS names match the server name (SNI) it asked for, else the first.
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import tls from "node:tls";
import { messageOf, withContext } from "../_util.ts";

/**
 * A certificate chain and its private key, in PEM.
 *
 * @example A pair read from files
 * ```ts
 * import type { CertificatePair } from "@minginx/minginx";
 *
 * const pair: CertificatePair = {
 *   cert: Deno.readTextFileSync("tests/fixtures/a.test.crt"),
 *   key: Deno.readTextFileSync("tests/fixtures/a.test.key"),
 *   source: "a.test.crt",
 * };
 * ```
 */
export interface CertificatePair {
  /** The certificate, then any intermediates, in PEM. */
  cert: string;
  /** Its private key, in PEM. */
  key: string;
  /** Where they came from, for messages: `"a.crt"`. */
  source?: string;
}

/**
 * Certificates for a terminating listener, ready to hand out per server name. Each certificate
 * serves the DNS names of its subjectAltName extension (or its common name if it has none),
 * wildcards included: `*.example.com` matches `a.example.com` and not `example.com` or
 * `a.b.example.com`. An exact name wins over a wildcard; among equals, the earlier certificate.
 * A client that sends no server name, or one no certificate names, gets the first certificate.
 *
 * {@linkcode TlsCertificates.prototype.replace} swaps in new certificates for the handshakes
 * that start after it, as a reload does; handshakes under way keep the ones they began with.
 *
 * @example Two certificates, chosen by name
 * ```ts
 * import { readCertificateFiles, TlsCertificates } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const certificates = new TlsCertificates(readCertificateFiles([
 *   { cert: "tests/fixtures/a.test.crt", key: "tests/fixtures/a.test.key" },
 *   { cert: "tests/fixtures/b.test.crt", key: "tests/fixtures/b.test.key" },
 * ]));
 * assert.deepEqual(certificates.names, ["a.test", "*.a.test", "b.test", "*.b.test"]);
 * assert.notEqual(certificates.select("x.b.test"), certificates.select("a.test"));
 * assert.equal(certificates.select("c.test"), certificates.select(undefined)); // the first
 * ```
 */
export class TlsCertificates {
  #set: CertificateSet;

  /**
   * Checks and loads the certificates.
   *
   * @param pairs The certificates; the first is the default.
   * @throws {TypeError} If there are none, or one cannot be loaded (bad PEM, a key that does not
   * match its certificate); the message names its `source`.
   */
  constructor(pairs: readonly CertificatePair[]) {
    this.#set = load(pairs);
  }

  /** Every name some certificate serves, in the order of the certificates. */
  get names(): readonly string[] {
    return this.#set.names;
  }

  /**
   * Puts other certificates in place of these, all at once, for handshakes from now on. If one
   * cannot be loaded, nothing changes.
   *
   * @param pairs The new certificates; the first is the default.
   * @throws {TypeError} As the constructor does.
   */
  replace(pairs: readonly CertificatePair[]): void {
    this.#set = load(pairs);
  }

  /**
   * The context for a server name: an exact match, else a wildcard, else the first certificate.
   *
   * @param serverName The name the client asked for, if any.
   * @returns The secure context to present.
   */
  select(serverName: string | undefined): tls.SecureContext {
    const set = this.#set;
    if (!serverName) return set.fallback;
    const name = serverName.toLowerCase();
    const exact = set.exact.get(name);
    if (exact) return exact;
    const dot = name.indexOf(".");
    return (dot > 0 ? set.wildcard.get(name.slice(dot + 1)) : undefined) ?? set.fallback;
  }
}

/** Loaded certificates by the names they serve. */
interface CertificateSet {
  names: string[];
  exact: Map<string, tls.SecureContext>;
  wildcard: Map<string, tls.SecureContext>;
  fallback: tls.SecureContext;
}

function load(pairs: readonly CertificatePair[]): CertificateSet {
  if (pairs.length === 0) {
    throw new TypeError("Cannot terminate TLS without a certificate: expected at least one");
  }
  const set: Omit<CertificateSet, "fallback"> = {
    names: [],
    exact: new Map(),
    wildcard: new Map(),
  };
  const contexts = pairs.map((pair, i) => {
    const where = pair.source ?? `#${i + 1}`;
    let context: tls.SecureContext;
    let served: string[];
    try {
      if (!pair.cert.includes("-----BEGIN CERTIFICATE-----")) {
        throw new Error("no certificate in it: expected PEM text with -----BEGIN CERTIFICATE-----");
      }
      const certificate = new X509Certificate(pair.cert);
      // The TLS context takes a key that does not fit, and fails each handshake: check it now.
      if (!certificate.checkPrivateKey(createPrivateKey(pair.key))) {
        throw new Error("the key does not match the certificate: expected the certificate's key");
      }
      context = tls.createSecureContext({ cert: pair.cert, key: pair.key });
      served = dnsNames(certificate);
    } catch (error) {
      throw new TypeError(`Cannot load TLS certificate ${where}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    for (const name of served) {
      const wildcard = name.startsWith("*.");
      const map = wildcard ? set.wildcard : set.exact;
      const key = wildcard ? name.slice(2) : name;
      if (!map.has(key)) map.set(key, context);
      set.names.push(name);
    }
    return context;
  });
  return { ...set, fallback: contexts[0] };
}

/**
 * Reads certificate and key files into pairs for {@linkcode TlsCertificates}.
 *
 * @param files Paths of each certificate and its key.
 * @returns The pairs, each with its certificate's path as `source`.
 * @throws {Deno.errors.NotFound} And the other errors of reading a file, with its path.
 *
 * @example Pairs for two certificates
 * ```ts
 * import { readCertificateFiles } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const pairs = readCertificateFiles([
 *   { cert: "tests/fixtures/a.test.crt", key: "tests/fixtures/a.test.key" },
 *   { cert: "tests/fixtures/b.test.crt", key: "tests/fixtures/b.test.key" },
 * ]);
 * assert.equal(pairs[1].source, '"tests/fixtures/b.test.crt"');
 * assert.match(pairs[0].key, /PRIVATE KEY/);
 * ```
 */
export function readCertificateFiles(
  files: readonly { cert: string; key: string }[],
): CertificatePair[] {
  return files.map(({ cert, key }) => ({
    cert: readPemFile(cert, "certificate"),
    key: readPemFile(key, "key"),
    source: `"${cert}"`,
  }));
}

/**
 * Reads a PEM file, with an error that names it.
 *
 * @param path The file.
 * @param what What it holds, for the message: `"certificate"`, `"key"`, `"CA file"`.
 * @returns Its text.
 * @throws {Deno.errors.NotFound} And the other errors of reading a file, as `Cannot read TLS
 * certificate "a.crt": ...`.
 *
 * @example A missing file
 * ```ts
 * import { readPemFile } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => readPemFile("tests/fixtures/missing.crt", "certificate"), Deno.errors.NotFound);
 * ```
 */
export function readPemFile(path: string, what: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (error) {
    throw withContext(error, `Cannot read TLS ${what} "${path}"`);
  }
}

function dnsNames(certificate: X509Certificate): string[] {
  const alt = certificate.subjectAltName;
  if (alt) {
    return alt.split(", ")
      .filter((entry) => entry.startsWith("DNS:"))
      .map((entry) => entry.slice(4).toLowerCase());
  }
  const common = /(?:^|\n)CN=([^\n]+)/.exec(certificate.subject)?.[1];
  return common ? [common.toLowerCase()] : [];
}
