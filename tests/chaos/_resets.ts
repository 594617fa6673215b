/** The resets that both reset scenarios send, and the upstreams that reset on their side. */

import assert from "node:assert/strict";
import { randomBytes, sha256, within } from "../_helpers.ts";
import {
  assertPrefix,
  inParallel,
  nodeUpstream,
  readUntilGone,
  resetAfterReceiving,
  resettingClient,
} from "./_attacks.ts";

/** Resets of each kind a scenario sends, in `ROUNDS` rounds of `PER_ROUND`. */
export const EACH = 1_000;
export const ROUNDS = 10;
export const PER_ROUND = EACH / ROUNDS;

/** What the upstream that resets while sending would send; it resets after the first 64 KiB. */
const DOWN = randomBytes(256 * 1024, 11);
/** What clients send upstream; the upstream that resets while reading checks its first 16 KiB. */
const UP = randomBytes(256 * 1024, 12);
const UP_CHECKED = 16 * 1024;
/** An upstream connect that never completes gives up after this long. */
export const CONNECT_MS = 1_000;

/** The two upstreams that reset, and what the one that reads checked. */
export async function resettingUpstreams() {
  // Once the client's first bytes arrive, writes 64 KiB at a time, and resets once the first
  // 64 KiB are handed to the kernel: what was not yet sent is dropped with the reset.
  const whileSending = await nodeUpstream((socket) => {
    socket.once("data", () => {
      socket.write(DOWN.subarray(0, 64 * 1024), () => socket.resetAndDestroy());
      for (let off = 64 * 1024; off < DOWN.length; off += 64 * 1024) {
        socket.write(DOWN.subarray(off, off + 64 * 1024));
      }
    });
  });
  // Reads 16 KiB of what the client sends, checks them, and resets while more keeps coming.
  const checked = { ok: 0, bad: 0 };
  const whileReading = await nodeUpstream((socket) => {
    const chunks: Uint8Array[] = [];
    let received = 0;
    socket.on("data", (chunk: Uint8Array) => {
      if (received >= UP_CHECKED) return;
      chunks.push(chunk);
      received += chunk.length;
      if (received < UP_CHECKED) return;
      const head = new Uint8Array(received);
      chunks.reduce((off, part) => (head.set(part, off), off + part.length), 0);
      if (sha256(head.subarray(0, UP_CHECKED)) === sha256(UP.subarray(0, UP_CHECKED))) {
        checked.ok++;
      } else checked.bad++;
      socket.resetAndDestroy();
    });
  });
  return {
    whileSending,
    whileReading,
    checked,
    async [Symbol.asyncDispose]() {
      await whileSending[Symbol.asyncDispose]();
      await whileReading[Symbol.asyncDispose]();
    },
  };
}

/**
 * How a connect to the blackhole ends: its one try times out (`no_upstream`), or, in a process
 * too busy to run that timer first, the overall deadline does (`connect_timeout`).
 */
export const CONNECT_FAILED = ["no_upstream", "connect_timeout"];

/** Where each kind of reset is sent: a proxy port in front of the matching upstream. */
export interface Targets {
  whileSending: number;
  whileReading: number;
  mid: number;
  blackhole: number;
}

/** Bytes checked as true prefixes of what was sent, before the resets cut the streams. */
export const verified = { down: 0, mid: 0 };

/**
 * One round of four kinds of reset, `count` of each, all at once: the upstream resets while
 * sending, the upstream resets while reading, the client resets while the proxy is connecting,
 * and the client resets mid-transfer.
 */
export function resetRound(ports: Targets, count: number): Promise<unknown> {
  return Promise.all([
    // The upstream resets mid-stream while sending: what reached the client is a true prefix.
    inParallel(count, 50, async () => {
      using client = await Deno.connect({ hostname: "127.0.0.1", port: ports.whileSending });
      await writeAllOrFail(client, UP.subarray(0, 1024));
      const received = await within(10_000, "the reset", readUntilGone(client));
      verified.down += assertPrefix(received, DOWN, "bytes before an upstream reset");
    }),
    // The upstream resets while reading: the client's writes fail, and nothing comes back.
    inParallel(count, 50, async () => {
      using client = await Deno.connect({ hostname: "127.0.0.1", port: ports.whileReading });
      const writing = writeAllOrFail(client, UP);
      assert.equal((await within(10_000, "the reset", readUntilGone(client))).length, 0);
      await writing;
    }),
    // The client resets while the proxy is still connecting to an upstream that never answers:
    // 250 to 450 ms after its connect, long after the accept even on a busy machine, and well
    // before the connect's 1 s timeout.
    inParallel(count, count, (i) => resettingClient(ports.blackhole, 250 + (i * 37) % 200)),
    // The client resets mid-transfer, once 32 KiB of its 256 KiB have come back.
    inParallel(count, 50, async () => {
      const head = await resetAfterReceiving(ports.mid, UP, 32 * 1024);
      verified.mid += assertPrefix(head, UP, "echo before a client reset");
    }),
  ]);
}

/** Writes all of `bytes`, and resolves either way: the peer is expected to reset. */
async function writeAllOrFail(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  try {
    for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
  } catch { /* reset */ }
}
