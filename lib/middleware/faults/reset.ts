/**
 * The reset faults: end a connection after so many bytes in one direction, or so long after the
 * upstream connected.
 *
 * Deno cannot set `SO_LINGER` to 0, so a "reset" closes both sockets: the kernel sends a reset
 * (RST) to a peer whose bytes the proxy has not read yet, and an orderly end of stream (FIN)
 * otherwise. Either way the report's reason is `fault`.
 *
 * @module
 */

import type { Connection } from "../../connection.ts";
import type { SinkHook } from "../../sink_hook.ts";
import { writeAll } from "../../byte_stream.ts";

/**
 * Lets exactly `limit` bytes through in one direction, then aborts the connection with the error
 * `fault()` makes. The chunk that reaches the limit is cut there: its write takes the bytes up to
 * the limit (which the pipe counts, so the report says exactly `limit`), and the write of the rest
 * rejects with the error, which ends the pipe.
 *
 * @param limit How many bytes to let through; 0 resets on the first chunk.
 * @param fault Makes the error the connection is aborted with.
 * @returns A hook for one direction.
 */
export function resetAfterBytes(limit: number, fault: () => Error): SinkHook {
  return (sink, connection) => {
    let left = limit;
    return {
      async write(chunk) {
        if (left === 0) {
          connection.abort(fault()); // does nothing if the limit's last write already did
          throw connection.signal.reason;
        }
        const take = Math.min(left, chunk.length);
        await writeAll(sink, take === chunk.length ? chunk : chunk.subarray(0, take));
        left -= take;
        if (left === 0) connection.abort(fault());
        return take;
      },
    };
  };
}

/**
 * Aborts the connection with the error `fault()` makes, `ms` milliseconds after its upstream
 * connects. The timer starts only once `connection.connected` resolves.
 *
 * @param connection The connection to reset.
 * @param ms How long after the connect.
 * @param fault Makes the error the connection is aborted with.
 * @returns A function that cancels the reset and clears its timer; call it when the connection
 * ends, whether or not the timer has fired.
 */
export function resetAfterTime(connection: Connection, ms: number, fault: () => Error): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let cancelled = false;
  connection.connected.then(() => {
    if (!cancelled) timer = setTimeout(() => connection.abort(fault()), ms);
  });
  return () => {
    cancelled = true;
    clearTimeout(timer);
  };
}
