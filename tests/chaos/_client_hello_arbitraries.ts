/**
 * What the ClientHello fuzz tests feed parseClientHello(): valid ClientHellos built field by field
 * and fragmented over records of random sizes, with what they must parse to; the same with a few
 * bytes flipped, replaced, inserted or deleted; and random bytes behind record headers.
 */

import fc from "fast-check";
import type { ClientHello } from "../../lib/tls/client_hello.ts";

/** A valid ClientHello in records, where its last record ends, and what it must parse to. */
export interface ValidCase {
  bytes: Uint8Array;
  complete: number;
  expected: ClientHello;
}

/** Bytes written in order; a vector's length prefix is filled in once its contents are written. */
class Writer {
  bytes = new Uint8Array(256);
  length = 0;

  /** Moves the end on by `length` bytes, making room for them; returns where they start. */
  #skip(length: number): number {
    if (this.length + length > this.bytes.length) {
      const grown = new Uint8Array(2 * (this.length + length));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    return (this.length += length) - length;
  }

  put(bytes: ArrayLike<number>): this {
    const at = this.#skip(bytes.length); // before this.bytes, which it may replace
    this.bytes.set(bytes, at);
    return this;
  }

  /** Writes `length` bytes of noise. */
  noise(noise: Noise, length: number): this {
    const at = this.#skip(length);
    noise.fill(this.bytes, at, at + length);
    return this;
  }

  /** Writes a `size`-byte length, then what `write` writes. */
  vector(size: 1 | 2 | 3, write: (writer: this) => unknown): this {
    const at = this.#skip(size);
    write(this);
    for (let n = this.length - at - size, i = size - 1; i >= 0; i--, n >>= 8) {
      this.bytes[at + i] = n & 255;
    }
    return this;
  }

  done(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

const u16 = (n: number) => [n >> 8, n & 255];

/** Pseudo-random bytes (xorshift32) from a seed: contents without generating each byte. */
class Noise {
  #x: number;
  constructor(seed: number) {
    this.#x = seed | 1;
  }

  bytes(length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    this.fill(bytes, 0, length);
    return bytes;
  }

  /** Writes noise over `bytes` from `start` to `end`. */
  fill(bytes: Uint8Array, start: number, end: number): void {
    let x = this.#x;
    for (let i = start; i < end; i++) {
      x ^= x << 13, x ^= x >>> 17, x ^= x << 5;
      bytes[i] = x & 255;
    }
    this.#x = x;
  }
}

/** 64 characters: a byte's low 6 bits pick one. */
const LABEL = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
/** The labels' lengths of a DNS name, and whether it ends with a dot. */
const dnsName = fc.tuple(
  fc.array(
    fc.oneof(
      { weight: 9, arbitrary: fc.integer({ min: 1, max: 12 }) },
      fc.integer({ min: 50, max: 63 }),
    ),
    { minLength: 1, maxLength: 8 },
  ),
  fc.boolean(),
);
const protocolLength = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: 1, max: 12 }) },
  fc.integer({ min: 200, max: 255 }),
);
/** Extensions the parser skips: a type, and a length of up to 40 bytes, or of thousands. */
const unknownExtension = fc.tuple(
  fc.integer({ min: 1, max: 65_535 }),
  fc.oneof({ weight: 30, arbitrary: fc.nat(40) }, fc.integer({ min: 1_000, max: 3_000 })),
);
/** The largest record, and whether every record is that large (but the last) or 1 to that. */
const recordSizes = fc.tuple(
  fc.oneof(fc.constantFrom(1, 2, 5), { weight: 3, arbitrary: fc.constantFrom(50, 300, 16_384) }),
  fc.boolean(),
);

/** Text of one character a byte: the byte's, or the one `pick` picks. */
function latin1(bytes: Uint8Array, pick = (byte: number) => String.fromCharCode(byte)): string {
  let text = "";
  for (const byte of bytes) text += pick(byte);
  return text;
}

/** A DNS name with labels of these lengths, cut to 253 characters, and a dot at the end if `dot`. */
function hostName(lengths: number[], dot: boolean, noise: Noise): string {
  const labels = lengths.map((n) => latin1(noise.bytes(n), (byte) => LABEL[byte & 63]));
  const name = labels.join(".").slice(0, 253).replace(/\.$/, "");
  return dot ? `${name}.` : name;
}

/**
 * A valid ClientHello: its lengths and choices generated, its contents derived from a seed, its
 * extensions in random order, its records of random sizes.
 */
