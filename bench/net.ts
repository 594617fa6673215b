/**
 * Small network helpers: free ports on loopback, waiting until something accepts, and reading
 * or writing a whole message on a socket.
 *
 * @module
 */

import type { Child } from "./resources.ts";

/** The loopback address every server in the benchmark listens on. */
export const HOST = "127.0.0.1";

/**
 * Finds a port nothing listens on now, by binding port 0 and closing the listener. Another
 * process could take it before it is used; on this machine nothing else is binding ports.
 *
 * @returns The port.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/**
 * Waits until a TCP connection to `port` succeeds, retrying every 50 ms.
 *
 * @param port The port on {@linkcode HOST}.
 * @param child The process expected to listen there: if it exits, waiting fails at once.
 * @param timeoutMs How long to wait.
 * @throws {Error} If the child exits or nothing accepts in time; the message holds its output.
 */
export async function waitForAccept(port: number, child: Child, timeoutMs = 15_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.exited) {
      await child.drained;
      throw new Error(`${child.name} exited before accepting on port ${port}:\n${child.output}`);
    }
    try {
      const conn = await Deno.connect({ hostname: HOST, port });
      conn.close();
      return;
    } catch {
      if (performance.now() > deadline) {
        throw new Error(
          `${child.name} did not accept on port ${port} within ${timeoutMs} ms:\n${child.output}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Writes all of `bytes`, looping over partial writes.
 *
 * @param conn The socket.
 * @param bytes What to write.
 */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/**
 * Reads exactly `length` bytes.
 *
 * @param conn The socket.
 * @param length How many bytes.
 * @returns The bytes.
 * @throws {Error} If the stream ends first.
 */
export async function readExactly(conn: Deno.Conn, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let read = 0;
  while (read < length) {
    const n = await conn.read(bytes.subarray(read));
    if (n === null) throw new Error(`Connection ended after ${read} of ${length} bytes`);
    read += n;
  }
  return bytes;
}
