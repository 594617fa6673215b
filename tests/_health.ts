/** Upstreams that misbehave on purpose, and helpers, for the health check tests. */

import assert from "node:assert/strict";
import type { Address, HealthCheck } from "../mod.ts";
import { startServer, type TestServer, within, writeAll } from "./_helpers.ts";

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

/** Runs a check with a generous deadline, failing the test if it settles later than that. */
export function run(check: HealthCheck, upstream: Address, ms = 5_000): Promise<unknown> {
  return within(ms + 1_000, "health check", check(upstream, AbortSignal.timeout(ms)));
}

/** Reads from `conn` until `done` holds for the text so far, or the stream ends. */
export async function readText(conn: Deno.Conn, done: (text: string) => boolean): Promise<string> {
  const buffer = new Uint8Array(4096);
  let text = "";
  while (!done(text)) {
    const n = await conn.read(buffer);
    if (n === null) break;
    text += decoder.decode(buffer.subarray(0, n));
  }
  return text;
}

/** An upstream that reads an HTTP request head, records it, and writes `reply(request)` back. */
export function rawHttp(reply: (request: string) => string): TestServer & { requests: string[] } {
  const requests: string[] = [];
  const server = startServer(async (conn) => {
    const request = await readText(conn, (text) => text.includes("\r\n\r\n"));
    requests.push(request);
    await writeAll(conn, encoder.encode(reply(request)));
  });
  return Object.assign(server, { requests });
}

/** A status line chosen by the request's path: `/200`, `/503`... */
export const statusFromPath = (request: string) => {
  const status = /^GET \/([0-9]{3})/.exec(request)?.[1] ?? "404";
  return `HTTP/1.1 ${status} Whatever\r\nContent-Length: 0\r\n\r\n`;
};

/** An upstream that reads whatever comes and never answers; `ended` resolves once the peer left. */
export function silentServer(): TestServer & { ended: Promise<void> } {
  const { promise: ended, resolve } = Promise.withResolvers<void>();
  const server = startServer(async (conn) => {
    try {
      await readText(conn, () => false);
    } finally {
      resolve();
    }
  });
  return Object.assign(server, { ended });
}

/** Asserts the check is cut by a 200 ms signal: it rejects with TimeoutError, well within 1 s. */
export async function assertCutBySignal(check: HealthCheck, upstream: Address): Promise<void> {
  const started = performance.now();
  await assert.rejects(
    within(2_000, "aborted check", check(upstream, AbortSignal.timeout(200))),
    { name: "TimeoutError" },
  );
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 150 && elapsed < 1_000, `rejected after ${Math.round(elapsed)}ms`);
}

/** The nginx binary, if one is installed where a package manager or PATH puts it. */
function findNginx(): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"];
  for (const dir of dirs.filter(Boolean)) {
    try {
      if (Deno.statSync(`${dir}/nginx`).isFile) return `${dir}/nginx`;
    } catch { /* not here */ }
  }
  return undefined;
}

export const NGINX = findNginx();
