/**
 * parseClientHello() and readClientHello() on ClientHellos built here, byte by byte: split over
 * records and reads, cut short, too large, malformed, and trickled in one-byte records to show
 * that reading costs time linear in the bytes. Real clients' ClientHellos are in
 * client_hello_peers_test.ts.
 */

import assert from "node:assert/strict";
import type { Source } from "../lib/pipe.ts";
import { ClientHelloError, MAX_CLIENT_HELLO, parseClientHello } from "../lib/tls/client_hello.ts";
import { readClientHello } from "../lib/tls/read_client_hello.ts";

const HANDSHAKE = "expected a TLS handshake record (content type 22)";
const u16 = (n: number) => [n >> 8, n & 255];

/** A one-record ClientHello with these extensions, each written [type, ...data]. */
function handmade(...extensions: number[][]): Uint8Array {
  const list = extensions.flatMap((
    [type, ...data],
  ) => [...u16(type), ...u16(data.length), ...data]);
  const fields = [3, 3, ...new Array(32).fill(1), 0, ...u16(2), 0x13, 0x01, 1, 0];
  const body = [...fields, ...u16(list.length), ...list];
  return new Uint8Array([22, 3, 1, ...u16(body.length + 4), 1, 0, ...u16(body.length), ...body]);
}

/** A server_name extension naming `name`. */
function sni(name: string): number[] {
  const bytes = new TextEncoder().encode(name);
  return [0, ...u16(bytes.length + 3), 0, ...u16(bytes.length), ...bytes];
}

/** An ALPN extension listing `protocols`. */
function alpn(...protocols: string[]): number[] {
  const list = protocols.flatMap((p) => [p.length, ...new TextEncoder().encode(p)]);
  return [16, ...u16(list.length), ...list];
}

/** A padding extension of `length` zeros. */
const padding = (length: number) => [21, ...new Array(length).fill(0)];

const EXPECTED = { serverName: "a.test", alpn: ["h2", "http/1.1"] };
/** A ClientHello for a.test with ALPN h2 and http/1.1, of a browser's size. */
const HELLO = handmade(sni("A.test"), alpn("h2", "http/1.1"), padding(400));

/** A source that hands out `bytes`, at most `chunk` a read, and counts what it hands out. */
function sourceOf(bytes: Uint8Array, chunk = Infinity): Source & { reads: number; handed: number } {
  return {
    reads: 0,
    handed: 0,
    read(buffer) {
      const n = Math.min(chunk, buffer.length, bytes.length - this.handed);
      if (n === 0) return Promise.resolve(null);
      buffer.set(bytes.subarray(this.handed, this.handed + n));
      this.reads++;
      this.handed += n;
      return Promise.resolve(n);
    },
  };
}

/** The handshake message of a one-record ClientHello, in records of `size(i)` bytes. */
function reframe(hello: Uint8Array, size: (i: number) => number): Uint8Array {
  const message = hello.subarray(5, 5 + ((hello[3] << 8) | hello[4]));
  const records: number[] = [];
  for (let at = 0, i = 0; at < message.length; i++) {
    const piece = message.subarray(at, at += size(i));
    records.push(22, 3, 1, ...u16(piece.length), ...piece);
  }
  return new Uint8Array(records);
}

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  return new Uint8Array(parts.flatMap((part) => Array.from(part)));
}

/** Checks a ClientHelloError's problem, and its bytes and message if given. */
function problemOf(problem: string, bytes?: Uint8Array, message?: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ClientHelloError, `expected a ClientHelloError, got ${error}`);
    assert.equal(error.problem, problem, error.message);
    if (bytes) assert.deepEqual(error.bytes, bytes);
    if (message) assert.equal(error.message, message);
    return true;
  };
}

Deno.test("readClientHello() reads a ClientHello handed out one byte a read", async () => {
  const source = sourceOf(HELLO, 1);
  const read = await readClientHello(source);
  assert.deepEqual(read.hello, EXPECTED);
  assert.deepEqual(read.bytes, HELLO);
  assert.equal(source.reads, HELLO.length);
});

Deno.test("parseClientHello() and readClientHello() reassemble a ClientHello split over records of 1 to 50 bytes", async () => {
  let seed = 7;
  const random = () => (seed = (seed * 48_271) % 2_147_483_647) % 50 + 1;
  for (const size of [() => 1, () => 50, random, random, random]) {
    const records = reframe(HELLO, size);
    assert.deepEqual(parseClientHello(records), EXPECTED);
    for (const chunk of [1, 7, 64, Infinity]) {
      assert.deepEqual((await readClientHello(sourceOf(records, chunk))).hello, EXPECTED);
    }
  }
});

Deno.test("readClientHello() rejects plain HTTP as not_tls after the first read", async () => {
  const request = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n");
  const source = sourceOf(request, 16);
  const message = `Cannot parse ClientHello: ${HANDSHAKE}, got 0x47`;
  await assert.rejects(
    readClientHello(source),
    problemOf("not_tls", request.subarray(0, 16), message),
  );
  assert.equal(source.reads, 1);
  for (const start of [[0x80], [0x16, 0x02], [0x16, 0x80, 0x01]]) {
    assert.throws(() => parseClientHello(new Uint8Array(start)), problemOf("not_tls"));
  }
});

