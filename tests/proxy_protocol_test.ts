/**
 * The PROXY protocol, versions 1 and 2: byte vectors written by hand from haproxy's spec, round
 * trips, strict rejection, reading from a connection a byte at a time, and haproxy as a real peer.
 */

import assert from "node:assert/strict";
import type { Address, Source } from "../mod.ts";
import { encodeProxyHeader } from "../lib/proxy_protocol/encode.ts";
import { type ProxyHeader, ProxyHeaderError } from "../lib/proxy_protocol/header.ts";
import { parseProxyHeader } from "../lib/proxy_protocol/parse.ts";
import { MAX_PROXY_HEADER, readProxyHeader } from "../lib/proxy_protocol/read.ts";
import { crc32c } from "../lib/proxy_protocol/_crc32c.ts";
import { freePort } from "./_cli.ts";
import { within } from "./_helpers.ts";

const text = (value: string) => new TextEncoder().encode(value);
/** Bytes written in hex, spaces allowed. */
const hex = (digits: string) =>
  Uint8Array.from(digits.replace(/\s/g, "").match(/../g) ?? [], (pair) => parseInt(pair, 16));
const join = (...parts: Uint8Array[]) => {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  parts.reduce((offset, part) => (bytes.set(part, offset), offset + part.length), 0);
  return bytes;
};
const SIG = "0d0a0d0a000d0a515549540a";
/** A v2 header: signature, version and command, family, then the length of `body` and `body`. */
const v2 = (verCmd: string, family: string, body: string | Uint8Array) => {
  const bytes = typeof body === "string" ? hex(body) : body;
  return join(hex(SIG + verCmd + family), Uint8Array.of(bytes.length >> 8, bytes.length), bytes);
};
const TCP4_SPEC = `${SIG} 21 11 000c c0a80001 c0a8000b dc04 01bb`; // 192.168.0.1:56324 -> .11:443
const DB8 = "20010db8000000000000000000000001 20010db8000000000000000000000080 c738 01bb";
const at = (hostname: string, port: number): Address => ({ hostname, port });
const proxied = (version: 1 | 2, source?: Address, destination?: Address, authority?: string) =>
  ({ version, command: "proxy", source, destination, authority }) as ProxyHeader;
const LOCAL: ProxyHeader = { ...proxied(2), command: "local" };

/** Hands out `sent`, at most `chunk` bytes a read, counting what it handed out. */
function sender(sent: Uint8Array, chunk = Infinity) {
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

function isProblem(problem: string, message?: string | RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof ProxyHeaderError, String(error));
    assert.equal(error.problem, problem, error.message);
    if (typeof message === "string") assert.equal(error.message, message);
    if (message instanceof RegExp) assert.match(error.message, message);
    return true;
  };
}

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

Deno.test("readProxyHeader() reads a header sent a byte at a time, and no further", async () => {
  const v1 = encodeProxyHeader(1, at("::1", 1), at("::2", 2));
  const v2 = encodeProxyHeader(2, at("10.0.0.1", 1), at("10.0.0.2", 2), { crc32c: true });
  for (const header of [v1, v2]) {
    const source = sender(join(header, text("client bytes")), 1);
    const read = await readProxyHeader(source);
    assert.deepEqual(read, { header: parseProxyHeader(header)?.header, rest: new Uint8Array(0) });
    assert.equal(source.handed, header.length);
  }
});

Deno.test("readProxyHeader() returns the client's bytes that came with the header as rest", async () => {
  const data = text("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  const v1 = encodeProxyHeader(1, at("10.0.0.1", 1), at("10.0.0.2", 2));
  const v2 = encodeProxyHeader(2, at("::1", 1), at("::2", 2));
  for (const header of [v1, v2]) {
    for (const chunk of [Infinity, 107, 10, 3]) {
      const source = sender(join(header, data), chunk);
      const { header: got, rest } = await readProxyHeader(source);
      assert.deepEqual(got, parseProxyHeader(header)?.header);
      assert.deepEqual(rest, data.subarray(0, source.handed - header.length));
      assert.ok(source.asked.every((size) => size <= 107), `asked for ${source.asked}`);
    }
  }
  // Once the v2 length is known no read goes past the header: with 16-byte reads, none at all.
  const big = encodeProxyHeader(2, at("::1", 1), at("::2", 2), { authority: "x".repeat(200) });
  const source = sender(join(big, data), 16);
  assert.deepEqual((await readProxyHeader(source)).rest, new Uint8Array(0));
  assert.equal(source.handed, big.length);
});

Deno.test("readProxyHeader() fails truncated headers, garbage and oversize headers early", async () => {
  const header = encodeProxyHeader(2, at("::1", 1), at("::2", 2), { authority: "example.com" });
  const line = text("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n");
  for (const whole of [header, line]) {
    for (let i = 0; i < whole.length; i++) {
      const ended = new RegExp(`ended after ${i} bytes, expected the rest of the header$`);
      await assert.rejects(
        readProxyHeader(sender(whole.subarray(0, i), 7)),
        isProblem("truncated", ended),
      );
    }
  }
  const garbage = sender(text("SSH-2.0-OpenSSH_9.2p1\r\n"), 1);
  await assert.rejects(
    readProxyHeader(garbage),
    isProblem("malformed", /^Cannot parse PROXY header "S": /),
  );
  assert.equal(garbage.handed, 1);
  const huge = new Uint8Array(MAX_PROXY_HEADER);
  huge.set(hex(`${SIG} 21 00 ffff 04 fffc`)); // a NOOP TLV fills the largest length there is
  assert.deepEqual((await readProxyHeader(sender(huge))).header, proxied(2));
  const tooBig = sender(huge, 1);
  const message = "Cannot read PROXY v2 header of 65551 bytes: expected at most 1000";
  await assert.rejects(readProxyHeader(tooBig, 1000), isProblem("too_large", message));
  assert.equal(tooBig.handed, 16);
  const longLine = sender(line);
  await assert.rejects(readProxyHeader(longLine, 20), isProblem("too_large", /within 20 bytes$/));
  assert.equal(longLine.handed, 20);
  for (const maxBytes of [15, 16.5, MAX_PROXY_HEADER + 1]) {
    await assert.rejects(readProxyHeader(sender(line), maxBytes), RangeError);
  }
  const reset = new Deno.errors.ConnectionReset("Connection reset by peer");
  await assert.rejects(readProxyHeader({ read: () => Promise.reject(reset) }), (e) => e === reset);
});

const HAPROXY = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"]
  .filter(Boolean).map((dir) => `${dir}/haproxy`).find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });

