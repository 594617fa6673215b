/**
 * Reading HTTP/1.x from a byte stream: whole heads into a buffer that grows up to a limit, and
 * body bytes straight into the reader's own buffer once the buffered ones are used up.
 *
 * @module
 */

import type { Meter, Source } from "../../pipe.ts";
import { CR, headEnd, LF } from "./_bytes.ts";
import { HttpParseError } from "./head.ts";

const INITIAL_BYTES = 4096;

/**
 * A buffered reader for one side of an HTTP/1.x connection. Bytes read past a head stay buffered
 * for the body, or for the next request on the connection.
 */
export class HttpReader {
  readonly #source: Source;
  readonly #meter: Meter | undefined;
  #buffer = new Uint8Array(INITIAL_BYTES);
  #start = 0;
  #end = 0;
  #pending: Promise<number | null> | undefined;

  /**
   * @param source What to read from.
   * @param meter Counts every byte read from `source`.
   */
  constructor(source: Source, meter?: Meter) {
    this.#source = source;
    this.#meter = meter;
  }

  /** How many bytes are buffered and not yet taken. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  /**
   * Reads until a whole head is buffered, and returns it: the bytes from its first line to its
   * blank line, valid until the next read. Blank lines before it are skipped.
   *
   * @param max The most bytes a head may take.
   * @returns The head, or `null` if the stream ended before its first byte.
   * @throws {HttpParseError} 431 if the head is longer than `max`; 400 if the stream ended
   * inside it.
   */
  async readHead(max: number): Promise<Uint8Array | null> {
    let searched = 0; // bytes after #start known to hold no head end, less 3 for a split CRLFCRLF
    for (;;) {
      while (this.#start < this.#end && isNewline(this.#buffer[this.#start])) this.#start++;
      const end = headEnd(this.#buffer, this.#start + searched, this.#end);
      if (end !== -1) {
        if (end - this.#start > max) throw tooLarge(max);
        const head = this.#buffer.subarray(this.#start, end);
        this.#start = end;
        return head;
      }
      searched = Math.max(0, this.#end - this.#start - 3);
      if (this.#end - this.#start > max) throw tooLarge(max);
      this.#makeRoom(max);
      if ((await this.#fill()) === null) {
        if (this.#start === this.#end) return null;
        throw new HttpParseError(400, "The stream ended inside a head");
      }
    }
  }

  /**
   * Reads body bytes into `view`: buffered ones first, else straight from the stream.
   *
   * @returns How many bytes were read, or `null` at the end of the stream.
   */
  readInto(view: Uint8Array): Promise<number | null> | number {
    const buffered = this.#end - this.#start;
    if (buffered === 0) return this.#pending ? this.#afterPrefetch(view) : this.#read(view);
    const n = Math.min(buffered, view.length);
    view.set(this.#buffer.subarray(this.#start, this.#start + n));
    this.#start += n;
    return n;
  }

  /**
   * Reads one line, such as a chunk size, without its line ending.
   *
   * @param max The most bytes the line may take.
   * @returns The line's bytes, valid until the next read, or `null` at the end of the stream.
   * @throws {HttpParseError} 400 if it is longer than `max`.
   */
  async readLine(max: number): Promise<Uint8Array | null> {
    for (;;) {
      const at = this.#buffer.indexOf(LF, this.#start);
      if (at !== -1 && at < this.#end) {
        const from = this.#start;
        this.#start = at + 1;
        return this.#buffer.subarray(from, at > from && this.#buffer[at - 1] === CR ? at - 1 : at);
      }
      if (this.#end - this.#start > max) {
        throw new HttpParseError(400, `Cannot read a line of over ${max} bytes`);
      }
      this.#makeRoom(max);
      if ((await this.#fill()) === null) return null;
    }
  }

  /** Takes every buffered byte (for a connection that stops speaking HTTP), or none. */
  takeBuffered(): Uint8Array | undefined {
    if (this.#start === this.#end) return undefined;
    const bytes = this.#buffer.slice(this.#start, this.#end);
    this.#start = this.#end = 0;
    return bytes;
  }

  /**
   * Starts a read into the buffer while nothing is waiting for one, such as on an idle keep-alive
   * connection: it settles when the peer sends or closes, and the next read takes its result.
   *
   * @returns What the read brought: a count of bytes, `null` for the end of the stream.
   */
  prefetch(): Promise<number | null> {
    if (this.#pending) return this.#pending;
    this.#makeRoom(this.#buffer.length);
    return this.#pending = this.#read(this.#buffer.subarray(this.#end)).then((n) => {
      if (n !== null) this.#end += n;
      return n;
    });
  }

  /** Reads more into the buffer after its end; the buffer must have room. */
  #fill(): Promise<number | null> {
    const pending = this.prefetch();
    this.#pending = undefined;
    return pending;
  }

  async #afterPrefetch(view: Uint8Array): Promise<number | null> {
    if ((await this.#fill()) === null) return null;
    return this.readInto(view);
  }

  async #read(view: Uint8Array): Promise<number | null> {
    const n = await this.#source.read(view);
    if (n !== null && this.#meter) this.#meter.bytes += n;
    return n;
  }

  /** Moves the unread bytes to the front, and grows the buffer if it is full, up to `max`. */
  #makeRoom(max: number): void {
    if (this.#pending) return; // a read in flight fills the buffer where it is
    if (this.#start === this.#end) this.#start = this.#end = 0;
    if (this.#end < this.#buffer.length) return;
    const unread = this.#end - this.#start;
    const size = unread * 2 <= this.#buffer.length
      ? this.#buffer.length
      : Math.min(this.#buffer.length * 2, Math.max(max + 4, INITIAL_BYTES));
    if (size === this.#buffer.length) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
    } else {
      const next = new Uint8Array(size);
      next.set(this.#buffer.subarray(this.#start, this.#end));
      this.#buffer = next;
    }
    this.#start = 0;
    this.#end = unread;
  }
}

function isNewline(byte: number): boolean {
  return byte === CR || byte === LF;
}

function tooLarge(max: number): HttpParseError {
  return new HttpParseError(431, `Cannot read a head of over ${max} bytes`);
}
