/**
 * The upstream servers the proxies forward to.
 *
 * - An HTTP/1.1 responder for the keep-alive and connect workloads: raw TCP, it counts the ends
 *   of request heads (`\r\n\r\n`) in what it reads and writes one small fixed response for
 *   each, and closes the connection after answering a request with `Connection: close`. It runs
 *   as its own process (this file is also its entry point) so it can be pinned to a core.
 * - A holding upstream for the idle-memory workload, in this process: it accepts connections,
 *   answers one small message on each, and keeps them open until told to close them.
 *
 * @module
 */

import { HOST, readExactly, waitForAccept, writeAll } from "./net.ts";
import { type Child, spawn } from "./resources.ts";

/** The body of every HTTP response: 13 bytes. */
export const HTTP_BODY = "Hello, world!";
const HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" +
  `Content-Length: ${HTTP_BODY.length}\r\n`;
const RESPONSE = new TextEncoder().encode(`${HEAD}\r\n${HTTP_BODY}`);
// The response to a request that asked to close: it says so, as HTTP/1.1 wants, so that the
// client (wrk) reconnects instead of sending its next request on a closing connection.
const CLOSING_RESPONSE = new TextEncoder().encode(`${HEAD}Connection: close\r\n\r\n${HTTP_BODY}`);
const CR = 13;
const LF = 10;
const LOWER_C = 0x63;
// A header line that asks to close, lower case, from its first byte.
const CONNECTION_CLOSE = new TextEncoder().encode("connection: close");

/**
 * Answers every HTTP request head on a connection with the fixed response, until the client
 * closes, or until a request with the header `Connection: close` (any case, one space after
 * the colon, within one read) has been answered. Requests are assumed to have no body (wrk sends
 * `GET`); pipelined requests each get their response, in one write.
 *
 * @param conn An accepted connection.
 */
export async function answerHttp(conn: Deno.TcpConn): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  const batches: Uint8Array[] = [RESPONSE];
  let matched = 0; // How much of "\r\n\r\n" the bytes read so far end with.
  try {
    conn.setNoDelay(true);
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      let heads = 0;
      let closing = false;
      for (let i = 0; i < n; i++) {
        const byte = buffer[i];
        if (byte === (matched % 2 === 0 ? CR : LF)) {
          if (++matched === 4) {
            heads++;
            matched = 0;
          }
        } else {
          // The first byte of a header line: only a "C" costs more than this one comparison.
          if (matched === 2 && (byte | 0x20) === LOWER_C) closing ||= asksToClose(buffer, i, n);
          matched = byte === CR ? 1 : 0;
        }
      }
      if (heads === 0) continue;
      if (closing) {
        const answer = new Uint8Array((heads - 1) * RESPONSE.length + CLOSING_RESPONSE.length);
        if (heads > 1) answer.set(batches[heads - 2] ??= repeat(RESPONSE, heads - 1));
        answer.set(CLOSING_RESPONSE, (heads - 1) * RESPONSE.length);
        await writeAll(conn, answer);
        break;
      }
      batches[heads - 1] ??= repeat(RESPONSE, heads);
      await writeAll(conn, batches[heads - 1]);
    }
  } catch {
    // The client went away.
  } finally {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

// Whether the header line starting at `start` is "Connection: close", in any case.
function asksToClose(buffer: Uint8Array, start: number, end: number): boolean {
  if (end - start < CONNECTION_CLOSE.length) return false;
  for (let i = 0; i < CONNECTION_CLOSE.length; i++) {
    const byte = buffer[start + i];
    // Lower-casing letters only: the colon and space must match as they are.
    if ((byte >= 0x41 && byte <= 0x5a ? byte | 0x20 : byte) !== CONNECTION_CLOSE[i]) return false;
  }
  return true;
}

function repeat(bytes: Uint8Array, times: number): Uint8Array {
  const out = new Uint8Array(bytes.length * times);
  for (let i = 0; i < times; i++) out.set(bytes, i * bytes.length);
  return out;
}

/**
 * Starts the HTTP responder as a separate Deno process listening on `port`, and waits until it
 * accepts.
 *
 * @param port The port on {@linkcode HOST}.
 * @param cpus The CPUs to pin it to, as `taskset -c` takes them.
 * @returns The running process.
 */
export async function startHttpResponder(port: number, cpus: string): Promise<Child> {
  const script = new URL(import.meta.url).pathname;
  const child = spawn(
    "HTTP responder",
    Deno.execPath(),
    ["run", `--allow-net=${HOST}:${port}`, script, String(port)],
    { cpus },
  );
  await waitForAccept(port, child);
  return child;
}

/** The small message the idle-memory workload sends up each connection, and the reply. */
export const HELLO = new TextEncoder().encode("hello\n");

/** An in-process upstream that holds every connection it accepts open. */
export class HoldingUpstream {
  /** The port it listens on. */
  readonly port: number;
  #listener: Deno.TcpListener;
  #conns = new Set<Deno.TcpConn>();
  #greeted = 0;
  #waiters: { count: number; resolve: () => void }[] = [];

  /** Listens on a free port of {@linkcode HOST} and starts accepting. */
  constructor() {
    this.#listener = Deno.listen({ hostname: HOST, port: 0 });
    this.port = this.#listener.addr.port;
    this.#acceptLoop();
  }

  /** How many connections have delivered their message so far. */
  get greeted(): number {
    return this.#greeted;
  }

  /**
   * Resolves once `count` connections in all have delivered their message.
   *
   * @param count The total to wait for.
   */
  waitForGreeted(count: number): Promise<void> {
    if (this.#greeted >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  /** Closes every connection held; the listener stays open. */
  closeAll(): void {
    for (const conn of this.#conns) close(conn);
    this.#conns.clear();
  }

  /** Closes every connection and the listener. */
  close(): void {
    this.closeAll();
    close(this.#listener);
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource) return; // Closed by us.
        continue;
      }
      this.#conns.add(conn);
      this.#greet(conn);
    }
  }

  async #greet(conn: Deno.TcpConn): Promise<void> {
    try {
      await readExactly(conn, HELLO.length);
      await writeAll(conn, HELLO);
    } catch {
      this.#conns.delete(conn);
      close(conn);
      return;
    }
    this.#greeted++;
    this.#waiters = this.#waiters.filter(({ count, resolve }) => {
      if (this.#greeted < count) return true;
      resolve();
      return false;
    });
  }
}

function close(closer: { close(): void }): void {
  try {
    closer.close();
  } catch {
    // Already closed.
  }
}

if (import.meta.main) {
  const listener = Deno.listen({ hostname: HOST, port: Number(Deno.args[0]) });
  for (;;) {
    try {
      answerHttp(await listener.accept());
    } catch {
      // A client reset before accept completed: keep accepting.
    }
  }
}
