/**
 * One direction of a proxied connection: copy bytes from one socket to another until the source's
 * end of stream. What to do at the end (a half-close) is the caller's choice.
 *
 * @module
 */

import { type BufferPool, sharedBufferPool } from "./buffer_pool.ts";
import { messageOf } from "./_util.ts";

/**
 * A byte counter that {@linkcode pipe} adds to after each completed write.
 *
 * @example A layer that reads the meters after the connection ends
 * ```ts
 * import type { Layer } from "@minginx/minginx";
 *
 * let uploaded = 0;
 * const countUploads: Layer = (inner) => async (connection) => {
 *   const report = await inner(connection);
 *   uploaded += connection.up.bytes; // the same figure as report.bytesUp
 *   return report;
 * };
 * ```
 */
export interface Meter {
  /** Bytes written so far. */
  bytes: number;
}

/**
 * The side a socket can read from. `Deno.TcpConn` and `Deno.TlsConn` are both sources.
 *
 * @example Piping between in-memory ends
 * ```ts
 * import { pipe, type Sink, type Source } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const chunks = [new Uint8Array([1, 2]), new Uint8Array([3])];
 * const source: Source = {
 *   read(buffer) {
 *     const chunk = chunks.shift();
 *     if (!chunk) return Promise.resolve(null);
 *     buffer.set(chunk);
 *     return Promise.resolve(chunk.length);
 *   },
 * };
 * const received: number[] = [];
 * const sink: Sink = {
 *   write(bytes) {
 *     received.push(...bytes);
 *     return Promise.resolve(bytes.length);
 *   },
 * };
 * await pipe(source, sink, { bytes: 0 });
 * assert.deepEqual(received, [1, 2, 3]);
 * ```
 */
export type Source = Pick<Deno.Conn, "read">;

/**
 * The side a socket can write to. `Deno.TcpConn` and `Deno.TlsConn` are both sinks.
 *
 * @example A sink that takes at most 2 bytes a write: pipe writes the rest
 * ```ts
 * import { pipe, type Sink } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const sent = [new Uint8Array([1, 2, 3, 4, 5])];
 * const received: number[] = [];
 * const slowSink: Sink = {
 *   write(bytes) {
 *     received.push(...bytes.subarray(0, 2));
 *     return Promise.resolve(Math.min(2, bytes.length));
 *   },
 * };
 * const source = {
 *   read(buffer: Uint8Array) {
 *     const chunk = sent.shift();
 *     if (!chunk) return Promise.resolve(null);
 *     buffer.set(chunk);
 *     return Promise.resolve(chunk.length);
 *   },
 * };
 * const meter = { bytes: 0 };
 * await pipe(source, slowSink, meter);
 * assert.deepEqual(received, [1, 2, 3, 4, 5]);
 * assert.equal(meter.bytes, 5);
 * ```
 */
export type Sink = Pick<Deno.Conn, "write">;

/**
 * Thrown by {@linkcode pipe} when reading or writing fails; `side` says which, and `cause` holds
 * the socket's error.
 *
 * @example Telling which side failed
 * ```ts
 * import { PipeError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const error = new PipeError("write", new Deno.errors.BrokenPipe("Broken pipe"));
 * assert.equal(error.side, "write");
 * assert.equal(error.message, "Cannot write: Broken pipe");
 * ```
 */
export class PipeError extends Error {
  /** Whether reading from the source or writing to the sink failed. */
  readonly side: "read" | "write";

  /**
   * Wraps a socket error.
   *
   * @param side Which side failed.
   * @param cause The socket's error.
   */
  constructor(side: "read" | "write", cause: unknown) {
    super(`Cannot ${side}: ${messageOf(cause)}`, { cause });
    this.name = "PipeError";
    this.side = side;
  }
}

