/**
 * The hook for layers that must see a connection's bytes, such as fault injection: a wrapper
 * around the sink one direction writes to.
 *
 * @module
 */

import type { Connection } from "./connection.ts";
import type { Sink } from "./pipe.ts";

/** Which way bytes travel: `up` from the client to the upstream, `down` from the upstream back. */
export type Direction = "up" | "down";

/**
 * Wraps the sink one direction of a connection writes to: the hook for layers that must see the
 * bytes, such as fault injection. The pipe calls the returned sink's `write(chunk)` once per chunk
 * read and reads again only when it settles, so backpressure holds; the chunk's buffer is reused
 * after that, so a hook that keeps bytes must copy them. `write` resolves with how many bytes of
 * the chunk it took (the pipe writes the rest again). A hook should stop waiting when
 * `connection.signal` aborts. With no hook the pipe writes straight to the socket.
 *
 * @example A hook that counts writes to the upstream
 * ```ts
 * import type { Layer, SinkHook } from "@minginx/minginx";
 *
 * let writes = 0;
 * const countWrites: SinkHook = (sink) => ({
 *   write(chunk) {
 *     writes++;
 *     return sink.write(chunk);
 *   },
 * });
 * const layer: Layer = (inner) => (connection) => {
 *   connection.intercept("up", countWrites);
 *   return inner(connection);
 * };
 * ```
 */
export type SinkHook = (sink: Sink, connection: Connection) => Sink;
