/**
 * The slicer fault: chunks are passed on in small pieces, with a pause between pieces.
 *
 * @module
 */

import type { SinkHook } from "../../sink_hook.ts";
import { writeAll } from "../../byte_stream.ts";
import { sleep } from "./_util.ts";

/**
 * Writes each chunk as pieces of `size` bytes (the last one of a chunk may be shorter), at least
 * `delay` milliseconds apart, also across chunks: a peer that reads fast sees many small reads, as
 * behind a link with a small MTU or a sender that flushes often. A toxiproxy `slicer` toxic,
 * without its size variation.
 *
 * @param size Bytes per piece, at least 1.
 * @param delay Milliseconds between the start of one piece's write and the next; 0 for none.
 * @returns A hook for one direction.
 */
export function slicer(size: number, delay: number): SinkHook {
  return (sink, connection) => {
    let next = 0; // when the next piece may go, on performance.now()'s clock
    return {
      async write(chunk) {
        for (let start = 0; start < chunk.length;) {
          if (delay > 0) {
            await sleep(next - performance.now(), connection.signal);
            next = performance.now() + delay;
          }
          const end = Math.min(chunk.length, start + size);
          await writeAll(sink, chunk.subarray(start, end));
          start = end;
        }
        return chunk.length;
      },
    };
  };
}
