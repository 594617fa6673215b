/**
 * The edge's part of a server in a config file: TLS termination, SNI routing, TLS to upstreams
 * and the PROXY protocol, read as the command line's edge flags read them.
 *
 * @module
 */

import { EDGE_DEFAULTS, type EdgeFlags, isAlpnName, isRouteName } from "../cli/edge_flags.ts";
import { parseCidr } from "../ip.ts";
import { type Checker, join, type Json } from "./_fields.ts";
import { upstreamsOf } from "./_pool_fields.ts";

const CIDR = 'a CIDR such as "10.0.0.0/8" or "::1"';
const ALPN = 'protocol names such as ["h2", "http/1.1"]';
const ROUTE = 'a server name such as "a.example.com" or "*.example.com"';

/**
 * Reads a server's edge fields, with the edge flags' defaults.
 *
 * @param c Where mistakes go.
 * @param server The server.
 * @param path The server's path.
 * @returns What the edge flags would say.
 */
export function edgeOf(c: Checker, server: Json, path: string): EdgeFlags {
  const read = c.reader(server, path);
  const tls = read("tls", (v, p) => tlsOf(c, v, p), { certificates: [], alpn: [] });
  const sni = read("sni", (v, p) => sniOf(c, v, p), []);
  const sniFallback = read("sniFallback", (v, p) => upstreamsOf(c, v, p), undefined);
  if (sniFallback && sni.length === 0) {
    c.add(join(path, "sniFallback"), 'needs "sni": add it, or drop this');
  }
  const sendProxy = read("sendProxy", c.oneOf(["v1", "v2"] as const), undefined);
  const upstreamTls = read("upstreamTls", (v, p) => upstreamTlsOf(c, v, p), undefined);
  const flags: EdgeFlags = {
    tls: tls.certificates,
    tlsAlpn: tls.alpn,
    handshakeTimeout: read("handshakeTimeout", c.duration(1), EDGE_DEFAULTS.handshakeTimeout),
    sni,
    acceptProxy: read("acceptProxy", (v, p) => cidrsOf(c, v, p), []),
  };
  // What the server does not ask for is left out, as the flags leave it out.
  if (upstreamTls) flags.upstreamTls = upstreamTls;
  if (sniFallback) flags.sniFallback = sniFallback;
  if (sendProxy) flags.sendProxy = sendProxy === "v1" ? 1 : 2;
  return flags;
}

function tlsOf(c: Checker, value: unknown, path: string) {
  const read = c.reader(c.object("servers[].tls")(value, path) ?? {}, path);
  const pair = c.object("servers[].tls.certificates[]");
  const certificates: EdgeFlags["tls"] = [];
  const list = read("certificates", c.list("certificate"), []);
  for (const [i, item] of list.entries()) {
    const itemPath = join(join(path, "certificates"), i);
    const readPair = c.reader(pair(item, itemPath) ?? {}, itemPath);
    const cert = readPair("cert", c.string("a PEM file path"), undefined);
    const key = readPair("key", c.string("a PEM file path"), undefined);
    if (cert && key) certificates.push({ cert, key });
  }
  return { certificates, alpn: read("alpn", (v, p) => alpnOf(c, v, p), []) };
}

function upstreamTlsOf(c: Checker, value: unknown, path: string): EdgeFlags["upstreamTls"] {
  if (value === true) return { alpn: [] };
  const read = c.reader(
    c.object("servers[].upstreamTls", "true or an object")(value, path) ?? {},
    path,
  );
  return {
    ca: read("ca", c.string("a PEM file path"), undefined),
    serverName: read("serverName", c.string("a server name"), undefined),
    alpn: read("alpn", (v, p) => alpnOf(c, v, p), []),
  };
}

function alpnOf(c: Checker, value: unknown, path: string): string[] | undefined {
  const names = c.list("protocol name")(value, path);
  if (names === undefined) return undefined;
  const valid = names.every((name) => typeof name === "string" && isAlpnName(name));
  return valid ? names as string[] : c.expected(path, ALPN, value);
}

function sniOf(c: Checker, value: unknown, path: string): EdgeFlags["sni"] | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return c.expected(path, `an object of ${ROUTE} to upstreams`, value);
  }
  const routes: EdgeFlags["sni"] = [];
  for (const [name, upstreams] of Object.entries(value)) {
    const routePath = join(path, name);
    if (!isRouteName(name.toLowerCase())) {
      c.add(routePath, `"${name}" is not valid: expected ${ROUTE}`);
      continue;
    }
    routes.push({ name: name.toLowerCase(), upstreams: upstreamsOf(c, upstreams, routePath) });
  }
  return routes;
}

/**
 * Reads a list of CIDR blocks, as `--accept-proxy` reads each.
 *
 * @param c Where mistakes go.
 * @param value The list.
 * @param path Its path.
 * @returns The blocks that are right, as text.
 */
export function cidrsOf(c: Checker, value: unknown, path: string): string[] {
  const cidr = c.parsed(parseCidr, CIDR);
  return (c.list("CIDR", true)(value, path) ?? []).flatMap((item, i) => {
    const block = cidr(item, join(path, i));
    return block ? [block.text] : [];
  });
}
