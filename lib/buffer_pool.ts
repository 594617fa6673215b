/**
 * Read buffers shared by every connection of a process, so a connection holds a large buffer
 * only while data is streaming through it: an idle connection keeps one small buffer per
 * direction for its pending read.
 *
 * @module
 */

import { checkWhole } from "./_util.ts";

/**
 * A free list of read buffers, by power-of-two size. Taking reuses a free buffer of that size or
 * allocates one; giving back keeps it for the next taker unless the free lists already hold
 * `maxFreeBytes`, in which case it is left to the garbage collector.
 *
 * @example Take a buffer, give it back, get the same one again
 * ```ts
 * import { BufferPool } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const pool = new BufferPool({ maxFreeBytes: 1024 * 1024 });
 * const buffer = pool.take(64 * 1024);
 * assert.equal(buffer.length, 64 * 1024);
 * pool.give(buffer);
 * assert.equal(pool.freeBytes, 64 * 1024);
 * assert.equal(pool.take(64 * 1024), buffer);
 * assert.equal(pool.freeBytes, 0);
 * ```
 */
export class BufferPool {
  /** The most bytes the free lists keep. */
  readonly maxFreeBytes: number;
  readonly #free = new Map<number, Uint8Array[]>();
  #freeBytes = 0;

  /**
   * Creates an empty pool.
   *
   * @param options How many free bytes to keep at most (default 32 MiB).
   * @throws {RangeError} If `maxFreeBytes` is negative or not a whole number.
   */
  constructor(options: { maxFreeBytes?: number } = {}) {
    const { maxFreeBytes = 32 * 1024 * 1024 } = options;
    this.maxFreeBytes = checkWhole(maxFreeBytes, "maxFreeBytes", 0, " of bytes");
  }

  /** The bytes held in the free lists now. */
  get freeBytes(): number {
    return this.#freeBytes;
  }

  /**
   * Takes a buffer of exactly `size` bytes, reused if one is free.
   *
   * @param size A power of two.
   * @returns A buffer the caller owns until it gives it back; its contents are not cleared.
   */
  take(size: number): Uint8Array {
    const buffer = this.#free.get(size)?.pop();
    if (buffer === undefined) return new Uint8Array(size);
    this.#freeBytes -= size;
    return buffer;
  }

  /**
   * Gives a buffer back. The caller must not use it afterwards.
   *
   * @param buffer A buffer from {@linkcode BufferPool.prototype.take}.
   */
  give(buffer: Uint8Array): void {
    const size = buffer.length;
    if (this.#freeBytes + size > this.maxFreeBytes) return;
    let list = this.#free.get(size);
    if (list === undefined) this.#free.set(size, list = []);
    list.push(buffer);
    this.#freeBytes += size;
  }
}

/**
 * The pool `pipe()` uses unless given another: one per process (or Worker).
 *
 * @example Free bytes are bounded
 * ```ts
 * import { sharedBufferPool } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.ok(sharedBufferPool.freeBytes <= sharedBufferPool.maxFreeBytes);
 * ```
 */
export const sharedBufferPool: BufferPool = new BufferPool();
