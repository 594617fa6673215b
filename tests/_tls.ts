/**
 * Certificates made for one test run with the `openssl` command: a CA, and a leaf certificate
 * signed by it for each name asked for. EC P-256 keys, valid for a day, in a temporary directory
 * removed on dispose. The benchmark makes its certificate here too.
 */

import { hasProgram, makeTempDir, removeTempDir } from "../bench/resources.ts";

/** A certificate and its private key, as files and as PEM text. */
export interface CertificateFiles {
  /** The certificate's file. */
  certFile: string;
  /** The private key's file (PKCS #8, unencrypted). */
  keyFile: string;
  /** The certificate, PEM. */
  cert: string;
  /** The private key, PEM. */
  key: string;
}

/** A CA and the leaf certificates it signed. */
export interface Certificates {
  /** The directory holding every file. */
  dir: string;
  /** The CA: trust its `certFile` (curl `--cacert`, `Deno.connectTls({ caCerts })`). */
  ca: CertificateFiles;
  /** One leaf per name asked for, by that name. */
  leaves: Record<string, CertificateFiles>;
}

// Extensions of the two kinds of certificate: a CA that signs, and a server (or client) leaf that
// must not be taken for a CA, which rustls, the TLS library of Deno, refuses.
const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/**
 * Why certificates cannot be made here.
 *
 * @returns `undefined` if `openssl` is on the PATH, otherwise a message that names it.
 */
export async function opensslMissing(): Promise<string | undefined> {
  return await hasProgram("openssl")
    ? undefined
    : "openssl is not installed (apt-get install openssl)";
}

/**
 * Makes a CA and, for each name, a certificate signed by it whose subject alternative name is
 * that name: `DNS:` for a host name (a wildcard such as `*.example.com` too), `IP:` for an IPv4
 * or IPv6 address. The subject's common name is the name as well, so `openssl s_client` shows it.
 *
 * @param names The names, each given once.
 * @returns The files and their PEM text; disposing of it removes the directory.
 * @throws {Error} If openssl is missing or fails; the message holds what it printed.
 */
export async function makeCertificates(
  names: string[],
): Promise<Certificates & AsyncDisposable> {
  if (new Set(names).size !== names.length) {
    throw new RangeError(`Cannot make certificates for ${JSON.stringify(names)}: a name repeats`);
  }
  const dir = await makeTempDir("minginx-certs-");
  try {
    const config = `${dir}/openssl.cnf`;
    await Deno.writeTextFile(config, CONFIG);
    const ca = await issue(dir, "ca", config, [
      "-extensions",
      "ca",
      "-subj",
      "/CN=minginx test CA",
    ]);
    const leaves = await Promise.all(names.map((name, i) =>
      issue(dir, `leaf-${i}`, config, [
        "-extensions",
        "leaf",
        "-subj",
        `/CN=${name}`,
        "-addext",
        `subjectAltName=${isIpAddress(name) ? "IP" : "DNS"}:${name}`,
        "-CA",
        ca.certFile,
        "-CAkey",
        ca.keyFile,
      ])
    ));
    return {
      dir,
      ca,
      leaves: Object.fromEntries(names.map((name, i) => [name, leaves[i]])),
      [Symbol.asyncDispose]: () => removeTempDir(dir),
    };
  } catch (error) {
    await removeTempDir(dir);
    throw error;
  }
}

// Makes a new P-256 key and a certificate for it, self-signed or signed by `-CA` in `args`.
async function issue(
  dir: string,
  stem: string,
  config: string,
  args: string[],
): Promise<CertificateFiles> {
  const certFile = `${dir}/${stem}.pem`;
  const keyFile = `${dir}/${stem}.key`;
  const { success, stderr } = await new Deno.Command("openssl", {
    args: [
      "req",
      "-x509",
      "-config",
      config,
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-noenc",
      "-days",
      "1",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      ...args,
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) {
    throw new Error(`openssl could not make ${stem}.pem:\n${new TextDecoder().decode(stderr)}`);
  }
  const [cert, key] = await Promise.all([
    Deno.readTextFile(certFile),
    Deno.readTextFile(keyFile),
  ]);
  return { certFile, keyFile, cert, key };
}

function isIpAddress(name: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(name) || name.includes(":");
}
