/**
 * The flags for what happens at the edges of a connection: TLS termination, SNI routing, TLS to
 * upstreams, and the PROXY protocol both ways. They parse into plain data; {@linkcode buildStack}
 * turns them into layers.
 *
 * @module
 */

import { durationFlag, type Values } from "./_flag_values.ts";
import { parseCidr } from "../ip.ts";
import { parseUpstream } from "../pool/upstream.ts";
import type { PoolFlags } from "./pool_flags.ts";

type Upstreams = PoolFlags["upstreams"];

/** TLS to the upstreams, as the flags say. */
export interface UpstreamTlsFlags {
  /** `--upstream-tls-ca`: a PEM file of certificates to trust, besides the system's. */
  ca?: string;
  /** `--upstream-tls-name`: the name to send and verify; the upstream's host if not given. */
  serverName?: string;
  /** `--upstream-tls-alpn`. */
  alpn: string[];
}

/** What the edge flags say. Every field is plain data. */
export interface EdgeFlags {
  /** `--tls-cert` and `--tls-key`, in pairs: terminate TLS with these; none for plain TCP. */
  tls: { cert: string; key: string }[];
  /** `--tls-alpn`: protocols to agree on with clients. */
  tlsAlpn: string[];
  /** `--handshake-timeout` in milliseconds: for a PROXY header, a ClientHello, a TLS handshake. */
  handshakeTimeout: number;
  /** `--upstream-tls` and its options, if TLS is spoken to upstreams. */
  upstreamTls?: UpstreamTlsFlags;
  /** `--sni NAME=UPSTREAM`, grouped by name: route TLS by server name, without terminating it. */
  sni: { name: string; upstreams: Upstreams }[];
  /** `--sni-fallback`: where bytes that are not TLS go, when routing by SNI. */
  sniFallback?: Upstreams;
  /** `--send-proxy`: the PROXY protocol version to send upstreams. */
  sendProxy?: 1 | 2;
  /** `--accept-proxy`: CIDR blocks whose PROXY headers are believed; none to read no header. */
  acceptProxy: string[];
}

/** The edge flags' defaults. */
export const EDGE_DEFAULTS = { handshakeTimeout: 10_000 } as const;

/** The parseArgs options for these flags. */
export const EDGE_FLAGS = {
  "tls-cert": { type: "string", multiple: true },
  "tls-key": { type: "string", multiple: true },
  "tls-alpn": { type: "string" },
  "handshake-timeout": { type: "string" },
  "upstream-tls": { type: "boolean" },
  "upstream-tls-ca": { type: "string" },
  "upstream-tls-name": { type: "string" },
  "upstream-tls-alpn": { type: "string" },
  sni: { type: "string", multiple: true },
  "sni-fallback": { type: "string", multiple: true },
  "send-proxy": { type: "string" },
  "accept-proxy": { type: "string", multiple: true },
} as const;

/**
 * Reads the edge flags from parseArgs' values.
 *
 * @param values What parseArgs returned as `values`.
 * @returns The edge flags, with defaults filled in.
 * @throws {TypeError} For a malformed value, or flags that do not go together; the CLI reports it
 * as a usage error.
 */