/**
 * Accepts connections until one comes with a header of `command`, answering haproxy's health
 * checks (LOCAL, then PING) with PONG on the way.
 */
async function accept(listener: Deno.TcpListener, command: "proxy" | "local") {
  for (;;) {
    const conn = await listener.accept();
    const raw: number[] = [];
    const source: Source = {
      async read(buffer) {
        const n = await conn.read(buffer);
        if (n !== null) raw.push(...buffer.subarray(0, n));
        return n;
      },
    };
    const read = await readProxyHeader(source);
    const length = raw.length - read.rest.length;
    if (read.header.command === "proxy") return { conn, sent: raw.slice(0, length), ...read };
    assert.deepEqual(read.header, LOCAL);
    await conn.write(text("PONG\r\n"));
    conn.close();
    if (command === "local") return;
  }
}

Deno.test({
  name: HAPROXY
    ? "readProxyHeader() reads haproxy's send-proxy, send-proxy-v2 with CRC32C and its checks"
    : "readProxyHeader() with a real haproxy: IGNORED, haproxy is not installed",
  ignore: HAPROXY === undefined,
  async fn() {
    using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const dir = await Deno.makeTempDir({ prefix: "minginx_haproxy_" });
    const ports = { 1: freePort(), 2: freePort() };
    const server = `127.0.0.1:${upstream.addr.port}`;
    await Deno.writeTextFile(
      `${dir}/haproxy.cfg`,
      `global
  nbthread 1
defaults
  mode tcp
  timeout connect 5s
  timeout client 10s
  timeout server 10s
  timeout check 5s
frontend v1
  bind 127.0.0.1:${ports[1]}
  default_backend v1
backend v1
  server s ${server} send-proxy
frontend v2
  bind 127.0.0.1:${ports[2]}
  unique-id-format %ci:%cp-%rt
  default_backend v2
backend v2
  option tcp-check
  tcp-check connect send-proxy
  tcp-check send PING\\r\\n
  tcp-check expect string PONG
  server s ${server} send-proxy-v2 proxy-v2-options crc32c,unique-id check inter 200ms
`,
    );
    const child = new Deno.Command(HAPROXY!, {
      args: ["-f", `${dir}/haproxy.cfg`, "-db"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const exited = child.status.then(({ code }) => Promise.reject(new Error(`exit code ${code}`)));
    exited.catch(() => {}); // only the wait for the first check looks at it
    try {
      // The first health check shows haproxy is up; it binds its frontends before checking.
      await within(
        10_000,
        "haproxy's first check",
        Promise.race([accept(upstream, "local"), exited]),
      );
      for (const version of [1, 2] as const) {
        const data = text(`hello over v${version}, ${"\r\n\0".repeat(50)}`);
        using client = await Deno.connect({ hostname: "127.0.0.1", port: ports[version] });
        await client.write(data);
        await client.closeWrite();
        const { conn, sent, header, rest } =
          (await within(10_000, "a client", accept(upstream, "proxy")))!;
        using _ = conn;
        const from = at("127.0.0.1", client.localAddr.port);
        assert.deepEqual(header, proxied(version, from, at("127.0.0.1", ports[version])));
        const received = [...rest];
        const buffer = new Uint8Array(1024);
        for (let n; (n = await within(10_000, "the client's bytes", conn.read(buffer))) !== null;) {
          received.push(...buffer.subarray(0, n));
        }
        assert.deepEqual(new Uint8Array(received), data);
        if (version === 2) {
          const tlvs = sent.slice(16 + 12); // after the TCP4 address block
          assert.deepEqual([tlvs[0], tlvs[1], tlvs[2]], [0x03, 0, 4], "no CRC32C TLV first");
          assert.ok(tlvs.includes(0x05), "haproxy sent no unique-id TLV");
        }
      }
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`haproxy said: ${await stderr}`, { cause: error });
    } finally {
      try {
        child.kill("SIGTERM");
      } catch { /* exited already */ }
      await within(10_000, "haproxy to exit", child.status);
      await stderr;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
