/**
 * Helpers for the faults tests: a recorded proxy with faults in front of `forward()`, and ways to
 * time a round trip and wait for a connection's end.
 */

import assert from "node:assert/strict";
import { type Address, type FaultOptions, faults } from "../mod.ts";
import { readToEnd, recordedProxy, within, writeAll } from "./_helpers.ts";

/** A proxy on port 0 with the faults in front of `forward()`, recording every report. */
export function proxyWith(list: FaultOptions[], upstream: Address) {
  return recordedProxy([upstream], [faults(list)], { drainTimeout: 2_000 });
}

/** One byte out and back, in milliseconds. */
export async function roundTrip(client: Deno.Conn): Promise<number> {
  const byte = new Uint8Array([7]);
  const started = performance.now();
  await writeAll(client, byte);
  assert.equal(await within(2_000, "echo", client.read(byte)), 1);
  return performance.now() - started;
}

/** `count` round trips after a first one, in milliseconds each. */
export async function roundTrips(client: Deno.Conn, count: number): Promise<number[]> {
  await roundTrip(client); // the first one also waits for the upstream's connect
  const times: number[] = [];
  for (let i = 0; i < count; i++) times.push(await roundTrip(client));
  return times;
}

/** The middle value. */
export function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Ends a connection from the client's side and waits for the proxy's end of stream. */
export async function finish(client: Deno.Conn): Promise<void> {
  await client.closeWrite();
  await within(5_000, "end of stream", readToEnd(client));
}

/** Reads until end of stream or a reset; returns the byte count. */
export async function countUntilEnd(conn: Deno.Conn): Promise<number> {
  const buffer = new Uint8Array(64 * 1024);
  let bytes = 0;
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      bytes += n;
    }
  } catch { /* reset: what arrived before it counts */ }
  return bytes;
}
