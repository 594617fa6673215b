/**
 * What the discovery tests share: the pool a CLI's admin API shows, waiting for it to become a
 * set, and a client loop that must move on and end without one failed connection.
 */

import assert from "node:assert/strict";
import type { ProxyStatus } from "../mod.ts";
import type { CliProcess } from "./_cli.ts";
import { delay, until } from "./_helpers.ts";
import type { ClientLoop } from "./_loop.ts";

/** The CLI's status, from its admin API on 127.0.0.1:`admin`. */
export async function status(admin: number): Promise<ProxyStatus> {
  const response = await fetch(`http://127.0.0.1:${admin}/status`);
  return await response.json();
}

/** The upstreams of the CLI's first pool, sorted. */
export async function poolUpstreams(admin: number): Promise<string[]> {
  const { pools } = await status(admin);
  return pools[0].upstreams.map(({ address }) => address).sort();
}

/** Waits until the first pool's upstreams are `want`, asking every 20 ms; fails after 10 s. */
export async function waitForPool(admin: number, want: string[]): Promise<void> {
  const expected = [...want].sort();
  const deadline = performance.now() + 10_000;
  let got: string[] = [];
  while (performance.now() < deadline) {
    got = await poolUpstreams(admin);
    if (JSON.stringify(got) === JSON.stringify(expected)) return;
    await delay(20);
  }
  assert.fail(`the pool stayed ${got}, not ${expected}`);
}

/** Waits until the loop has echoed 40 more connections; fails after 5 s. */
export async function moreTraffic(loop: ClientLoop, what: string): Promise<void> {
  const before = loop.done;
  await until(5_000, what, () => loop.done >= before + 40);
}

/**
 * Checks that the loop (already stopped) lost no connection and made at least 200, then stops
 * the CLI with SIGTERM and checks it exits 0.
 */
export async function endsClean(loop: ClientLoop, proxy: CliProcess): Promise<void> {
  assert.deepEqual(loop.errors, [], "no client connection failed");
  assert.ok(loop.done >= 200, `${loop.done} connections`);
  proxy.child.kill("SIGTERM");
  assert.equal((await proxy.exit()).code, 0);
}
