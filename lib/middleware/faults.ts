/**
 * The Faults middleware: fault injection for testing how other systems cope with a bad network,
 * like toxiproxy's toxics. Per direction: latency with jitter, a bandwidth cap, slicing into small
 * pieces, a reset after so many bytes or so much time, and a black hole; each with a probability.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { formatDuration } from "../duration.ts";
import { ConnectionError, type ConnectionReport } from "../report.ts";
import type { Layer } from "../service.ts";
import { planOf } from "./faults/plan.ts";
import { resetAfterTime } from "./faults/reset.ts";

/**
 * Ends a connection on purpose, as an injected fault (`fault`).
 *
 * @example Its reason and message
 * ```ts
 * import { FaultError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const error = new FaultError("Reset after 1024 bytes upstream, as a fault");
 * assert.equal(error.reason, "fault");
 * assert.equal(error.name, "FaultError");
 * ```
 */
export class FaultError extends ConnectionError {
  /**
   * Creates the error a fault ends a connection with.
   *
   * @param message What the fault did, for the log.
   */
  constructor(message: string) {
    super("fault", message);
    this.name = "FaultError";
  }
}

/**
 * Which way a fault acts, as toxiproxy names it: `upstream` is the bytes from the client to the
 * upstream, `downstream` the bytes from the upstream back to the client.
 *
 * @example Slow down only the replies
 * ```ts
 * import type { FaultDirection } from "@minginx/minginx";
 *
 * const direction: FaultDirection = "downstream";
 * ```
 */
export type FaultDirection = "upstream" | "downstream";

/**
 * One fault for {@linkcode faults}: a direction and what to do to it. Durations are in whole
 * milliseconds, sizes in bytes. Several fields combine: they act in the order reset after bytes,
 * latency, slicing, bandwidth (`blackhole` overrides them all), so `latency` and `bandwidth`
 * together delay each chunk and then cap its rate.
 *
 * @example Half of all connections get a slow, jittery uplink
 * ```ts
 * import { faults, type FaultOptions } from "@minginx/minginx";
 *
 * const slowUplink: FaultOptions = {
 *   direction: "upstream",
 *   probability: 0.5,
 *   latency: 100,
 *   jitter: 20,
 *   bandwidth: 64_000,
 * };
 * const layer = faults([slowUplink]);
 * ```
 */
export interface FaultOptions {
  /** Which bytes the fault acts on. */
  direction: FaultDirection;
  /**
   * The chance, from 0 to 1, that a connection gets this fault, decided once when it arrives.
   *
   * @default {1}
   */
  probability?: number;
  /**
   * How long each chunk is held before it is passed on. The next read waits for it, so this
   * also caps throughput at one read buffer per delay.
   *
   * @default {0}
   */
  latency?: number;
  /**
   * How far each chunk's delay may stray from `latency`, either way, chosen uniformly; a delay is
   * never below 0.
   *
   * @default {0}
   */
  jitter?: number;
  /**
   * A cap on the rate, in bytes per second, at least 1.
   *
   * @default {undefined} no cap
   */
  bandwidth?: number;
  /**
   * Pass chunks on in pieces of this many bytes, at least 1.
   *
   * @default {undefined} whole chunks
   */
  slice?: number;
  /**
   * Milliseconds between two pieces of `slice`; needs `slice`.
   *
   * @default {0}
   */
  sliceDelay?: number;
  /**
   * Let this many bytes through in this direction, then reset the connection.
   *
   * @default {undefined} never
   */
  resetAfterBytes?: number;
  /**
   * Reset the connection this many milliseconds after the upstream connects.
   *
   * @default {undefined} never
   */
  resetAfter?: number;
  /**
   * Pass nothing on in this direction: the first chunk's write never completes, so reading stops
   * and the sender stalls once the socket buffers fill. The connection then lasts until something
   * aborts it, such as `resetAfter` (together they make toxiproxy's `timeout` toxic), `timeout()`'s
   * idle timeout or the server's shutdown. Of this fault's other fields, only `resetAfter` and
   * `probability` then have an effect.
   *
   * @default {false}
   */
  blackhole?: boolean;
}

/**
 * The Faults layer: injects the given faults into the connections that pass through it. Each
 * fault is drawn once per connection with its probability; a connection that draws none gets no
 * hook at all, so its bytes go straight to the sockets, and an empty list returns the inner
 * service itself. Every wait ends when the connection is aborted, and a reset-after timer is
 * cleared when the connection ends, so a fault never delays a report or leaves a timer behind.
 *
 * A "reset" closes both sockets with a {@linkcode FaultError}: Deno cannot set `SO_LINGER` to 0,
 * so the kernel sends a reset (RST) to a peer whose bytes were left unread, and an end of stream
 * (FIN) otherwise.
 *
 * @param list The faults, in order: the first one's hooks sit closest to the reading side.
 * @returns The layer.
 * @throws {TypeError} If a direction is unknown, a fault has nothing to inject, or `sliceDelay`
 * comes without `slice`.
 * @throws {RangeError} If a number is out of range, named with its field and value.
 *
 * @example Add 50 ms of latency to the bytes going upstream
 * ```ts
 * import { faults, forward, serve, ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const service = new ServiceBuilder()
 *   .layer(faults([{ direction: "upstream", latency: 50 }]))
 *   .service(forward({ upstreams: [upstream.addr] }));
 * await using proxy = serve({ listen: "127.0.0.1:0", service });
 *
 * using client = await Deno.connect(proxy.address);
 * using accepted = await upstream.accept();
 * const sent = performance.now();
 * await client.write(new Uint8Array([42]));
 * assert.equal(await accepted.read(new Uint8Array(1)), 1);
 * assert.ok(performance.now() - sent >= 45);
 * ```
 */
export function faults(list: readonly FaultOptions[]): Layer<Connection, ConnectionReport> {
  const plans = list.map((options) => planOf(options, (message) => new FaultError(message)));
  if (plans.length === 0) return (inner) => inner;
  return (inner) =>
    function faults(connection: Connection): Promise<ConnectionReport> {
      let cancels: (() => void)[] | undefined;
      for (const plan of plans) {
        if (plan.probability < 1 && !(Math.random() < plan.probability)) continue;
        for (const hook of plan.hooks) connection.intercept(plan.way, hook);
        if (plan.resetAfter !== undefined) {
          const ms = plan.resetAfter;
          const fault = () =>
            new FaultError(`Reset ${formatDuration(ms)} after connecting, as a fault`);
          (cancels ??= []).push(resetAfterTime(connection, ms, fault));
        }
      }
      if (cancels === undefined) return inner(connection);
      return withCancels(inner(connection), cancels);
    };
}

async function withCancels(
  report: Promise<ConnectionReport>,
  cancels: (() => void)[],
): Promise<ConnectionReport> {
  try {
    return await report;
  } finally {
    for (const cancel of cancels) cancel();
  }
}
