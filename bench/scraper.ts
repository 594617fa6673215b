/**
 * A Prometheus stand-in for `minginx-metrics`: GETs the admin API's `/metrics` once a second
 * while the proxy runs and throws the body away. Prometheus scrapes every 15 to 60 s; once a
 * second is the conservative case. The proxy's CPU time includes serving the scrapes, which is
 * the honest cost of having metrics on.
 *
 * @module
 */

import type { RunningProxy } from "./proxies.ts";

/** How often the scraper GETs `/metrics`, in milliseconds. */
export const SCRAPE_INTERVAL_MS = 1000;
// How long the first scrape may take to succeed: the admin API may listen after the proxy.
const FIRST_SCRAPE_TIMEOUT_MS = 15_000;

/** A running scraper. */
export interface Scraper {
  /**
   * Stops scraping, cancelling a scrape under way.
   *
   * @throws {Error} If a scrape failed while it ran, with how many and the first error.
   */
  stop(): Promise<void>;
}

/**
 * Scrapes `url` once at once (retrying until it succeeds), then every `intervalMs` until
 * stopped; each body is read to the end and dropped.
 *
 * @param url The admin API's `/metrics`.
 * @param intervalMs The time between the starts of two scrapes.
 * @returns The running scraper.
 * @throws {Error} If the first scrape does not succeed within 15 s.
 */
export async function startScraper(url: string, intervalMs = SCRAPE_INTERVAL_MS): Promise<Scraper> {
  const stopping = new AbortController();
  const { signal } = stopping;
  const deadline = performance.now() + FIRST_SCRAPE_TIMEOUT_MS;
  for (;;) {
    try {
      await scrape(url, signal);
      break;
    } catch (error) {
      if (performance.now() > deadline) {
        throw new Error(`Cannot scrape ${url} within ${FIRST_SCRAPE_TIMEOUT_MS} ms: ${error}`);
      }
      await sleep(50, signal);
    }
  }
  let scrapes = 1;
  const errors: string[] = [];
  const loop = (async () => {
    // Late timers (a busy benchmark process) delay the next scrape rather than bunch them up.
    let last = performance.now();
    for (;;) {
      await sleep(last + intervalMs - performance.now(), signal);
      if (signal.aborted) break;
      last = performance.now();
      try {
        await scrape(url, signal);
        scrapes++;
      } catch (error) {
        if (!signal.aborted) errors.push(error instanceof Error ? error.message : String(error));
      }
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await loop;
      if (errors.length > 0) {
        throw new Error(
          `${errors.length} of ${scrapes + errors.length} scrapes of ${url} failed: ${errors[0]}`,
        );
      }
    },
  };
}

/**
 * Scrapes a proxy's `/metrics` with {@linkcode startScraper} for as long as it runs.
 *
 * @param starting The proxy, starting.
 * @param url Its admin API's `/metrics`.
 * @returns The proxy, scraped once already; its `stop()` stops the scraper first, and throws
 *   after stopping the proxy if a scrape failed.
 * @throws {Error} If the proxy or the first scrape fails; the proxy is stopped.
 */
export async function withScraper(
  starting: Promise<RunningProxy>,
  url: string,
): Promise<RunningProxy> {
  const proxy = await starting;
  let scraper: Scraper;
  try {
    scraper = await startScraper(url);
  } catch (error) {
    await proxy.stop();
    throw error;
  }
  return {
    ...proxy,
    async stop() {
      try {
        await scraper.stop();
      } finally {
        await proxy.stop();
      }
    },
  };
}

async function scrape(url: string, signal: AbortSignal): Promise<void> {
  const response = await fetch(url, { signal });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`GET ${url}: status ${response.status}`);
}

// Resolves after `ms`, or at once when `signal` aborts.
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
