/**
 * What the PROXY protocol fuzz tests feed parseProxyHeader() and readProxyHeader(): valid headers
 * built here from the spec (v1 TCP4, TCP6 and UNKNOWN lines; v2 headers of every family and
 * command, with TLVs and sometimes a CRC32C; headers from encodeProxyHeader()) with what they must
 * parse to; the same with one mutation; and random bytes, some after the start of either version.
 */

import fc from "fast-check";
import type { Address } from "../../lib/address.ts";
import { encodeProxyHeader } from "../../lib/proxy_protocol/encode.ts";
import type { ProxyHeader } from "../../lib/proxy_protocol/header.ts";
import { crc32c } from "../../lib/proxy_protocol/_crc32c.ts";
import { canonicalIp, ipv4, ipv6 } from "./_arbitraries.ts";

/** A header as bytes, and what it must parse to: a header, or too_large for a v1 line too long. */
export interface Valid {
  bytes: Uint8Array;
  expected: ProxyHeader | "too_large";
}

const SIG = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);
const BLOCK: Record<number, number> = {
  0x00: 0,
  0x11: 12,
  0x12: 12,
  0x21: 36,
  0x22: 36,
  0x31: 216,
  0x32: 216,
};
const text = (value: string) => new TextEncoder().encode(value);
/** `parts` one after another. */
export const join = (...parts: Uint8Array[]) => {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((offset, part) => (bytes.set(part, offset), offset + part.length), 0);
  return bytes;
};
const u16 = (value: number) => Uint8Array.of(value >> 8, value & 0xff);
const port = fc.integer({ min: 0, max: 65535 });
/** Both ends of a connection, in both families: a4/b4, a6/b6 and the ports sp/dp. */
const ENDPOINTS = { a4: ipv4, b4: ipv4, a6: ipv6, b6: ipv6, sp: port, dp: port };
/** Bytes to follow a header. */
export const tail = fc.uint8Array({ maxLength: 24 });
const header = (
  version: 1 | 2,
  command: "proxy" | "local",
  source?: Address,
  destination?: Address,
  authority?: string,
): ProxyHeader => ({ version, command, source, destination, authority });

/** How a header writes an address that came as bytes: a mapped one as `::ffff:a.b.c.d`. */
function hostOf(bytes: Uint8Array): string {
  if (bytes.length === 4) return bytes.join(".");
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff &&
    bytes[11] === 0xff;
  return mapped ? `::ffff:${bytes.subarray(12).join(".")}` : canonicalIp(bytes);
}

/** A v1 TCP4 or TCP6 line, with IPv6 written any way the spec allows. */
const v1Tcp = fc.record({
  six: fc.boolean(),
  ...ENDPOINTS,
})
  .map(({ six, a4, b4, a6, b6, sp, dp }): Valid => {
    const [a, b] = six ? [a6, b6] : [a4, b4];
    const line = text(`PROXY TCP${six ? 6 : 4} ${a.text} ${b.text} ${sp} ${dp}\r\n`);
    const expected = header(1, "proxy", { hostname: hostOf(a.bytes), port: sp }, {
      hostname: hostOf(b.bytes),
      port: dp,
    });
    return { bytes: line, expected: line.length > 107 ? "too_large" : expected };
  });

/** A v1 UNKNOWN line, with anything but CR and LF after it. */
const v1Unknown = fc.option(
  fc.oneof(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ minLength: 85, maxLength: 100 })),
).map((rest): Valid => {
  const junk = rest?.map((b) => (b === 0x0d || b === 0x0a ? 0x20 : b));
  const line = join(
    text("PROXY UNKNOWN"),
    junk ? join(text(" "), junk) : new Uint8Array(0),
    text("\r\n"),
  );
  return { bytes: line, expected: line.length > 107 ? "too_large" : header(1, "proxy") };
});

/** A TLV: AUTHORITY (any text), NOOP, or a type the parser skips. */
const tlv = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }).map((name) => ({
    type: 0x02,
    value: text(name),
    name,
  })),
  fc.uint8Array({ maxLength: 20 }).map((value) => ({ type: 0x04, value, name: undefined })),
  fc.tuple(
    fc.constantFrom(0x00, 0x01, 0x05, 0x20, 0x30, 0xe0, 0xf7, 0xff),
    fc.uint8Array({ maxLength: 40 }),
  )
    .map(([type, value]) => ({ type, value, name: undefined })),
);

