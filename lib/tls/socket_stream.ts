/**
 * A Node.js socket seen as a minginx {@linkcode ByteStream}: the plaintext side of a terminated
 * TLS session, read and written by the same pipe as a plain socket.
 *
 * @module
 */

import type { Duplex } from "node:stream";
import type { ByteStream } from "../byte_stream.ts";

/** Bytes of plaintext waiting for the reader above which the socket under it is not read. */
const HIGH_WATER = 64 * 1024;

/**
 * Lets reading go on, or holds it back until opened: backpressure from the reader of a
 * {@linkcode SocketStream} to the reader of the socket under it.
 */
export class ReadGate {
  #closed: PromiseWithResolvers<void> | undefined;

  /** Resolves at once when open; when closed, once opened again. */
  get ready(): Promise<void> | undefined {
    return this.#closed?.promise;
  }

  /** Holds reading back. */
  close(): void {
    this.#closed ??= Promise.withResolvers();
  }

  /** Lets reading go on. */
  open(): void {
    this.#closed?.resolve();
    this.#closed = undefined;
  }
}

/**
 * Reads, writes and half-closes a `Duplex` (a `node:tls` `TLSSocket`) in the way a Deno socket is
 * read and written: `read(buffer)` fills the caller's buffer and resolves `null` at the end of
 * stream, `write()` resolves once the socket has taken the bytes, `closeWrite()` ends the writing
 * side only. One read and one write may be pending at a time, as the pipe does.
 */
export class SocketStream implements ByteStream {
  readonly #socket: Duplex;
  readonly #raw: ByteStream | undefined;
  /** Chunks the socket emitted and the reader has not taken yet; the first may be partly read. */
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  readonly #gate: ReadGate | undefined;
  #ended = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  /**
   * Wraps a socket, and takes its `data` events from now on.
   *
   * @param socket The socket.
   * @param raw The TCP socket under it, which takes zero-length writes: they tell a reset from a
   * half-close, as on a plain socket.
   * @param gate Closed while too many bytes wait for the reader, so that the socket under it is
   * not read meanwhile.
   */
  constructor(socket: Duplex, raw?: ByteStream, gate?: ReadGate) {
    this.#socket = socket;
    this.#raw = raw;
    this.#gate = gate;
    const wake = () => {
      const resolve = this.#wake;
      this.#wake = undefined;
      resolve?.();
    };
    // Flowing mode, never paused: Deno's TLSSocket does not always report the end of stream
    // after a pause, or in paused mode. The gate holds back reading the socket under it instead.
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      if (this.#buffered >= HIGH_WATER) this.#gate?.close();
      wake();
    });
    socket.on("end", () => {
      this.#ended = true;
      wake();
    });
    socket.on("error", (error: Error) => {
      this.#error ??= error;
      wake();
    });
    socket.on("close", () => {
      this.#ended = true;
      wake();
    });
  }

  /**
   * Reads into `buffer`.
   *
   * @param buffer Where to put the bytes.
   * @returns How many bytes were read, or `null` at the end of stream.
   */
  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const chunk = this.#chunks[0];
    const n = Math.min(chunk.length, buffer.length);
    buffer.set(n === chunk.length ? chunk : chunk.subarray(0, n));
    if (n < chunk.length) this.#chunks[0] = chunk.subarray(n);
    else this.#chunks.shift();
    this.#buffered -= n;
    if (this.#buffered < HIGH_WATER) this.#gate?.open();
    return n;
  }

  /**
   * Writes all of `bytes`.
   *
   * @param bytes What to write; the caller may reuse it once this resolves.
   * @returns `bytes.length`.
   */
  write(bytes: Uint8Array): Promise<number> {
    if (this.#error) return Promise.reject(this.#error);
    if (bytes.length === 0) return this.#raw?.write(bytes) ?? Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (error) => error ? reject(error) : resolve(bytes.length));
    });
  }

  /** Ends the writing side (for TLS, a close_notify and then a FIN); reading goes on. */
  closeWrite(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#socket.writableFinished) return resolve();
      this.#socket.end(() => this.#error ? reject(this.#error) : resolve());
    });
  }

  /** Closes both directions at once. */
  close(): void {
    this.#socket.destroy();
  }
}