export const validCase: fc.Arbitrary<ValidCase> = fc.record({
  seed: fc.nat(),
  version: fc.constantFrom(0x0300, 0x0301, 0x0303),
  sessionId: fc.nat(32),
  suites: fc.integer({ min: 1, max: 40 }),
  compression: fc.integer({ min: 1, max: 4 }),
  name: fc.option(dnsName),
  alpn: fc.option(fc.array(protocolLength, { minLength: 1, maxLength: 6 })),
  unknown: fc.array(unknownExtension, { maxLength: 8 }),
  block: fc.boolean(),
  trailing: fc.nat(20),
  sizes: recordSizes,
  minor: fc.integer({ min: 0, max: 4 }),
  after: fc.nat(10),
}).map((hello) => {
  const noise = new Noise(hello.seed);
  const types = new Set([0, 16]);
  const extensions: [number, (w: Writer) => unknown][] = hello.unknown
    .filter(([type]) => !types.has(type) && types.add(type))
    .map(([type, length]) => [type, (w) => w.noise(noise, length)]);
  const name = hello.name && hostName(hello.name[0], hello.name[1], noise);
  if (name) {
    const host = new TextEncoder().encode(name);
    extensions.push([0, (w) => w.vector(2, (w) => w.put([0]).vector(2, (w) => w.put(host)))]);
  }
  const alpn = hello.alpn?.map((length) => noise.bytes(length));
  if (alpn) {
    const list = (w: Writer) => alpn.forEach((p) => w.vector(1, (w) => w.put(p)));
    extensions.push([16, (w) => w.vector(2, list)]);
  }
  const order = noise.bytes(extensions.length);
  for (let i = extensions.length - 1; i > 0; i--) {
    const j = order[i] % (i + 1);
    [extensions[i], extensions[j]] = [extensions[j], extensions[i]];
  }
  const writer = new Writer().put([1]).vector(3, (w) => {
    w.put(u16(hello.version)).noise(noise, 32);
    w.vector(1, (w) => w.noise(noise, hello.sessionId));
    w.vector(2, (w) => w.noise(noise, 2 * hello.suites));
    w.vector(1, (w) => w.noise(noise, hello.compression));
    if (!hello.block && extensions.length === 0) return;
    w.vector(2, (w) => {
      for (const [type, data] of extensions) w.put(u16(type)).vector(2, data);
    });
  });
  const message = writer.length;
  const stream = writer.noise(noise, hello.trailing).done();
  const [largest, same] = hello.sizes;
  const random = new Uint16Array(noise.bytes(128).buffer, 0, 64);
  const sizes: number[] = [];
  for (let at = 0; at < stream.length; at += sizes.at(-1)!) {
    const size = same ? largest : 1 + random[sizes.length % 64] % largest;
    sizes.push(Math.min(size, stream.length - at));
  }
  const records = new Uint8Array(stream.length + 5 * sizes.length + hello.after);
  let length = 0;
  let complete = 0;
  for (let at = 0, i = 0; i < sizes.length; i++) {
    const size = sizes[i];
    records[length] = 22, records[length + 1] = 3, records[length + 2] = hello.minor;
    records[length + 3] = size >> 8, records[length + 4] = size & 255;
    if (size < 16) { for (let j = 0; j < size; j++) records[length + 5 + j] = stream[at + j]; }
    else records.set(stream.subarray(at, at + size), length + 5);
    length += 5 + size;
    at += size;
    if (complete === 0 && at >= message) complete = length;
  }
  noise.fill(records, length, length + hello.after);
  const serverName = name ? name.replace(/\.$/, "").toLowerCase() : undefined;
  const expected = { serverName, alpn: (alpn ?? []).map((p) => latin1(p)) };
  return { bytes: records.subarray(0, length + hello.after), complete, expected };
});

/** The parts one after the other. */
function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const writer = new Writer();
  for (const part of parts) writer.put(part);
  return writer.done();
}

/** A valid ClientHello with 1 to 4 edits: a byte flipped or replaced, bytes inserted or deleted. */
export const mutated = fc.tuple(
  validCase,
  fc.array(fc.tuple(fc.nat(4), fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }),
).map(([{ bytes }, edits]) => {
  let out = bytes;
  for (const [kind, where, value] of edits) {
    const i = where % (out.length + 1);
    if (kind === 0 || kind === 1) {
      out = out.slice();
      if (i < out.length) out[i] = kind === 0 ? out[i] ^ (value || 1) : value;
    } else if (kind === 2) out = concat(out.subarray(0, i), [value], out.subarray(i));
    else if (kind === 3) out = concat(out.subarray(0, i), out.subarray(i + 1 + value % 8));
    else out = concat(out.subarray(0, i), out.subarray(Math.max(0, i - 1 - value % 20)));
  }
  return out;
});

/** Random bytes: alone, after a record header, or after headers whose lengths are random too. */
export const soup = fc.tuple(fc.uint8Array({ maxLength: 600 }), fc.nat(2), fc.nat(600), fc.nat(3))
  .map(([random, kind, n, minor]) => {
    if (kind === 0) return random;
    const record = new Writer().put([22, 3, minor]);
    if (kind === 2) record.put(u16(n + 4)).put([1, 0]).put(u16(n));
    return record.put(random).done();
  });
