/**
 * Sending a body: copy a stream to a socket under the framing its head announced, through one
 * reused buffer when the stream lets its reader bring one, with the chunk framing written into
 * that buffer's margins so that a chunk goes out in one write.
 *
 * @module
 */

import type { Meter, Sink } from "../../pipe.ts";
import { type BodyLength, type BodySource, sourceOf } from "./body_source.ts";
import { sharedBufferPool } from "../../buffer_pool.ts";
import { writeAll as writeAllBytes } from "../../byte_stream.ts";

/** Room before the data for a chunk's size line: up to 8 hex digits and CRLF. */
const HEAD_ROOM = 10;
const CRLF = 0x0d0a;
const LAST_CHUNK = new TextEncoder().encode("0\r\n\r\n");

/** A body that does not match the length its head announced. */
export class BodyLengthError extends Error {
  /** @param message What differed. */
  constructor(message: string) {
    super(message);
    this.name = "BodyLengthError";
  }
}

/**
 * Copies `body` to `sink`, framed as `length` says, and ends it (the last chunk, for chunked).
 * A body nobody has read from a {@linkcode BodySource} is read straight into a pooled buffer, and
 * `head`, if given, goes out in the same write as its first bytes; any other stream is read
 * chunk by chunk, after `head` has gone out on its own.
 *
 * @returns The bytes of body sent, framing excluded.
 * @throws {BodyLengthError} If the body is longer or shorter than a given length; the stream's
 * error if it fails; the sink's if a write does.
 */
export async function writeBody(
  body: ReadableStream<Uint8Array>,
  sink: Sink,
  length: BodyLength,
  meter?: Meter,
  head?: Uint8Array,
): Promise<number> {
  const source = sourceOf(body);
  if (source) return await copySource(source, sink, length, meter, head);
  if (head) await writeAll(sink, head, meter);
  const chunked = length === "chunked";
  const reader = body.getReader();
  // Chunks are framed in one pooled buffer, not a new array each.
  const buffer = chunked ? sharedBufferPool.take(COPY_BYTES) : undefined;
  let sent = 0;
  try {
    for (;;) {
      const result = await reader.read();
      if (result.done) break;
      const chunk = result.value;
      if (chunk.byteLength === 0) continue;
      sent += chunk.byteLength;
      checkLength(sent, length);
      if (buffer) await writeChunk(sink, buffer, chunk, meter);
      else await writeAll(sink, chunk, meter);
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    if (buffer) sharedBufferPool.give(buffer);
  }
  // No releaseLock(): the stream is done with, and a release costs more than copying a small
  // body (it builds an error for the reader's closed promise).
  checkEnd(sent, length);
  if (chunked) await writeAll(sink, LAST_CHUNK, meter);
  return sent;
}

function checkLength(sent: number, length: BodyLength): void {
  if (typeof length === "number" && sent > length) {
    throw new BodyLengthError(`The body is longer than its Content-Length of ${length}`);
  }
}

function checkEnd(sent: number, length: BodyLength): void {
  if (typeof length === "number" && sent !== length) {
    throw new BodyLengthError(`The body ended ${length - sent} bytes short of its Content-Length`);
  }
}

/** Writes all of `bytes`, however many writes it takes, and counts them in `meter`. */
export async function writeAll(sink: Sink, bytes: Uint8Array, meter?: Meter): Promise<void> {
  await writeAllBytes(sink, bytes);
  if (meter) meter.bytes += bytes.length;
}

/**
 * The `n` bytes at `offset` of `bytes`' memory with a chunk's size line and CRLF written around
 * them, in the margins: at least {@linkcode HEAD_ROOM} bytes before, 2 after.
 */
function frame(whole: Uint8Array, offset: number, n: number): Uint8Array {
  let at = offset;
  whole[--at] = 0x0a;
  whole[--at] = 0x0d;
  for (let size = n; size > 0; size >>>= 4) whole[--at] = hexDigit(size & 15);
  const end = offset + n;
  whole[end] = CRLF >> 8;
  whole[end + 1] = CRLF & 0xff;
  return whole.subarray(at, end + 2);
}

/** Bytes of a pooled copy buffer, and where its data starts: after room for a head. */
const COPY_BYTES = 128 * 1024;
const HEAD_AREA = 8192;
const DATA_AT = HEAD_AREA + HEAD_ROOM;

/** The fast path of {@linkcode writeBody}: the source read straight into a pooled buffer. */
async function copySource(
  source: BodySource,
  sink: Sink,
  length: BodyLength,
  meter: Meter | undefined,
  head: Uint8Array | undefined,
): Promise<number> {
  const chunked = length === "chunked";
  let pending = head && head.length <= HEAD_AREA ? head : undefined;
  if (head && !pending) await writeAll(sink, head, meter);
  const buffer = sharedBufferPool.take(COPY_BYTES);
  const data = buffer.subarray(DATA_AT, COPY_BYTES - 2);
  let sent = 0;
  try {
    for (;;) {
      const n = await source.read(data);
      if (n === null) break;
      if (n === 0) continue;
      sent += n;
      checkLength(sent, length);
      let out = chunked ? frame(buffer, DATA_AT, n) : buffer.subarray(DATA_AT, DATA_AT + n);
      if (pending) out = prepend(buffer, pending, out);
      pending = undefined;
      await writeAll(sink, out, meter);
    }
    checkEnd(sent, length);
    if (chunked || pending) {
      let out = chunked ? buffer.subarray(DATA_AT, DATA_AT + 5) : buffer.subarray(DATA_AT, DATA_AT);
      if (chunked) out.set(LAST_CHUNK);
      if (pending) out = prepend(buffer, pending, out);
      await writeAll(sink, out, meter);
    }
  } catch (error) {
    source.abandon();
    throw error;
  } finally {
    sharedBufferPool.give(buffer);
  }
  return sent;
}

/** `out` with `head` written just before it in `buffer`, as one view. */
function prepend(buffer: Uint8Array, head: Uint8Array, out: Uint8Array): Uint8Array {
  const start = out.byteOffset - buffer.byteOffset;
  buffer.set(head, start - head.length);
  return buffer.subarray(start - head.length, start + out.length);
}

/**
 * Writes a body's chunk as HTTP chunks (size line, data, CRLF), copied into `buffer` between the
 * margins {@linkcode frame} writes; a chunk larger than the buffer goes as several.
 */
async function writeChunk(
  sink: Sink,
  buffer: Uint8Array,
  chunk: Uint8Array,
  meter?: Meter,
): Promise<void> {
  const room = COPY_BYTES - DATA_AT - 2;
  for (let at = 0; at < chunk.byteLength; at += room) {
    const n = Math.min(room, chunk.byteLength - at);
    buffer.set(at === 0 && n === chunk.byteLength ? chunk : chunk.subarray(at, at + n), DATA_AT);
    await writeAll(sink, frame(buffer, DATA_AT, n), meter);
  }
}

function hexDigit(value: number): number {
  return value < 10 ? 0x30 + value : 0x57 + value;
}
