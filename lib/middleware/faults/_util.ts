/**
 * Private helpers shared by the fault hooks: a sleep that ends when the connection is aborted,
 * and a write that keeps going until a sink has taken every byte. Not exported from mod.ts.
 *
 * @module
 */

/**
 * Waits `ms` milliseconds, or less if `signal` aborts first: then it rejects with the signal's
 * reason and clears its timer, so a closed connection's report is not held up and no timer is
 * left behind.
 *
 * @param ms How long to wait; 0 or less resolves at once.
 * @param signal The connection's signal.
 * @returns A promise that resolves after `ms`.
 * @throws The signal's reason, if it aborts first or has already aborted.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", aborted);
      resolve();
    }, ms);
    function aborted() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener("abort", aborted, { once: true });
  });
}
