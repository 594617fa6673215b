/**
 * What the resets, slow-peer, half-open and churn scenarios attack the proxy with: clients that
 * reset, healthy clients paced around them, upstreams that misbehave on purpose, and the reads
 * and checks of what got through. The CLI they run is in `_chaos_servers.ts`, and its access log
 * is read back in `_access_log.ts`.
 */

import assert from "node:assert/strict";
import net from "node:net";
import type { Address } from "../../mod.ts";
import { clientLoop } from "../_loop.ts";
import { delay, sha256, startServer, type TestServer, within } from "../_helpers.ts";

const MiB = 1024 * 1024;

/**
 * A client that connects to `port` and resets (SO_LINGER 0, through `node:net`, which Deno
 * supports) `afterMs` after its connect completes. Resolves once its socket is closed.
 */
export function resettingClient(port: number, afterMs = 0): Promise<void> {
  return within(
    10_000,
    "a resetting client",
    new Promise<void>((resolve) => {
      const socket = net.connect(port, "127.0.0.1");
      socket.on("connect", () => {
        if (afterMs === 0) socket.resetAndDestroy();
        else setTimeout(() => socket.resetAndDestroy(), afterMs);
      });
      socket.on("error", () => {});
      socket.on("close", () => resolve());
    }),
  );
}

/**
 * A client that connects to `port`, sends `send`, and resets (SO_LINGER 0) as soon as `bytes`
 * have come back; resolves with what came back, which may be a little more than `bytes`.
 */
export function resetAfterReceiving(
  port: number,
  send: Uint8Array,
  bytes: number,
): Promise<Uint8Array> {
  return within(
    10_000,
    "a client that resets mid-transfer",
    new Promise<Uint8Array>((resolve, reject) => {
      const chunks: Uint8Array[] = [];
      let received = 0;
      const socket = net.connect(port, "127.0.0.1", () => socket.write(send));
      socket.on("data", (chunk: Uint8Array) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= bytes) socket.resetAndDestroy();
      });
      socket.on("error", () => {});
      socket.on("close", () => {
        if (received < bytes) reject(new Error(`Only ${received} of ${bytes} bytes came back`));
        else resolve(concat(chunks, received));
      });
    }),
  );
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const chunk of chunks) {
    out.set(chunk, off);
    off += chunk.length;
  }
  return out;
}

/**
 * Healthy clients like `clientLoop()`'s, each echoing `size` bytes checked by hash, but pausing
 * `pauseMs` between connections: traffic that shows the proxy serving without growing its heap
 * the way thousands of connections a second do (the V8 heap keeps the room it grows).
 */
export function pacedClients(port: number, loops: number, size: number, pauseMs: number) {
  return clientLoop({ hostname: "127.0.0.1", port }, loops, size, pauseMs);
}

/** Runs `task(i)` for i in [0, count), at most `parallel` at a time. */
export async function inParallel(
  count: number,
  parallel: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, async () => {
    while (next < count) await task(next++);
  }));
}

/** Reads until end of stream or a reset, and returns everything that arrived. */
export async function readUntilGone(conn: Deno.Conn, limit = 64 * MiB): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (total < limit) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
      total += n;
    }
  } catch { /* reset: what arrived before it counts */ }
  return concat(chunks, total);
}

/** Checks that `received` is the first bytes of `expected`, by hash; returns its length. */
export function assertPrefix(received: Uint8Array, expected: Uint8Array, what: string): number {
  assert.ok(
    received.length <= expected.length,
    `${what}: ${received.length} bytes, more than the ${expected.length} sent`,
  );
  assert.equal(
    sha256(received),
    sha256(expected.subarray(0, received.length)),
    `${what}: the ${received.length} bytes that arrived are not the ones sent`,
  );
  return received.length;
}

/** Reads exactly `n` bytes (fewer if the stream ends first). */
export async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let off = 0;
  while (off < n) {
    const read = await conn.read(out.subarray(off));
    if (read === null) return out.subarray(0, off);
    off += read;
  }
  return out;
}

/** An upstream on `node:net`, whose sockets can reset outright with `resetAndDestroy()`. */
export interface NodeUpstream extends AsyncDisposable {
  address: Address;
}

/**
 * Starts an upstream on `node:net` that hands each socket to `onSocket`. Unlike `Deno.Conn`, whose
 * `close()` sends FIN before the RST that unread bytes cause (Deno shuts the write side down,
 * then closes), a `node:net` socket's `resetAndDestroy()` sends a bare RST (SO_LINGER 0).
 */
export async function nodeUpstream(onSocket: (socket: net.Socket) => void): Promise<NodeUpstream> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
    onSocket(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: { hostname: "127.0.0.1", port },
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * An upstream that accepts and never reads, until `release()`; then it closes every connection
 * with the bytes sent to it unread, which resets them (after a FIN: see {@linkcode nodeUpstream}).
 */
export function stalledUpstream(): TestServer & { release(): void } {
  const stuck = Promise.withResolvers<void>();
  const server = startServer(() => stuck.promise);
  const close = server.close;
  return Object.assign(server, {
    release: () => stuck.resolve(),
    close: () => (stuck.resolve(), close()),
  });
}

/** Samples `measure()` every `everyMs` until `stop()`; returns the samples. */
export function sampler(measure: () => number, everyMs = 100) {
  const samples: number[] = [measure()];
  let running = true;
  const loop = (async () => {
    while (running) {
      await delay(everyMs);
      try {
        samples.push(measure());
      } catch { /* the process is gone: the test will say so */ }
    }
  })();
  return {
    samples,
    async stop(): Promise<number[]> {
      running = false;
      await loop;
      return samples;
    },
  };
}
