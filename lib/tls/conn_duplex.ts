/**
 * A Deno socket seen as a Node.js `Duplex`, the form `node:tls` can run a server-side TLS session
 * over. Used only by TLS termination, to put the session on a socket that layers (access rules,
 * limits, a PROXY header) have already looked at.
 *
 * @module
 */

import { Duplex } from "node:stream";
import { type ByteStream, writeAll } from "../byte_stream.ts";
import type { ReadGate } from "./socket_stream.ts";

/** The first read's size: a ClientHello, or a small request, fits. */
const FIRST_READ = 2 * 1024;
/** The largest read: a TLS record is at most 16 KiB plus its overhead. */
const MAX_READ = 17 * 1024;

/**
 * Wraps `conn` in a `Duplex`: reads become `data`, the end of stream becomes `end` (the write side
 * stays open, so a half-close passes through), `end()` shuts down writing, and `destroy()` closes
 * the socket. Bytes already read from the socket come first.
 *
 * @param conn The socket.
 * @param preread Bytes already read from it, if any.
 * @param gate While closed, the socket is not read.
 * @returns The duplex.
 */
export function connDuplex(conn: ByteStream, preread?: Uint8Array, gate?: ReadGate): Duplex {
  let reading = false;
  const duplex: Duplex = new Duplex({
    allowHalfOpen: true,
    read() {
      if (reading) return;
      reading = true;
      pump().finally(() => reading = false);
    },
    write(chunk: Uint8Array, _encoding, done) {
      writeAll(conn, chunk).then(() => done(), done);
    },
    final(done) {
      conn.closeWrite().then(() => done(), done);
    },
    destroy(error, done) {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
      done(error);
    },
  });
  if (preread?.length) duplex.push(preread);

  let size = FIRST_READ;
  async function pump(): Promise<void> {
    try {
      while (true) {
        if (gate?.ready) await gate.ready;
        // The duplex keeps each chunk until TLS has consumed it, so each read needs its own. A read
        // that fills it doubles the next, up to a record; one that brings a quarter halves it.
        const buffer = new Uint8Array(size);
        const n = await conn.read(buffer);
        if (n === null) {
          duplex.push(null);
          return;
        }
        if (n === size) size = Math.min(size * 2, MAX_READ);
        else if (n <= size / 4) size = Math.max(FIRST_READ, size / 2);
        if (!duplex.push(buffer.subarray(0, n))) return;
      }
    } catch (error) {
      duplex.destroy(error as Error);
    }
  }
  return duplex;
}
