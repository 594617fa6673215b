/**
 * The bandwidth fault: a cap on the bytes per second one direction of a connection may carry.
 *
 * @module
 */

import type { SinkHook } from "../../sink_hook.ts";
import { writeAll } from "../../byte_stream.ts";
import { sleep } from "./_util.ts";

/** How much traffic one piece carries: 50 ms of it, so the rate is smooth at that scale. */
const PIECE_MS = 50;

/**
 * Caps a direction at `bytesPerSecond`. Each chunk is written in pieces of 50 ms of traffic; a
 * per-connection schedule records when the link is free again, and each piece waits for that
 * time, so the average rate stays at the cap whatever the chunk sizes. Time spent idle earns no
 * credit: a burst after a pause is capped too. A toxiproxy `bandwidth` toxic.
 *
 * @param bytesPerSecond The cap, at least 1.
 * @returns A hook for one direction.
 */
export function bandwidth(bytesPerSecond: number): SinkHook {
  const msPerByte = 1_000 / bytesPerSecond;
  const piece = Math.max(1, Math.floor(bytesPerSecond * PIECE_MS / 1_000));
  return (sink, connection) => {
    let free = 0; // when the link can take the next byte, on performance.now()'s clock
    return {
      async write(chunk) {
        for (let start = 0; start < chunk.length;) {
          const wait = free - performance.now();
          if (wait >= 1) await sleep(wait, connection.signal);
          else if (wait < 0) free = performance.now();
          const end = Math.min(chunk.length, start + piece);
          await writeAll(sink, chunk.subarray(start, end));
          free += (end - start) * msPerByte;
          start = end;
        }
        return chunk.length;
      },
    };
  };
}
