/**
 * What the PROXY protocol tests share: bytes from text and hex, v2 headers put together by hand,
 * the headers they must parse to, a source that hands out bytes in chunks, and a check on the
 * ProxyHeaderError a header is rejected with.
 */

import assert from "node:assert/strict";
import type { Address } from "../mod.ts";
import { type ProxyHeader, ProxyHeaderError } from "../lib/proxy_protocol/header.ts";

/** `value` as UTF-8 bytes. */
export const text = (value: string) => new TextEncoder().encode(value);
/** Bytes written in hex, spaces allowed. */
export const hex = (digits: string) =>
  Uint8Array.from(digits.replace(/\s/g, "").match(/../g) ?? [], (pair) => parseInt(pair, 16));
/** `parts` one after another. */
export const join = (...parts: Uint8Array[]) => {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((offset, part) => (bytes.set(part, offset), offset + part.length), 0);
  return bytes;
};
/** The v2 signature, in hex. */
export const SIG = "0d0a0d0a000d0a515549540a";
/** A v2 header: signature, version and command, family, then the length of `body` and `body`. */
export const v2 = (verCmd: string, family: string, body: string | Uint8Array) => {
  const bytes = typeof body === "string" ? hex(body) : body;
  return join(hex(SIG + verCmd + family), Uint8Array.of(bytes.length >> 8, bytes.length), bytes);
};
/** The spec's example v2 header, in hex: 192.168.0.1:56324 -> 192.168.0.11:443. */
export const TCP4_SPEC = `${SIG} 21 11 000c c0a80001 c0a8000b dc04 01bb`;
/** A TCP6 address block, in hex: [2001:db8::1]:51000 -> [2001:db8::80]:443. */
export const DB8 = "20010db8000000000000000000000001 20010db8000000000000000000000080 c738 01bb";
/** An address. */
export const at = (hostname: string, port: number): Address => ({ hostname, port });
/** A PROXY header with the command PROXY. */
export const proxied = (
  version: 1 | 2,
  source?: Address,
  destination?: Address,
  authority?: string,
) => ({ version, command: "proxy", source, destination, authority }) as ProxyHeader;
/** A v2 LOCAL header. */
export const LOCAL: ProxyHeader = { ...proxied(2), command: "local" };

/** Hands out `sent`, at most `chunk` bytes a read, counting what it handed out. */
export function sender(sent: Uint8Array, chunk = Infinity) {
  const source = {
    handed: 0,
    asked: [] as number[],
    read(buffer: Uint8Array): Promise<number | null> {
      source.asked.push(buffer.length);
      if (source.handed === sent.length) return Promise.resolve(null);
      const n = Math.min(chunk, buffer.length, sent.length - source.handed);
      buffer.set(sent.subarray(source.handed, source.handed + n));
      source.handed += n;
      return Promise.resolve(n);
    },
  };
  return source;
}

/** For assert.throws and assert.rejects: a ProxyHeaderError of `problem`, saying `message`. */
export function isProblem(problem: string, message?: string | RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ProxyHeaderError, String(error));
    assert.equal(error.problem, problem, error.message);
    if (typeof message === "string") assert.equal(error.message, message);
    if (message instanceof RegExp) assert.match(error.message, message);
    return true;
  };
}
