/**
 * The PROXY protocol's strict rejection: what encodeProxyHeader() cannot write, bad v1 lines and v2
 * headers each named by their fault, the v1 line's 107-byte limit, and undefined, not an error,
 * for every prefix of a valid header.
 */

import assert from "node:assert/strict";
import { encodeProxyHeader } from "../lib/proxy_protocol/encode.ts";
import { parseProxyHeader } from "../lib/proxy_protocol/parse.ts";
import { at, hex, isProblem, SIG, text, v2 } from "./_proxy_protocol.ts";

Deno.test("encodeProxyHeader() rejects what a header cannot carry", () => {
  const ok = at("192.0.2.1", 80);
  assert.throws(() => encodeProxyHeader(1, at("example.com", 80), ok), {
    name: "TypeError",
    message: 'Cannot encode PROXY v1 header: source "example.com" is not an IP address, ' +
      "expected an IPv4 or IPv6 address without brackets or zone",
  });
  assert.throws(() => encodeProxyHeader(2, ok, at("fe80::1%eth0", 80)), TypeError);
  assert.throws(() => encodeProxyHeader(2, ok, at("[::1]", 80)), TypeError);
  assert.throws(() => encodeProxyHeader(2, ok, at("10.0.0.1", 65536)), {
    name: "RangeError",
    message: "Cannot encode PROXY v2 header: destination port 65536, expected a whole number " +
      "from 0 to 65535",
  });
  assert.throws(() => encodeProxyHeader(1, at("10.0.0.1", 1.5), ok), RangeError);
  assert.throws(() => encodeProxyHeader(3 as 2, ok, ok), {
    name: "RangeError",
    message: "Cannot encode PROXY header of version 3: expected 1 or 2",
  });
  assert.equal(encodeProxyHeader(2, ok, ok, { authority: "a".repeat(255) }).length, 16 + 12 + 258);
  assert.throws(() => encodeProxyHeader(2, ok, ok, { authority: "é".repeat(128) }), {
    name: "RangeError",
    message: "Cannot encode PROXY v2 header: authority of 256 bytes, expected at most 255",
  });
});

Deno.test("parseProxyHeader() rejects bad v1 lines, quoting them, at the first byte that shows it", () => {
  const start = 'expected "PROXY " (version 1) or "\\r\\n\\r\\n\\x00\\r\\nQUIT\\n" (version 2)';
  const form = "expected PROXY TCP4|TCP6|UNKNOWN SRC DST SPORT DPORT";
  const v4 = (field: string) =>
    `expected ${field} to be an IPv4 address, such as 192.0.2.1, for TCP4`;
  const v6 = "expected SRC to be an IPv6 address, such as 2001:db8::1, for TCP6";
  const port = (field: string) =>
    `expected ${field} to be a port from 0 to 65535 without leading zeros`;
  const cases: [string, string][] = [
    ["G", start],
    ["PROXY\t", start],
    ["PROXY TCP5", form],
    ["PROXY TCP4  ", v4("SRC")],
    ["PROXY TCP4 1.2.3.04", v4("SRC")],
    ["PROXY TCP4 1.2.3.4 ::1", v4("DST")],
    ["PROXY TCP6 1.2.3.4 ", v6],
    ["PROXY TCP6 ::1%lo", v6],
    ["PROXY TCP6 1::2::3 ", v6],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 080", port("SPORT")],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 80 65536", port("DPORT")],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 80 443 ", form],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 80\r\n", form],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 80 443\n", "expected the line to end in CRLF, not LF"],
    ["PROXY UNKNOWN\rx", "expected the line to end in CRLF, not CR alone"],
    ["PROXY UNKNOWNS", form],
  ];
  for (const [input, detail] of cases) {
    const quoted = JSON.stringify(input).replace("\\u0000", "\\x00");
    const message = `Cannot parse PROXY header ${quoted}: ${detail}`;
    assert.throws(() => parseProxyHeader(text(input)), isProblem("malformed", message));
  }
  const garbage = text(`GET /${"x".repeat(100)}\x01`);
  const cut = new RegExp(`^Cannot parse PROXY header "GET /${"x".repeat(55)}…": expected`);
  assert.throws(() => parseProxyHeader(garbage), isProblem("malformed", cut));
});

Deno.test("parseProxyHeader() wants a v1 line within 107 bytes", () => {
  const longest = text(`PROXY UNKNOWN ${"x".repeat(91)}\r\n`);
  assert.equal(parseProxyHeader(longest)?.length, 107);
  const over = text(`PROXY UNKNOWN ${"x".repeat(92)}\r\n`);
  assert.throws(() => parseProxyHeader(over), isProblem("too_large"));
  const endless = text(`PROXY UNKNOWN ${"x".repeat(93)}`);
  const message = /expected a line ending in CRLF within 107 bytes$/;
  assert.throws(() => parseProxyHeader(endless), isProblem("too_large", message));
});

Deno.test("parseProxyHeader() rejects bad v2 headers, naming the fault", () => {
  const cases: [Uint8Array, string][] = [
    [hex(`${SIG} 11`), "version and command byte 0x11, expected 0x20 (LOCAL) or 0x21 (PROXY)"],
    [hex(`${SIG} 22`), "version and command byte 0x22, expected 0x20 (LOCAL) or 0x21 (PROXY)"],
    [
      hex(`${SIG} 21 13`),
      "family and transport byte 0x13, expected 0x00, 0x11, 0x12, 0x21, 0x22, 0x31 or 0x32",
    ],
    [hex(`${SIG} 21 11 0004`), "address block of 12 bytes does not fit in length 4"],
    [
      v2("21", "00", "0400"),
      "TLV at offset 16 has 2 of its 3 type and length bytes, expected TLVs that exactly fill " +
      "length 2",
    ],
    [
      v2("21", "00", "040002 09"),
      "TLV of type 0x04 at offset 16 runs 1 bytes past the end, expected TLVs that exactly fill " +
      "length 4",
    ],
    [v2("20", "00", "030001 09"), "CRC32C TLV of 1 bytes, expected 4"],
    [v2("21", "00", "020000 020000"), "a second AUTHORITY TLV, expected at most one"],
    [v2("21", "00", "020001 c3"), "AUTHORITY TLV that is not UTF-8, expected a UTF-8 host name"],
  ];
  for (const [bytes, detail] of cases) {
    const message = `Cannot parse PROXY v2 header: ${detail}`;
    assert.throws(() => parseProxyHeader(bytes), isProblem("malformed", message));
  }
  assert.throws(() => parseProxyHeader(hex("0d0a0d0d")), isProblem("malformed"));
});

Deno.test("parseProxyHeader() returns undefined for every prefix of a valid header", () => {
  const headers = [
    text("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ::ffff:255.255.255.255 65535 0\r\n"),
    text(`PROXY UNKNOWN ${"\x7f".repeat(91)}\r\n`),
    encodeProxyHeader(2, at("::1", 1), at("10.0.0.1", 2), { authority: "a.b", crc32c: true }),
    v2("21", "31", "00".repeat(216)),
  ];
  for (const header of headers) {
    for (let i = 0; i < header.length; i++) {
      assert.equal(parseProxyHeader(header.subarray(0, i)), undefined);
    }
    assert.equal(parseProxyHeader(header)?.length, header.length);
  }
});
