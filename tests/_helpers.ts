/**
 * Test helpers: in-process upstreams, a layer that records reports, and byte checks.
 * Everything listens on 127.0.0.1 port 0 and is closed by the test that made it.
 */

import { createHash } from "node:crypto";
import {
  type Address,
  type Connection,
  type ConnectionReport,
  forward,
  type Layer,
  serve,
  type ServeOptions,
  type Server,
  ServiceBuilder,
} from "../mod.ts";

/** A listener with its accepted connections, closed together. */
export interface TestServer extends AsyncDisposable {
  address: Address;
  /** Connections accepted so far. */
  accepted: number;
  /** Resolves when every handler has finished after close. */
  close(): Promise<void>;
}

/**
 * Starts an upstream that runs `handle` for every connection it accepts; the connection is closed
 * when `handle` returns or throws.
 */
export function startServer(
  handle: (conn: Deno.TcpConn) => Promise<void>,
  port = 0,
  hostname = "127.0.0.1",
): TestServer {
  const listener = Deno.listen({ hostname, port });
  const open = new Set<Deno.TcpConn>();
  const handlers = new Set<Promise<void>>();
  const server: TestServer = {
    address: { hostname, port: listener.addr.port },
    accepted: 0,
    async close() {
      try {
        listener.close();
      } catch { /* closed already */ }
      await loop;
      for (const conn of open) closeQuietly(conn);
      await Promise.allSettled([...handlers]);
    },
    [Symbol.asyncDispose]() {
      return server.close();
    },
  };
  const loop = (async () => {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource) return;
        continue; // a client that reset before accept
      }
      server.accepted++;
      open.add(conn);
      const handler = handle(conn).catch(() => {}).finally(() => {
        open.delete(conn);
        closeQuietly(conn);
        handlers.delete(handler);
      });
      handlers.add(handler);
    }
  })();
  return server;
}

/** Writes back every byte `conn` reads, then passes its end of stream back as a half-close. */
export async function echoToEnd(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    await writeAll(conn, buffer.subarray(0, n));
  }
  await conn.closeWrite();
}

/**
 * An upstream that echoes every byte and passes the client's end of stream back as a half-close,
 * on `port` (0 for any) of `hostname`.
 */
export function startEcho(port = 0, hostname = "127.0.0.1"): TestServer {
  return startServer(
    async (conn) => {
      await echoToEnd(conn);
      // Keep the socket until the peer closes, so the proxy sees a clean end.
      await conn.read(new Uint8Array(1)).catch(() => null);
    },
    port,
    hostname,
  );
}

/** Closes a connection, ignoring that it may be closed already. */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed already */ }
}

/** Writes all of `bytes`, however many calls it takes. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** Reads until end of stream and returns the byte count and SHA-256 of everything read. */
export async function drain(conn: Deno.Conn): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  const buffer = new Uint8Array(256 * 1024);
  let bytes = 0;
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    hash.update(buffer.subarray(0, n));
    bytes += n;
  }
  return { bytes, sha256: hash.digest("hex") };
}

/** Reads until end of stream and returns the bytes. */
export async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  return concat(chunks);
}

/** Joins byte arrays. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, chunk) => sum + chunk.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32), so no two blocks of a stream are alike. */
export function randomBytes(length: number, seed = 1): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, length);
}

/** The SHA-256 of some bytes, as hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Writes `total` bytes of a seeded stream in chunks and returns its SHA-256. */
export async function sendStream(
  conn: Deno.Conn,
  total: number,
  seed: number,
  chunk = 1024 * 1024,
): Promise<string> {
  const hash = createHash("sha256");
  for (let sent = 0, i = 0; sent < total; i++) {
    const block = randomBytes(Math.min(chunk, total - sent), seed + i);
    hash.update(block);
    await writeAll(conn, block);
    sent += block.length;
  }
  return hash.digest("hex");
}

/**
 * A layer that records every report, and lets a test wait for the next one (for at most `ms`,
 * so a connection that never ends fails the test instead of stalling it).
 */
export function recorder(): {
  layer: Layer<Connection, ConnectionReport>;
  reports: ConnectionReport[];
  next(ms?: number): Promise<ConnectionReport>;
} {
  const reports: ConnectionReport[] = [];
  const waiting: ((report: ConnectionReport) => void)[] = [];
  let taken = 0;
  return {
    reports,
    layer: (inner) =>
      async function record(connection) {
        const report = await inner(connection);
        reports.push(report);
        waiting.shift()?.(report);
        return report;
      },
    next(ms = 5_000) {
      const index = taken++;
      if (index < reports.length) return Promise.resolve(reports[index]);
      return within(ms, `report #${index + 1}`, new Promise((resolve) => waiting.push(resolve)));
    },
  };
}

/** Rejects if `promise` takes longer than `ms`, so a hang fails the test instead of stalling it. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${ms}ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `done()` holds, checking every 10 ms, and fails the test after `ms`. */
export async function until(ms: number, what: string, done: () => boolean): Promise<void> {
  await within(
    ms,
    what,
    (async () => {
      while (!done()) await delay(10);
    })(),
  );
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * An upstream that never answers a connect: a listener that never accepts, with its accept queue
 * filled, so the kernel drops further SYNs and a connect hangs until it is cancelled.
 */
export async function startBlackhole(): Promise<{ address: Address } & AsyncDisposable> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const address = { hostname: "127.0.0.1", port: listener.addr.port };
  const fillers: Deno.TcpConn[] = [];
  // Three connects in a row that hang: one alone may just be slow on a busy machine, and then
  // the queue would still take the connects of the test.
  for (let hung = 0; hung < 3;) {
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(), 200);
    try {
      fillers.push(await Deno.connect({ ...address, signal: attempt.signal }));
      hung = 0;
    } catch {
      hung++; // this one hung: the queue may be full
    } finally {
      clearTimeout(timer);
    }
    if (fillers.length > 10_000) throw new Error("The accept queue never filled");
  }
  return {
    address,
    [Symbol.asyncDispose]() {
      for (const conn of fillers) closeQuietly(conn);
      listener.close();
      return Promise.resolve();
    },
  };
}

/**
 * A proxy forwarding to `upstreams` through `layers`, recording every connection's report with an
 * outermost recorder. It listens on 127.0.0.1 port 0 unless `options` say otherwise.
 */
export function recordedProxy(
  upstreams: Address[],
  layers: Layer<Connection, ConnectionReport>[] = [],
  options: Pick<ServeOptions, "listen" | "drainTimeout"> = {},
): { proxy: Server; record: ReturnType<typeof recorder> } & AsyncDisposable {
  const record = recorder();
  let builder = new ServiceBuilder().layer(record.layer);
  for (const layer of layers) builder = builder.layer(layer);
  const proxy = serve({
    listen: "127.0.0.1:0",
    ...options,
    service: builder.service(forward({ upstreams })),
  });
  return { proxy, record, [Symbol.asyncDispose]: () => proxy.shutdown() };
}
