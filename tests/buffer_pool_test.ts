import assert from "node:assert/strict";
import {
  BufferPool,
  INITIAL_BUFFER_BYTES,
  MAX_BUFFER_BYTES,
  pipe,
  type Sink,
  type Source,
} from "../mod.ts";
import { randomBytes, sha256 } from "./_helpers.ts";

const KiB = 1024;

/** A source that serves `sizes[i]` bytes on read i (capped at the buffer), recording buffer sizes. */
function scriptedSource(data: Uint8Array, sizes: number[]): Source & { bufferSizes: number[] } {
  let offset = 0;
  let call = 0;
  const bufferSizes: number[] = [];
  return {
    bufferSizes,
    read(buffer) {
      bufferSizes.push(buffer.length);
      if (offset === data.length) return Promise.resolve(null);
      const n = Math.min(sizes[call++] ?? buffer.length, buffer.length, data.length - offset);
      buffer.set(data.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}

function collectingSink(): Sink & { chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = [];
  return {
    chunks,
    write(bytes) {
      chunks.push(bytes.slice());
      return Promise.resolve(bytes.length);
    },
  };
}

Deno.test("pipe() doubles its buffer while reads fill it, then drops to the smallest after a trickle", async () => {
  const full = 255 * KiB; // 1 + 2 + ... + 128 KiB: eight reads that each fill the buffer
  const data = randomBytes(full + 10, 1);
  const source = scriptedSource(data, [...Array(8).fill(Infinity), 10]);
  const sink = collectingSink();
  const pool = new BufferPool();
  const meter = { bytes: 0 };
  await pipe(source, sink, meter, pool);

  assert.deepEqual(
    source.bufferSizes,
    [1, 2, 4, 8, 16, 32, 64, 128, 256, 1].map((k) => k * KiB),
    "one read per size while reads fill the buffer, then the smallest again after a 10-byte read",
  );
  assert.equal(meter.bytes, data.length);
  const received = new Uint8Array(meter.bytes);
  let at = 0;
  for (const chunk of sink.chunks) {
    received.set(chunk, at);
    at += chunk.length;
  }
  assert.equal(sha256(received), sha256(data));
  // Every buffer went back: the nine sizes from 1 to 256 KiB, once each.
  assert.equal(pool.freeBytes, 511 * KiB);
});

Deno.test("pipe() keeps a large buffer while reads bring more than a quarter of it", async () => {
  const data = randomBytes(7 * KiB + 6 * 3 * KiB, 2);
  // Fill 1, 2, 4 KiB, then 3 KiB reads into the 8 KiB buffer: more than a quarter, so it stays.
  const source = scriptedSource(data, [Infinity, Infinity, Infinity, ...Array(6).fill(3 * KiB)]);
  const pool = new BufferPool();
  await pipe(source, collectingSink(), { bytes: 0 }, pool);
  assert.deepEqual(source.bufferSizes.slice(3), Array(7).fill(8 * KiB));
});

Deno.test("pipe() never reads into more than MAX_BUFFER_BYTES", async () => {
  const data = randomBytes(4 * MAX_BUFFER_BYTES, 3);
  const source = scriptedSource(data, []);
  await pipe(source, collectingSink(), { bytes: 0 }, new BufferPool());
  assert.equal(Math.max(...source.bufferSizes), MAX_BUFFER_BYTES);
  assert.equal(source.bufferSizes[0], INITIAL_BUFFER_BYTES);
});

Deno.test("BufferPool keeps at most maxFreeBytes and reuses what it keeps", () => {
  const pool = new BufferPool({ maxFreeBytes: 3 * KiB });
  const a = pool.take(2 * KiB);
  const b = pool.take(2 * KiB);
  pool.give(a);
  pool.give(b); // over the bound: dropped
  assert.equal(pool.freeBytes, 2 * KiB);
  assert.equal(pool.take(2 * KiB), a);
  assert.notEqual(pool.take(2 * KiB), b);
  assert.throws(() => new BufferPool({ maxFreeBytes: -1 }), /Cannot use maxFreeBytes -1/);
});
