/**
 * Deadlines for connect tries, checked by one interval timer per timeout value instead of a timer
 * (and an `AbortSignal.any`) per try: at thousands of new connections a second, a timer per try
 * costs several microseconds each and keeps a timer pending for the whole timeout.
 *
 * @module
 */

interface Try {
  controller: AbortController;
  expires: number;
  parent: AbortSignal;
}

/** The tries running under one timeout value. */
class Deadlines {
  readonly #timeoutMs: number;
  readonly #periodMs: number;
  readonly #tries = new Set<Try>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
    this.#periodMs = Math.max(5, Math.floor(timeoutMs / 20));
  }

  start(parent: AbortSignal): Try {
    const controller = new AbortController();
    const attempt = { controller, expires: performance.now() + this.#timeoutMs, parent };
    this.#tries.add(attempt);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#periodMs);
      // Pending connects keep the process alive; this timer need not.
      Deno.unrefTimer(this.#timer);
    }
    return attempt;
  }

  end(attempt: Try): void {
    this.#tries.delete(attempt);
  }

  #sweep(): void {
    // Stopped by the first sweep that finds nothing to watch, not by the last try to end: most
    // tries end within milliseconds, and a timer started and cleared per try costs ~10 µs.
    if (this.#tries.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    for (const { controller, expires, parent } of this.#tries) {
      // A connection aborted meanwhile (its deadline, a shutdown) stops its try at the next sweep:
      // a listener on its signal per try would cost more than the wait, as the connection has
      // closed its client already and will close whatever socket the try still brings.
      if (parent.aborted) controller.abort(parent.reason);
      else if (expires <= now) controller.abort(new DOMException("", "TimeoutError"));
    }
  }
}

const byTimeout = new Map<number, Deadlines>();

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
  let deadlines = byTimeout.get(timeoutMs);
  if (!deadlines) byTimeout.set(timeoutMs, deadlines = new Deadlines(timeoutMs));
  const attempt = deadlines.start(parent);
  try {
    return await run(attempt.controller.signal);
  } finally {
    deadlines.end(attempt);
  }
}
