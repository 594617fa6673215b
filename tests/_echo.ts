/**
 * Checks made through an echo upstream: that a connection is through, and that a stream comes back
 * byte for byte.
 */

import assert from "node:assert/strict";
import { drain, sendStream, within, writeAll } from "./_helpers.ts";

/** Sends one byte and reads it back: the connection is through to the upstream. */
export async function probe(conn: Deno.Conn): Promise<void> {
  await writeAll(conn, new Uint8Array([42]));
  const byte = new Uint8Array(1);
  assert.equal(await within(2_000, "the probe's echo", conn.read(byte)), 1);
  assert.equal(byte[0], 42);
}

/** Sends `size` seeded bytes, half-closes, and checks the echo byte for byte. */
export async function echoes(conn: Deno.Conn, size: number, seed: number): Promise<void> {
  const [sent, received] = await within(
    5_000,
    "the echo",
    Promise.all([
      sendStream(conn, size, seed).then(async (hash) => (await conn.closeWrite(), hash)),
      drain(conn),
    ]),
  );
  assert.equal(received.bytes, size);
  assert.equal(received.sha256, sent);
}
