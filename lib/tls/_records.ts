/**
 * Reassembling a ClientHello from the TLS records it arrives in, as the bytes arrive: each call
 * looks only at the bytes that are new since the last, so reading a ClientHello takes time linear
 * in its bytes however they are split into reads and records. Private: not exported from mod.ts.
 *
 * @module
 */

import type { ClientHelloProblem } from "./client_hello.ts";

/** Throws the rejection of the bytes: what is wrong with them and the detail of the message. */
export type Fail = (problem: ClientHelloProblem, detail: string) => never;

/** The bytes of a record header: content type, version (2), length (2). */
export const HEADER = 5;
/** The largest record's length, without its header. */
export const MAX_RECORD = 16_384;

const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const EXPECTED_HANDSHAKE = "expected a TLS handshake record (content type 22)";

/**
 * The state of one connection's records: where the record being read starts, and how much of the
 * handshake message its records carry. Each call to {@linkcode Records.next} is given every byte
 * read so far, the bytes of the calls before it first and unchanged; once it has thrown, the
 * bytes are rejected and it is not called again.
 */
export class Records {
  /** Where the record being read starts. */
  #at = 0;
  /** Its number, from 1. */
  #record = 1;
  /** The next byte that may hold part of the handshake header. */
  #next = 0;
  /** Handshake header bytes seen: the message type, then its length (3). */
  #header = 0;
  /** The handshake message's length, once all 4 header bytes are seen. */
  #length = 0;
  /** Handshake bytes needed: the header, then the header and the message. */
  #need = 4;
  /** Handshake bytes in the complete records so far. */
  #have = 0;
  /** The message, once complete. */
  #message: Uint8Array | undefined;

  /**
   * Starts before the first record.
   *
   * @param maxBytes The most bytes of records the ClientHello may take; no byte past them is read.
   */
  constructor(readonly maxBytes: number) {}

  /**
   * Reads the records in the bytes that arrived since the last call.
   *
   * @param bytes Every byte read so far, those of the calls before first.
   * @param fail Throws the rejection of `bytes`.
   * @returns The ClientHello's body, without the 4-byte handshake header, once its records are
   * complete; undefined if more bytes are needed.
   * @throws What `fail` throws: `not_tls` if the first record is not a TLS handshake record,
   * `malformed` if a record or the handshake header is wrong, `too_large` as soon as the records
   * the ClientHello needs would exceed `maxBytes`.
   */
  next(bytes: Uint8Array, fail: Fail): Uint8Array | undefined {
    if (this.#message) return this.#message;
    const input = bytes.length > this.maxBytes ? bytes.subarray(0, this.maxBytes) : bytes;
    for (;;) {
      const at = this.#at;
      const left = input.length - at;
      if (left >= 1 && input[at] !== HANDSHAKE) {
        this.#bad(at, `${EXPECTED_HANDSHAKE}, got ${hex(input[at])}`, fail);
      }
      if (left >= 2 && input[at + 1] !== 3) {
        this.#bad(at, `expected TLS record version 3.x, got ${hex(input[at + 1])}.x`, fail);
      }
      if (left < HEADER) return this.#fits(at + recordsFor(this.#need - this.#have), fail);
      const size = sizeAt(input, at);
      if (size === 0 || size > MAX_RECORD) {
        fail(
          "malformed",
          `record ${this.#record} at byte ${at}: length ${size}, expected 1 to 16384`,
        );
      }
      const end = at + HEADER + size;
      if (this.#header < 4) this.#readHeader(input, at + HEADER, Math.min(end, input.length), fail);
      if (end > input.length) {
        return this.#fits(end + recordsFor(this.#need - this.#have - size), fail);
      }
      this.#have += size;
      this.#at = end;
      this.#record++;
      if (this.#have >= this.#need) return this.#message = collect(input, this.#need);
    }
  }

  /** Reads the handshake header bytes among those of a record from `start` to `end`. */
  #readHeader(input: Uint8Array, start: number, end: number, fail: Fail): void {
    let i = Math.max(this.#next, start);
    for (; this.#header < 4 && i < end; i++, this.#header++) {
      if (this.#header > 0) this.#length = this.#length * 256 + input[i];
      else if (input[i] !== CLIENT_HELLO) {
        fail("malformed", `handshake message type ${input[i]}: expected 1 (ClientHello)`);
      }
    }
    this.#next = i;
    if (this.#header === 4) this.#need = 4 + this.#length;
  }

  /** Not TLS if the first record is wrong; malformed if a later one is. */
  #bad(at: number, detail: string, fail: Fail): never {
    return this.#record === 1
      ? fail("not_tls", detail)
      : fail("malformed", `record ${this.#record} at byte ${at}: ${detail}`);
  }

  /** Undefined (read more) if `total` bytes fit in `maxBytes`; throws `too_large` otherwise. */
  #fits(total: number, fail: Fail): undefined {
    if (total > this.maxBytes) {
      fail(
        "too_large",
        `the ClientHello needs ${total} bytes of records, expected at most ${this.maxBytes}`,
      );
    }
  }
}

/** The length in the record header that starts at `at`. */
function sizeAt(input: Uint8Array, at: number): number {
  return (input[at + 3] << 8) | input[at + 4];
}

/** The fewest bytes of records that carry `bytes` more handshake bytes. */
function recordsFor(bytes: number): number {
  return bytes <= 0 ? 0 : bytes + HEADER * Math.ceil(bytes / MAX_RECORD);
}

/** The first `need` handshake bytes, from complete records, without the 4-byte header. */
function collect(input: Uint8Array, need: number): Uint8Array {
  if (sizeAt(input, 0) >= need) return input.subarray(HEADER + 4, HEADER + need);
  const message = new Uint8Array(need);
  for (let at = 0, filled = 0; filled < need; at += HEADER + sizeAt(input, at)) {
    const end = at + HEADER + Math.min(sizeAt(input, at), need - filled);
    for (let i = at + HEADER; i < end; i++) message[filled++] = input[i];
  }
  return message.subarray(4);
}

/**
 * A number in hexadecimal, for a message.
 *
 * @param value The number.
 * @param digits The fewest digits.
 * @returns Such as `0x16`.
 */
export function hex(value: number, digits = 2): string {
  return `0x${value.toString(16).padStart(digits, "0")}`;
}
