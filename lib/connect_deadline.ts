/**
 * Deadlines for connect tries, checked by one {@linkcode Sweeper} per timeout value instead of a
 * timer (and an `AbortSignal.any`) per try: at thousands of new connections a second, a timer per
 * try costs several microseconds each and keeps a timer pending for the whole timeout.
 *
 * @module
 */

import { Sweeper, type Timed } from "./_sweeper.ts";

/** One try: its own signal, aborted at its deadline or once its connection's has aborted. */
class Try implements Timed {
  readonly controller = new AbortController();
  expires = 0;
  /**
   * A connection aborted meanwhile (its deadline, a shutdown) stops its try at the next sweep: a
   * listener on its signal per try would cost more than the wait, as the connection has closed
   * its client already and will close whatever socket the try still brings.
   */
  readonly watch: AbortSignal;

  constructor(parent: AbortSignal) {
    this.watch = parent;
  }

  fire(reason?: unknown): void {
    this.controller.abort(reason ?? new DOMException("", "TimeoutError"));
  }
}

const byTimeout = new Map<number, Sweeper>();

/**
 * Runs `run` with a signal that aborts when `parent` has aborted or `timeoutMs` has passed,
 * whichever is first, noticed within a twentieth of `timeoutMs`.
 *
 * @param parent The connection's signal.
 * @param timeoutMs The try's timeout; above 0.
 * @param run The try.
 * @returns What `run` returns.
 */
export async function withDeadline<T>(
  parent: AbortSignal,
  timeoutMs: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  let sweeper = byTimeout.get(timeoutMs);
  if (!sweeper) byTimeout.set(timeoutMs, sweeper = new Sweeper(timeoutMs));
  const attempt = new Try(parent);
  sweeper.add(attempt);
  try {
    return await run(attempt.controller.signal);
  } finally {
    sweeper.delete(attempt);
  }
}
