/**
 * The black hole fault: a direction that accepts nothing more, as behind a route that drops
 * every packet.
 *
 * @module
 */

import type { SinkHook } from "../../sink_hook.ts";

/**
 * Never writes: the first chunk's write stays pending until the connection is aborted, and then
 * rejects with the abort's reason. The pipe therefore stops reading that direction, so nothing
 * reaches the other side and, once the socket buffers fill, the sender stalls, as behind a
 * black-holed route; the other direction keeps working.
 *
 * Because that direction never reads again, it never sees the sender's end of stream either: the
 * connection lasts until something aborts it, such as `timeout()`'s idle timeout, a reset fault, a
 * failed write the other way, or the server's shutdown.
 *
 * @returns A hook for one direction.
 */
export function blackhole(): SinkHook {
  return (_sink, connection) => ({
    write() {
      const { signal } = connection;
      if (signal.aborted) return Promise.reject(signal.reason);
      return new Promise<number>((_resolve, reject) => {
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    },
  });
}