/**
 * The smallest read buffer, and the one an idle connection holds per direction for its pending
 * read: small, because that is most of what an idle connection costs.
 *
 * @example The buffer grows from the smallest size to the largest
 * ```ts
 * import { INITIAL_BUFFER_BYTES, MAX_BUFFER_BYTES } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(INITIAL_BUFFER_BYTES, 1024);
 * assert.equal(MAX_BUFFER_BYTES / INITIAL_BUFFER_BYTES, 2 ** 10); // ten doublings
 * ```
 */
export const INITIAL_BUFFER_BYTES = 1024;
/**
 * The largest read buffer: a buffer doubles each time a read fills it, up to this.
 *
 * @example At most this much is read in one call
 * ```ts
 * import { MAX_BUFFER_BYTES } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(MAX_BUFFER_BYTES, 1024 * 1024);
 * ```
 */
export const MAX_BUFFER_BYTES = 1024 * 1024;

/**
 * Copies every byte from `source` to `sink`, in order, with backpressure: it reads again only
 * when the last chunk is fully written. It returns at the source's end of stream and leaves both
 * sockets open, so the caller can pass the end on as a half-close with `closeWrite()`.
 *
 * The read buffer follows the traffic: it doubles (up to {@linkcode MAX_BUFFER_BYTES}) when a
 * read fills it, and when a read brings at most a quarter of it, it shrinks to twice what that read
 * brought, down to {@linkcode INITIAL_BUFFER_BYTES}. Buffers come from `pool`, so a connection that
 * has gone quiet after a burst holds a small one and the large ones serve other connections.
 *
 * Per chunk it does one read, and the writes that chunk needs, each added to `meter`: no
 * allocation but a view for a chunk of a new length, no closure, no logging.
 *
 * @param source Where bytes come from.
 * @param sink Where bytes go.
 * @param meter Counts the bytes written to `sink`, write by write, so a chunk cut short by an error
 * counts what went through.
 * @param pool Where read buffers come from and go back to.
 * @throws {PipeError} If reading or writing fails.
 *
 * @example Forward one direction and keep the other open
 * ```ts
 * import { pipe } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * using server = await listener.accept();
 * await client.write(new TextEncoder().encode("hello"));
 * await client.closeWrite();
 *
 * // Echo everything back, then half-close the server's side.
 * const meter = { bytes: 0 };
 * await pipe(server, server, meter);
 * await server.closeWrite();
 * assert.equal(meter.bytes, 5);
 * const reply = new Uint8Array(8);
 * assert.equal(await client.read(reply), 5);
 * assert.equal(new TextDecoder().decode(reply.subarray(0, 5)), "hello");
 * assert.equal(await client.read(reply), null);
 * ```
 */
export async function pipe(
  source: Source,
  sink: Sink,
  meter: Meter,
  pool: BufferPool = sharedBufferPool,
): Promise<void> {
  let buffer = pool.take(INITIAL_BUFFER_BYTES);
  let view = buffer;
  let side: "read" | "write" = "read";
  try {
    for (;;) {
      side = "read";
      const n = await source.read(buffer);
      if (n === null) break;
      side = "write";
      if (n !== view.length) view = buffer.subarray(0, n);
      let written = await sink.write(view);
      meter.bytes += written;
      while (written < n) {
        const more = await sink.write(buffer.subarray(written, n));
        written += more;
        meter.bytes += more;
      }
      const size = nextSize(n, buffer.length);
      if (size !== buffer.length) {
        pool.give(buffer);
        view = buffer = pool.take(size);
      }
    }
  } catch (error) {
    throw new PipeError(side, error);
  } finally {
    pool.give(buffer);
  }
}

/** The next buffer size after a read of `n` bytes into `size`: a power of two. */
function nextSize(n: number, size: number): number {
  if (n === size) return size < MAX_BUFFER_BYTES ? size * 2 : size;
  if (n > size >>> 2 || size === INITIAL_BUFFER_BYTES) return size;
  let fit = INITIAL_BUFFER_BYTES;
  while (fit < 2 * n) fit *= 2; // room to spare, so reads of about n bytes keep this size
  return fit;
}
