/**
 * Private helpers shared by the health checks; not exported from mod.ts.
 *
 * @module
 */

import type { Address } from "../address.ts";
import { closeQuietly } from "../byte_stream.ts";

/**
 * Connects to `upstream`, runs `use` on the connection, and closes it. An abort of `signal` closes
 * the socket, which ends any pending read or write; the promise then rejects with the signal's
 * reason, whatever `use` threw.
 *
 * @param upstream Where to connect.
 * @param signal Cancels the connect and whatever `use` is waiting for.
 * @param use What to do with the connection.
 * @returns What `use` resolved with.
 */
export async function withConnection<T>(
  upstream: Address,
  signal: AbortSignal,
  use: (conn: Deno.TcpConn) => Promise<T>,
): Promise<T> {
  signal.throwIfAborted();
  const conn = await Deno.connect({ hostname: upstream.hostname, port: upstream.port, signal });
  const onAbort = () => closeQuietly(conn);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    signal.throwIfAborted();
    return await use(conn);
  } catch (error) {
    signal.throwIfAborted();
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
    closeQuietly(conn);
  }
}

/**
 * Reads into `buffer` after its first `filled` bytes until `done` says so, the buffer is full, or
 * the stream ends.
 *
 * @param conn The connection to read.
 * @param buffer Where to put the bytes; never read past its end.
 * @param done Called with the bytes so far after each read; true stops reading.
 * @returns How many bytes of `buffer` are filled, and whether the stream ended.
 */
export async function readUntil(
  conn: Deno.Conn,
  buffer: Uint8Array,
  done: (received: Uint8Array) => boolean,
  filled = 0,
): Promise<{ filled: number; ended: boolean }> {
  while (filled < buffer.length) {
    const n = await conn.read(buffer.subarray(filled));
    if (n === null) return { filled, ended: true };
    filled += n;
    if (done(buffer.subarray(0, filled))) break;
  }
  return { filled, ended: false };
}

/**
 * Where `needle` first occurs in `haystack` at or after `from`.
 *
 * @returns The index, or -1.
 */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  const last = haystack.length - needle.length;
  outer: for (let i = Math.max(0, from); i <= last; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

const ESCAPES: Record<number, string> = { 9: "\\t", 10: "\\n", 13: "\\r", 34: '\\"', 92: "\\\\" };

/**
 * Quotes bytes for a message: printable ASCII as is, `\r`, `\n`, `\t`, `\\`, `\"`, and `\xHH` for
 * anything else, cut after `max` bytes with `...` after the closing quote.
 *
 * @returns The quoted text, such as `"-ERR unknown\r\n"`.
 */
export function excerpt(bytes: Uint8Array, max = 48): string {
  let text = "";
  for (const byte of bytes.subarray(0, max)) {
    text += ESCAPES[byte] ??
      (byte >= 0x20 && byte < 0x7f
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, "0")}`);
  }
  return `"${text}"${bytes.length > max ? "..." : ""}`;
}

/**
 * A byte count for a message: `64 KiB`, `1 MiB`, or `1000 bytes`.
 *
 * @returns The text.
 */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  if (bytes >= 2 ** 10 && bytes % 2 ** 10 === 0) return `${bytes / 2 ** 10} KiB`;
  return bytes === 1 ? "1 byte" : `${bytes} bytes`;
}