export function parseEdgeFlags(values: Values): EdgeFlags {
  const list = (name: string) => (values[name] as string[] | undefined) ?? [];
  const text = (name: string) => values[name] as string | undefined;
  const certs = list("tls-cert");
  const keys = list("tls-key");
  if (certs.length !== keys.length) {
    throw new TypeError(
      `Cannot pair ${certs.length} --tls-cert with ${keys.length} --tls-key: ` +
        "expected one --tls-key after each --tls-cert",
    );
  }
  const upstreamTlsOptions = ["upstream-tls-ca", "upstream-tls-name", "upstream-tls-alpn"];
  const orphan = upstreamTlsOptions.find((name) => text(name) !== undefined);
  if (orphan && !values["upstream-tls"]) {
    throw new TypeError(`Option --${orphan} needs --upstream-tls: add it, or drop it`);
  }
  const alpnOrphan = text("tls-alpn") !== undefined && certs.length === 0;
  if (alpnOrphan) throw new TypeError("Option --tls-alpn needs --tls-cert: add it, or drop it");
  const handshakeTimeout = durationFlag(
    values,
    "handshake-timeout",
    EDGE_DEFAULTS.handshakeTimeout,
  );
  const fallback = list("sni-fallback");
  if (fallback.length > 0 && list("sni").length === 0) {
    throw new TypeError("Option --sni-fallback needs --sni: add it, or drop it");
  }
  const flags: EdgeFlags = {
    tls: certs.map((cert, i) => ({ cert, key: keys[i] })),
    tlsAlpn: alpnList(text("tls-alpn"), "--tls-alpn"),
    handshakeTimeout,
    sni: sniRoutes(list("sni")),
    acceptProxy: list("accept-proxy").map((cidr) => parseCidr(cidr, "--accept-proxy").text),
  };
  // What is not asked for is left out, as a config file leaves it out.
  if (values["upstream-tls"]) {
    const upstreamTls: UpstreamTlsFlags = {
      alpn: alpnList(text("upstream-tls-alpn"), "--upstream-tls-alpn"),
    };
    const ca = text("upstream-tls-ca");
    if (ca !== undefined) upstreamTls.ca = ca;
    const serverName = text("upstream-tls-name");
    if (serverName !== undefined) upstreamTls.serverName = serverName;
    flags.upstreamTls = upstreamTls;
  }
  if (fallback.length) {
    flags.sniFallback = fallback.map((item) => parseUpstream(item, "--sni-fallback"));
  }
  const sendProxy = proxyVersion(text("send-proxy"));
  if (sendProxy) flags.sendProxy = sendProxy;
  return flags;
}

/**
 * Reads an ALPN list: protocol names separated by commas, such as `h2,http/1.1`.
 *
 * @param text The list, if given.
 * @param label What it is, for the message.
 * @returns The names; none if not given.
 * @throws {TypeError} For an empty name, one longer than 255 bytes, or one with a space.
 */
export function alpnList(text: string | undefined, label: string): string[] {
  if (text === undefined) return [];
  const names = text.split(",");
  if (!names.every(isAlpnName)) {
    throw new TypeError(
      `Cannot parse ${label} "${text}": expected protocol names separated by commas, such as h2,http/1.1`,
    );
  }
  return names;
}

/**
 * Whether a text can be an ALPN protocol name here: 1 to 255 printable ASCII characters, no
 * space, no comma (which separates names on the command line).
 *
 * @param name The name.
 * @returns Whether it can.
 */
export function isAlpnName(name: string): boolean {
  return /^[\x21-\x2b\x2d-\x7e]{1,255}$/.test(name);
}

function sniRoutes(items: string[]): EdgeFlags["sni"] {
  const routes: EdgeFlags["sni"] = [];
  for (const item of items) {
    const equals = item.indexOf("=");
    const name = item.slice(0, equals).toLowerCase();
    if (equals < 0 || !isRouteName(name)) {
      throw new TypeError(
        `Cannot parse --sni "${item}": expected NAME=HOST:PORT, with NAME such as a.example.com ` +
          "or *.example.com",
      );
    }
    const upstream = parseUpstream(item.slice(equals + 1), "--sni");
    const route = routes.find((route) => route.name === name);
    if (route) route.upstreams.push(upstream);
    else routes.push({ name, upstreams: [upstream] });
  }
  return routes;
}

/**
 * Whether a name can be an SNI route: a DNS name, or `*.` and a DNS name.
 *
 * @param name The name, in lower case.
 * @returns Whether it can.
 */
export function isRouteName(name: string): boolean {
  const bare = name.startsWith("*.") ? name.slice(2) : name;
  return bare.length <= 253 &&
    bare.split(".").every((label) => /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/.test(label));
}

function proxyVersion(text: string | undefined): 1 | 2 | undefined {
  if (text === undefined) return undefined;
  if (text === "v1" || text === "1") return 1;
  if (text === "v2" || text === "2") return 2;
  throw new TypeError(`Cannot parse --send-proxy "${text}": expected v1 or v2`);
}
