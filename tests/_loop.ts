/**
 * A client loop: clients that connect back to back, each echoing bytes checked by hash, until
 * stopped. The failover and reload tests run one while they break or change things.
 */

import type { Address } from "../mod.ts";
import { echoes } from "./_echo.ts";

/** A running client loop. */
export interface ClientLoop {
  /** Connections echoed byte for byte so far. */
  readonly done: number;
  /** Connections that failed, with when they started (`performance.now()`). */
  readonly errors: { startedAt: number; error: unknown }[];
  /** Stops starting connections and waits for those under way. */
  stop(): Promise<void>;
}

/**
 * Starts `loops` clients against `address`, each echoing `size` seeded bytes per connection.
 *
 * @param address Where to connect.
 * @param loops How many clients run at once.
 * @param size Bytes each connection sends and checks.
 * @param pauseMs How long each client waits between its connections.
 * @returns The loop.
 */
export function clientLoop(
  address: Address,
  loops: number,
  size = 2_048,
  pauseMs = 0,
): ClientLoop {
  let stopped = false;
  let done = 0;
  const errors: ClientLoop["errors"] = [];
  const running = Promise.all(Array.from({ length: loops }, async (_, loop) => {
    for (let i = 0; !stopped; i++) {
      const startedAt = performance.now();
      try {
        using client = await Deno.connect(address);
        await echoes(client, size, loop * 1_000_000 + i);
        done++;
      } catch (error) {
        errors.push({ startedAt, error });
      }
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }));
  return {
    get done() {
      return done;
    },
    errors,
    async stop() {
      stopped = true;
      await running;
    },
  };
}
