/**
 * The latency fault: each chunk waits a while, with optional jitter, before it is passed on.
 *
 * @module
 */

import type { SinkHook } from "../../sink_hook.ts";
import { writeAll } from "../../byte_stream.ts";
import { sleep } from "./_util.ts";

/**
 * Holds each chunk for `ms` plus or minus up to `jitter` milliseconds (uniformly, never below 0)
 * before writing it. The pipe reads again only once the chunk is written, so this also caps
 * throughput at one read buffer per delay: simple, and backpressure holds. A toxiproxy `latency`
 * toxic.
 *
 * @param ms The mean delay in milliseconds.
 * @param jitter How far a delay may stray from `ms`, in milliseconds.
 * @returns A hook for one direction.
 */
export function latency(ms: number, jitter: number): SinkHook {
  return (sink, connection) => ({
    async write(chunk) {
      const delay = jitter === 0 ? ms : Math.max(0, ms + (Math.random() * 2 - 1) * jitter);
      await sleep(delay, connection.signal);
      await writeAll(sink, chunk);
      return chunk.length;
    },
  });
}
