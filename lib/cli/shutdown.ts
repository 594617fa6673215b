/**
 * Stopping on a signal: the drain after the first SIGINT or SIGTERM, its progress lines, and the
 * fast exit on a second.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { formatDuration } from "../duration.ts";
import type { Proxies } from "./proxies.ts";
import type { WorkerStats } from "./worker_protocol.ts";

/** The signals that stop the proxy. */
export const SIGNALS = ["SIGINT", "SIGTERM"] as const;
/** While draining, the most often a progress line is logged. */
const PROGRESS_MS = 1_000;
/** While draining, how often a progress line is logged when the count has not changed. */
const REMINDER_MS = 5_000;

/**
 * A stop, from the first signal to the last connection: the first SIGINT or SIGTERM stops
 * accepting and gives open connections the drain time to finish, the proxies close those still
 * open then (reason `shutdown`), and a second signal closes them at once. While connections
 * remain, a progress line is logged when their count changes, at most once a second, and every
 * few seconds otherwise; {@linkcode Shutdown.prototype.finished} logs how it ended.
 */
export class Shutdown {
  readonly #proxies: Proxies;
  readonly #drain: number | (() => number);
  readonly #log = getLogger(["minginx"]);
  #signals = 0;
  #startedAt = 0;
  /** The first signal's work: how many connections were open when it came. */
  #begun: Promise<number> = Promise.resolve(0);
  /** The second signal's work. */
  #hurried: Promise<void> = Promise.resolve();
  #progress: ReturnType<typeof setTimeout> | undefined;
  #lastLine = { open: 0, at: 0 };
  #over = false;

  /**
   * @param proxies What to stop.
   * @param drain How long open connections get after the first signal, in ms; 0 closes them at
   * once. A function is asked when the signal comes, so a reloaded config's value counts.
   */
  constructor(proxies: Proxies, drain: number | (() => number)) {
    this.#proxies = proxies;
    this.#drain = drain;
  }

  /** Whether a signal has come: the proxies accept no new connections and drain. */
  get draining(): boolean {
    return this.#signals > 0;
  }

  /** The handler for SIGINT and SIGTERM. */
  readonly onSignal = (): void => {
    this.#signals++;
    if (this.#signals === 1) this.#begun = this.#begin();
    if (this.#signals === 2) this.#hurried = this.#hurry();
  };

  /** Logs how the stop ended; call it once the proxies have finished. */
  async finished(): Promise<void> {
    this.#over = true;
    clearTimeout(this.#progress);
    const openAtStart = await this.#begun;
    await this.#hurried;
    const closed = sum(await this.#proxies.stats(), "closedByShutdown");
    if (closed > 0) {
      const how = this.#signals > 1
        ? "at once on a second signal"
        : this.#drainMs === 0
        ? "at once, as --drain-timeout is 0"
        : `still open after ${formatDuration(this.#drainMs)}`;
      this.#log.info("Closed {connections} {how} (shutdown)", {
        connections: plural(closed, "connection"),
        how,
        closed,
      });
    } else if (openAtStart > 0) {
      const ms = performance.now() - this.#startedAt;
      this.#log.info("Drained: all connections finished in {elapsed}", {
        elapsed: `${(ms / 1_000).toFixed(1)}s`,
        elapsedMs: Math.round(ms),
      });
    }
  }

  get #drainMs(): number {
    return typeof this.#drain === "number" ? this.#drain : this.#drain();
  }

  async #begin(): Promise<number> {
    this.#startedAt = performance.now();
    this.#proxies.shutdown(this.#drainMs);
    const open = sum(await this.#proxies.stats(), "open");
    if (this.#drainMs === 0) {
      this.#log.info("Stopping: no new connections; closing {open} open at once", { open });
    } else {
      this.#log.info("Stopping: no new connections; {open} open get {drain} to finish", {
        open,
        drain: formatDuration(this.#drainMs),
      });
      this.#lastLine = { open, at: performance.now() };
      this.#scheduleProgress();
    }
    return open;
  }

  async #hurry(): Promise<void> {
    clearTimeout(this.#progress);
    this.#proxies.shutdown(0);
    const open = sum(await this.#proxies.stats(), "open");
    this.#log.warning("Stopping now: closing {open} open connections", { open });
  }

  #scheduleProgress(): void {
    if (this.#over || this.#signals > 1) return;
    this.#progress = setTimeout(() => this.#reportProgress(), PROGRESS_MS);
  }

  async #reportProgress(): Promise<void> {
    const open = sum(await this.#proxies.stats(), "open");
    if (this.#over || this.#signals > 1) return;
    const now = performance.now();
    const left = this.#startedAt + this.#drainMs - now;
    const due = open !== this.#lastLine.open || now - this.#lastLine.at >= REMINDER_MS;
    if (open > 0 && left > 0 && due) {
      this.#log.info("Draining: {connections} left; any still open in {left} will be closed", {
        connections: plural(open, "connection"),
        left: formatDuration(Math.ceil(left / 1_000) * 1_000),
        open,
      });
      this.#lastLine = { open, at: now };
    }
    this.#scheduleProgress();
  }
}

function sum(stats: WorkerStats[], counter: "open" | "closedByShutdown"): number {
  return stats.reduce((total, worker) => total + worker[counter], 0);
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