Deno.test("parseClientHello() waits on every prefix of a ClientHello, and readClientHello() rejects it as truncated", async () => {
  for (const hello of [HELLO, reframe(HELLO, (i) => i % 5 + 1)]) {
    for (let length = 0; length < hello.length; length++) {
      const prefix = hello.subarray(0, length);
      assert.equal(parseClientHello(prefix), undefined, `prefix of ${length} bytes`);
      await assert.rejects(readClientHello(sourceOf(prefix, 3)), problemOf("truncated", prefix));
    }
  }
});

Deno.test("readClientHello() reads no more than maxBytes and rejects a larger ClientHello as too_large", async () => {
  for (let maxBytes = 1; maxBytes < HELLO.length; maxBytes++) {
    const source = sourceOf(HELLO, 100);
    await assert.rejects(readClientHello(source, { maxBytes }), (error) => {
      assert.ok(source.handed <= maxBytes, `handed out ${source.handed} of ${maxBytes} bytes`);
      return problemOf("too_large", HELLO.subarray(0, source.handed))(error);
    });
    assert.throws(() => parseClientHello(HELLO, maxBytes), problemOf("too_large", HELLO));
  }
  const exact = await readClientHello(sourceOf(HELLO, 100), { maxBytes: HELLO.length });
  assert.deepEqual(exact.hello, EXPECTED);
});

Deno.test("readClientHello() starts with the initial bytes and keeps every byte read", async () => {
  const after = new TextEncoder().encode("bytes of a later message");
  for (const split of [0, 1, 5, 100, HELLO.length]) {
    const source = sourceOf(concat(HELLO.subarray(split), after));
    const read = await readClientHello(source, { initial: HELLO.subarray(0, split) });
    assert.deepEqual(read.hello, EXPECTED);
    assert.deepEqual(read.bytes, concat(HELLO, after).subarray(0, split + source.handed));
    assert.equal(source.reads, split === HELLO.length ? 0 : 1);
  }
});

Deno.test("readClientHello() passes an error from source.read through unchanged", async () => {
  const failure = new Deno.errors.ConnectionReset("Connection reset by peer");
  const source: Source = { read: () => Promise.reject(failure) };
  await assert.rejects(readClientHello(source), (error) => error === failure);
});

Deno.test("parseClientHello() rejects a malformed ClientHello as malformed, naming what is wrong", () => {
  const edit = (bytes: Uint8Array, offset: number, value: number) => {
    const copy = bytes.slice();
    copy[offset] = value;
    return copy;
  };
  const dns = "expected labels of 1 to 63 letters, digits, hyphens or underscores, joined by " +
    "dots, at most 253 bytes";
  const cases: [Uint8Array, string][] = [
    [handmade(sni("a..b")), `server name "a..b" is not a DNS name: ${dns}`],
    [handmade(sni("a".repeat(300))), `server name "${"a".repeat(64)}…" is not a DNS name: ${dns}`],
    [handmade(sni("a.test"), sni("b.test")), "extension 0 twice: expected each at most once"],
    [handmade([16, 0, 0]), "ALPN protocol list of 0 bytes: expected at least 1"],
    [edit(HELLO, 5, 2), "handshake message type 2: expected 1 (ClientHello)"],
    [new Uint8Array([22, 3, 1, 0, 0]), "record 1 at byte 0: length 0, expected 1 to 16384"],
    [edit(reframe(HELLO, () => 100), 105, 21), `record 2 at byte 105: ${HANDSHAKE}, got 0x15`],
  ];
  for (const [bytes, detail] of cases) {
    const message = `Cannot parse ClientHello: ${detail}`;
    assert.throws(() => parseClientHello(bytes), problemOf("malformed", bytes, message));
  }
  const dotted = handmade(sni("A.Test."), alpn("h2"));
  assert.deepEqual(parseClientHello(dotted), { serverName: "a.test", alpn: ["h2"] });
});

/** The fewest milliseconds, of three tries, that readClientHello() takes on `bytes`. */
async function fastestRead(bytes: Uint8Array, chunk: number): Promise<number> {
  let fastest = Infinity;
  for (let i = 0; i < 3; i++) {
    const start = performance.now();
    await readClientHello(sourceOf(bytes, chunk));
    fastest = Math.min(fastest, performance.now() - start);
  }
  return fastest;
}

Deno.test("readClientHello() takes linear time on a ClientHello in one-byte records, read a byte at a time", async () => {
  // About 16 KiB of records each, so as many reads: a 2.7 KB ClientHello in one-byte records,
  // and a 16 KB one in a single record, whose reads cost the same however the parser works.
  const trickled = reframe(handmade(sni("a.test"), padding(2_650)), () => 1);
  const whole = handmade(sni("a.test"), padding(16_300));
  for (const bytes of [trickled, whole]) {
    assert.ok(bytes.length > 16_000 && bytes.length <= MAX_CLIENT_HELLO, `${bytes.length} bytes`);
  }
  const records = await fastestRead(trickled, 1);
  const reads = await fastestRead(whole, 1);
  // Parsing every byte so far after each read took of the order of 100 ms here, 30 times more.
  assert.ok(
    records < 4 * reads + 20,
    `one-byte records took ${records.toFixed(1)} ms, one record ${reads.toFixed(1)} ms`,
  );
});