/** A v2 header of any command and family, with TLVs, sometimes a CRC32C among them. */
const v2Any = fc.record({
  local: fc.boolean(),
  family: fc.constantFrom(...Object.keys(BLOCK).map(Number)),
  ...ENDPOINTS,
  filler: fc.uint8Array({ minLength: 216, maxLength: 216 }),
  tlvs: fc.array(tlv, { maxLength: 4 }),
  crcAt: fc.option(fc.nat(4)),
}).map(({ local, family, a4, b4, a6, b6, sp, dp, filler, tlvs, crcAt }): Valid => {
  const named = tlvs.findIndex((t) => t.type === 0x02);
  const kept = tlvs.filter((t, i) => t.type !== 0x02 || i === named); // one AUTHORITY at most
  const parts = kept.map(({ type, value }) => join(Uint8Array.of(type), u16(value.length), value));
  const crcIndex = crcAt === null ? -1 : crcAt % (parts.length + 1);
  if (crcIndex >= 0) parts.splice(crcIndex, 0, Uint8Array.of(3, 0, 4, 0, 0, 0, 0));
  const [a, b] = family >> 4 === 1 ? [a4.bytes, b4.bytes] : [a6.bytes, b6.bytes];
  const inet = family >> 4 === 1 || family >> 4 === 2;
  const block = inet ? join(a, b, u16(sp), u16(dp)) : filler.subarray(0, BLOCK[family]);
  const body = join(block, ...parts);
  const bytes = join(SIG, Uint8Array.of(local ? 0x20 : 0x21, family), u16(body.length), body);
  if (crcIndex >= 0) {
    const before = parts.slice(0, crcIndex).reduce((sum, part) => sum + part.length, 0);
    new DataView(bytes.buffer).setUint32(16 + block.length + before + 3, crc32c(bytes));
  }
  const tcp = !local && (family === 0x11 || family === 0x21);
  const address = (
    ip: Uint8Array,
    p: number,
  ) => (tcp ? { hostname: hostOf(ip), port: p } : undefined);
  const authority = named < 0 ? undefined : tlvs[named].name;
  return {
    bytes,
    expected: header(2, local ? "local" : "proxy", address(a, sp), address(b, dp), authority),
  };
});

/** A header from encodeProxyHeader(), IPv4 and IPv6 mixed as they come. */
const encoded = fc.record({
  version: fc.constantFrom<1 | 2>(1, 2),
  a: fc.oneof(ipv4, ipv6),
  b: fc.oneof(ipv4, ipv6),
  sp: port,
  dp: port,
  authority: fc.option(fc.string({ unit: "binary", maxLength: 60 }), { nil: undefined }),
  crc32c: fc.boolean(),
}).map(({ version, a, b, sp, dp, authority, crc32c }): Valid => {
  const v4 = a.bytes.length === 4 && b.bytes.length === 4;
  const host = (ip: Uint8Array) => (v4 || ip.length === 16 ? hostOf(ip) : `::ffff:${ip.join(".")}`);
  const bytes = encodeProxyHeader(version, { hostname: a.text, port: sp }, {
    hostname: b.text,
    port: dp,
  }, { authority, crc32c });
  const expected = header(version, "proxy", { hostname: host(a.bytes), port: sp }, {
    hostname: host(b.bytes),
    port: dp,
  }, version === 2 ? authority : undefined);
  return { bytes, expected };
});

/** A valid header of any kind, with what it must parse to. */
export const valid = fc.oneof(v1Tcp, v1Unknown, v2Any, encoded);

const MUTATIONS = ["flip", "insert", "delete", "replace", "truncate", "duplicate", "swap"] as const;

/** A valid header with one mutation. */
export const mutated = fc.tuple(
  valid,
  fc.constantFrom(...MUTATIONS),
  fc.nat(),
  fc.nat(),
  fc.nat(255),
)
  .map(([{ bytes }, mutation, x, y, byte]) => {
    const i = x % (bytes.length + 1);
    const j = y % (bytes.length + 1);
    const [head, rest] = [bytes.subarray(0, i), bytes.subarray(i)];
    switch (mutation) {
      case "flip":
        return i < bytes.length
          ? bytes.map((b, k) => (k === i ? b ^ (1 << (byte & 7)) : b))
          : bytes;
      case "insert":
        return join(head, Uint8Array.of(byte), rest);
      case "delete":
        return join(head, rest.subarray(1));
      case "replace":
        return join(head, Uint8Array.of(byte), rest.subarray(1));
      case "truncate":
        return head;
      case "duplicate":
        return join(bytes.subarray(0, Math.max(i, j)), bytes.subarray(Math.min(i, j)));
      case "swap":
        return join(rest, head);
    }
  });

const SOUP = text("PROXY TCP46UNKOW0123456789abcdefABCDEF.:% \r\n");
/** Random bytes: any, or after the start of either version. */
export const noise = fc.oneof(
  fc.uint8Array({ maxLength: 120 }),
  fc.array(fc.constantFrom(...SOUP), { maxLength: 110 }).map((soup) =>
    join(text("PROXY "), Uint8Array.from(soup))
  ),
  fc.uint8Array({ maxLength: 80 }).map((rest) => join(SIG, rest)),
  fc.tuple(
    fc.constantFrom(0x20, 0x21),
    fc.constantFrom(...Object.keys(BLOCK).map(Number)),
    fc.uint8Array({ maxLength: 80 }),
  )
    .map(([command, family, rest]) =>
      join(SIG, Uint8Array.of(command, family, 0, rest.length), rest)
    ),
);
