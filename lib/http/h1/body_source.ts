/**
 * A body as it arrives: a byte stream that reads exactly what the framing says (a length, chunks,
 * or everything until the peer closes) straight into its reader's buffer, and no further.
 *
 * @module
 */

import { HttpParseError } from "./head.ts";
import { HTAB, SP } from "./_bytes.ts";
import type { HttpReader } from "./reader.ts";
import { quoteText } from "../../_util.ts";

/** How a body is delimited: a byte count, chunked transfer coding, or the end of the stream. */
export type BodyLength = number | "chunked" | "close";

/** Raised when a body outgrows its limit: the server answers 413 if it still can. */
export class BodyTooLargeError extends Error {
  /** The limit, in bytes. */
  readonly limit: number;

  /** @param limit The limit, in bytes. */
  constructor(limit: number) {
    super(`The body is larger than ${limit} bytes`);
    this.name = "BodyTooLargeError";
    this.limit = limit;
  }
}

/** Options for {@linkcode BodySource}. */
export interface BodySourceOptions {
  /** The most bytes of body to read; more fails the stream with {@linkcode BodyTooLargeError}. */
  maxBytes?: number;
  /** Called before the first read, such as to send `100 Continue`. */
  beforeFirstRead?: () => Promise<void>;
  /** What the stream ended early by; it names who stopped sending. */
  peer: string;
}

const CHUNK_BYTES = 64 * 1024;
const MAX_LINE = 4096;
const utf8 = new TextDecoder();
const sources = new WeakMap<ReadableStream<Uint8Array>, BodySource>();

/**
 * The source behind a body stream, if it is one and nothing has read the stream yet: then a copy
 * can read the source straight into its own buffer, and skip the stream.
 */
export function sourceOf(stream: ReadableStream<Uint8Array>): BodySource | undefined {
  const source = sources.get(stream);
  return source && !source.streamed && !stream.locked ? source : undefined;
}

/**
 * One body's bytes, as a readable byte stream: a BYOB reader gets them in its own buffer, any
 * other reader in chunks of up to 64 KiB. `finished` says whether the whole body was read, so
 * that the connection can carry the next message.
 */
export class BodySource {
  /** The body. */
  readonly stream: ReadableStream<Uint8Array>;
  /** Resolves `true` once the whole body has been read, `false` if it failed or was cancelled. */
  readonly finished: Promise<boolean>;
  /** The error that failed the body, once one has. */
  error: unknown;
  /** Bytes of body read so far, framing excluded. */
  bytes = 0;
  readonly #reader: HttpReader;
  readonly #max: number;
  readonly #options: BodySourceOptions;
  #remaining: number;
  readonly #chunked: boolean;
  #needCrlf = false;
  #resolve!: (clean: boolean) => void;
  #done = false;
  /** Whether its stream has been read from: then only the stream may go on reading it. */
  streamed = false;

  /**
   * @param reader Where the body's bytes come from.
   * @param length How the body is delimited.
   * @param options Its limit, and what to do first.
   */
  constructor(reader: HttpReader, length: BodyLength, options: BodySourceOptions) {
    this.#reader = reader;
    this.#options = options;
    this.#max = options.maxBytes ?? Infinity;
    this.#chunked = length === "chunked";
    this.#remaining = typeof length === "number" ? length : this.#chunked ? 0 : Infinity;
    this.finished = new Promise((resolve) => this.#resolve = resolve);
    this.stream = new ReadableStream({
      type: "bytes",
      autoAllocateChunkSize: CHUNK_BYTES,
      pull: (controller) => this.#pull(controller),
      cancel: () => this.#settle(false),
    }, { highWaterMark: 0 });
    sources.set(this.stream, this);
  }

  #settle(clean: boolean): void {
    this.#done ||= clean;
    this.#resolve(clean);
  }

