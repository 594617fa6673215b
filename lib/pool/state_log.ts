/**
 * The log lines of an upstream's changes of state: up, down, ejected, draining.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Upstream, UpstreamState } from "./upstream.ts";

const log = getLogger(["minginx", "pool"]);

/** Logs each upstream's changes of state once: a change that leaves the state as it was is not. */
export class StateLog {
  readonly #logged = new WeakMap<Upstream, UpstreamState>();

  /**
   * Logs `upstream`'s state if it is not the one last logged (at first, `up`): `info` when it is
   * up, `warn` when not.
   *
   * @param pool The pool's name.
   * @param upstream The upstream.
   * @param why What changed, e.g. `connects failed`.
   */
  log(pool: string, upstream: Upstream, why: string): void {
    // An ejection that ends while health checks hold the upstream down is not a change.
    const { state } = upstream;
    if ((this.#logged.get(upstream) ?? "up") === state) return;
    this.#logged.set(upstream, state);
    const level = state === "up" ? "info" : "warn";
    log[level]("Upstream {upstream} in pool {pool} is {state} ({why})", {
      upstream: upstream.name,
      pool,
      state,
      why,
    });
  }
}
