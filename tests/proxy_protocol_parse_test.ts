/**
 * The PROXY protocol, versions 1 and 2, against byte vectors written by hand from haproxy's spec:
 * CRC32C, parsing v1 lines and v2 headers of every family, encoding, the CRC32C TLV, and round
 * trips through encodeProxyHeader() and parseProxyHeader().
 */

import assert from "node:assert/strict";
import type { Address } from "../mod.ts";
import { encodeProxyHeader } from "../lib/proxy_protocol/encode.ts";
import { parseProxyHeader } from "../lib/proxy_protocol/parse.ts";
import { crc32c } from "../lib/proxy_protocol/_crc32c.ts";
import {
  at,
  DB8,
  hex,
  isProblem,
  join,
  LOCAL,
  proxied,
  TCP4_SPEC,
  text,
  v2,
} from "./_proxy_protocol.ts";

Deno.test("crc32c() gives the standard check value 0xe3069283 for 123456789", () => {
  assert.equal(crc32c(text("123456789")), 0xe3069283);
  assert.equal(crc32c(text("6789"), crc32c(text("12345"))), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

Deno.test("parseProxyHeader() reads v1 lines as the spec writes them, and leaves the rest", () => {
  const line = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
  assert.deepEqual(parseProxyHeader(text(`${line}GET / HTTP/1.1\r\n`)), {
    header: proxied(1, at("192.168.0.1", 56324), at("192.168.0.11", 443)),
    length: line.length,
  });
  const six = text("PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::FFFF:10.0.0.1 0 65535\r\n");
  const canonical = proxied(1, at("2001:db8::1", 0), at("::ffff:10.0.0.1", 65535));
  assert.deepEqual(parseProxyHeader(six)?.header, canonical);
  for (const unknown of ["PROXY UNKNOWN\r\n", "PROXY UNKNOWN ffff::1 \x00 anything\r\n"]) {
    assert.deepEqual(parseProxyHeader(text(unknown)), {
      header: proxied(1),
      length: unknown.length,
    });
  }
});

Deno.test("parseProxyHeader() reads hand-built v2 headers of every family", () => {
  const spec = proxied(2, at("192.168.0.1", 56324), at("192.168.0.11", 443));
  assert.deepEqual(parseProxyHeader(hex(`${TCP4_SPEC} 47`)), { header: spec, length: 28 });
  const authority = `02000b ${[...text("example.com")].map((b) => b.toString(16)).join("")}`;
  const skipped = "040002ffff e00000 20000107"; // NOOP, a custom type, SSL
  const six = proxied(2, at("2001:db8::1", 51000), at("2001:db8::80", 443), "example.com");
  assert.deepEqual(parseProxyHeader(v2("21", "21", `${DB8} ${skipped} ${authority}`))?.header, six);
  assert.deepEqual(parseProxyHeader(v2("20", "00", "")), { header: LOCAL, length: 16 });
  assert.deepEqual(parseProxyHeader(hex(TCP4_SPEC.replace(" 21 11", " 20 11")))?.header, LOCAL);
  for (const [family, block] of [["00", 0], ["12", 12], ["22", 36], ["31", 216], ["32", 216]]) {
    const header = v2("21", family as string, "07".repeat(block as number) + authority);
    assert.deepEqual(
      parseProxyHeader(header)?.header,
      proxied(2, undefined, undefined, "example.com"),
    );
  }
});

Deno.test("encodeProxyHeader() writes the bytes the spec describes", () => {
  const [source, destination] = [at("192.168.0.1", 56324), at("192.168.0.11", 443)];
  const line = new TextDecoder().decode(encodeProxyHeader(1, source, destination));
  assert.equal(line, "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
  assert.deepEqual(encodeProxyHeader(2, source, destination), hex(TCP4_SPEC));
  const six = encodeProxyHeader(2, at("2001:db8::1", 51000), at("2001:db8::80", 443), {
    authority: "é.example",
  });
  assert.deepEqual(six, v2("21", "21", `${DB8} 02 000a c3a9 2e6578616d706c65`));
});

Deno.test("v2 with a CRC32C TLV: the checksum covers the whole header and any change fails it", () => {
  const header = v2("21", "11", "7f000001 7f000002 3039 0050 030004 00000000");
  new DataView(header.buffer).setUint32(header.length - 4, crc32c(header)); // over the zeroed field
  const [source, destination] = [at("127.0.0.1", 12345), at("127.0.0.2", 80)];
  assert.deepEqual(encodeProxyHeader(2, source, destination, { crc32c: true }), header);
  assert.deepEqual(parseProxyHeader(header)?.header, proxied(2, source, destination));
  for (let i = 0; i < header.length; i++) {
    if (i === 14 || i === 15 || i === 28) continue; // the length, and the CRC32C TLV's type
    const changed = header.slice();
    changed[i] ^= 0x40;
    assert.throws(() => parseProxyHeader(changed), isProblem("malformed"));
  }
  header[header.length - 1] ^= 1;
  assert.throws(
    () => parseProxyHeader(header),
    isProblem("malformed", /^Cannot parse PROXY v2 header: CRC32C 0x\w{8} does not match the/),
  );
});

Deno.test("encodeProxyHeader() then parseProxyHeader() gives the addresses back, in both versions", () => {
  const pairs: [Address, Address, Address?, Address?][] = [
    [at("192.0.2.1", 0), at("255.255.255.255", 65535)],
    [at("2001:db8::1", 1), at("fe80::1:0:0:2", 443)],
    [at("::", 2), at("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 3)],
    [at("192.0.2.1", 51000), at("::1", 443), at("::ffff:192.0.2.1", 51000)],
    [
      at("2001:DB8:0:0:1:0:0:1", 80),
      at("10.0.0.1", 8),
      at("2001:db8::1:0:0:1", 80),
      at("::ffff:10.0.0.1", 8),
    ],
  ];
  for (const [source, destination, sourceBack = source, destinationBack = destination] of pairs) {
    for (const version of [1, 2] as const) {
      for (const authority of [undefined, "", "example.com", "ü".repeat(127)]) {
        const bytes = encodeProxyHeader(version, source, destination, { authority, crc32c: true });
        const header = proxied(
          version,
          sourceBack,
          destinationBack,
          version === 2 ? authority : undefined,
        );
        assert.deepEqual(parseProxyHeader(join(bytes, hex("010203"))), {
          header,
          length: bytes.length,
        });
      }
    }
  }
});