  /**
   * Reads the next bytes of the body into `view`, without a stream: what a copy of a body nobody
   * else has read does (see {@linkcode sourceOf}).
   *
   * @returns How many bytes, or `null` once the body has ended.
   * @throws {BodyTooLargeError} Past the limit; an `Error` if the peer closed inside the body;
   * an {@linkcode HttpParseError} for malformed chunks.
   */
  async read(view: Uint8Array): Promise<number | null> {
    try {
      if (this.#options.beforeFirstRead) {
        const first = this.#options.beforeFirstRead;
        this.#options.beforeFirstRead = undefined;
        await first();
      }
      if (this.#remaining === 0 && (!this.#chunked || !(await this.#nextChunk()))) {
        this.#settle(true);
        return null;
      }
      const want = Math.min(view.byteLength, this.#remaining);
      const n = await this.#reader.readInto(
        want === view.byteLength ? view : view.subarray(0, want),
      );
      if (n === null) {
        if (this.#remaining !== Infinity) throw this.#ended();
        this.#settle(true);
        return null;
      }
      this.#remaining -= n;
      this.bytes += n;
      if (this.bytes > this.#max) throw new BodyTooLargeError(this.#max);
      if (this.#remaining === 0 && !this.#chunked) this.#settle(true);
      return n;
    } catch (error) {
      this.error = error;
      this.#settle(false);
      throw error;
    }
  }

  /** Gives up on the body, as a cancel of its stream does: the connection cannot carry more. */
  abandon(): void {
    this.#settle(false);
  }

  /** Whether the whole body has been read. */
  get done(): boolean {
    return this.#done;
  }

  async #pull(controller: ReadableByteStreamController): Promise<void> {
    this.streamed = true;
    const request = controller.byobRequest!;
    let n: number | null;
    try {
      n = await this.read(request.view as Uint8Array);
    } catch (error) {
      controller.error(error);
      return;
    }
    if (n === null) {
      controller.close();
      request.respond(0);
      return;
    }
    request.respond(n);
    if (this.#done) controller.close();
  }

  /** Reads the next chunk's size line; returns false after the last chunk and its trailers. */
  async #nextChunk(): Promise<boolean> {
    if (this.#needCrlf) {
      const end = await this.#reader.readLine(MAX_LINE);
      if (end === null) throw this.#ended();
      if (end.length !== 0) throw new HttpParseError(400, "Cannot parse a chunk: expected CRLF");
    }
    const line = await this.#reader.readLine(MAX_LINE);
    if (line === null) throw this.#ended();
    const size = chunkSize(line);
    if (size === undefined) {
      throw new HttpParseError(
        400,
        `Cannot parse chunk size "${quoteText(utf8.decode(line))}": expected hex digits`,
      );
    }
    this.#remaining = size;
    this.#needCrlf = true;
    if (this.#remaining > 0) return true;
    for (let trailers = 0;; trailers++) { // trailer fields are read and dropped
      const trailer = await this.#reader.readLine(MAX_LINE);
      if (trailer === null) throw this.#ended();
      if (trailer.length === 0) return false;
      if (trailers > 100) throw new HttpParseError(400, "Cannot read over 100 trailer fields");
    }
  }

  #ended(): Error {
    return new Error(`The ${this.#options.peer} closed the connection inside a body`);
  }
}

/**
 * A chunk-size line's size: 1 to 15 hex digits, then optional spaces or tabs, then nothing or a
 * `;` and extensions (ignored). Read from the bytes, with nothing made per chunk.
 */
function chunkSize(line: Uint8Array): number | undefined {
  let size = 0;
  let i = 0;
  for (; i < line.length && i < 16; i++) {
    const digit = HEX_DIGITS[line[i]];
    if (digit === 255) break;
    size = size * 16 + digit;
  }
  if (i === 0 || i > 15) return undefined;
  while (i < line.length && (line[i] === SP || line[i] === HTAB)) i++;
  return i === line.length || line[i] === SEMICOLON ? size : undefined;
}

const SEMICOLON = 0x3b;
/** Each byte's value as a hex digit, or 255. */
const HEX_DIGITS = (() => {
  const table = new Uint8Array(256).fill(255);
  for (let d = 0; d < 16; d++) {
    table["0123456789abcdef".charCodeAt(d)] = d;
    table["0123456789ABCDEF".charCodeAt(d)] = d;
  }
  return table;
})();
