/** tcpCheck() and sendExpectCheck() against real upstreams on 127.0.0.1 that misbehave on purpose. */

import assert from "node:assert/strict";
import { httpCheck, sendExpectCheck, tcpCheck } from "../mod.ts";
import { delay, startBlackhole, startServer, within, writeAll } from "./_helpers.ts";
import { freePort } from "./_cli.ts";
import { assertCutBySignal, encoder, readText, run, silentServer } from "./_health.ts";

Deno.test("tcpCheck() passes when the upstream accepts and closes the connection", async () => {
  await using server = silentServer();
  assert.equal(await run(tcpCheck(), server.address), undefined);
  await within(2_000, "the check's connection to close", server.ended);
  assert.equal(server.accepted, 1);
});

Deno.test("tcpCheck() fails with ConnectionRefused on a closed port", async () => {
  const upstream = { hostname: "127.0.0.1", port: freePort() };
  await assert.rejects(run(tcpCheck(), upstream), (error: Error) => {
    assert.ok(error instanceof Deno.errors.ConnectionRefused);
    assert.match(error.message, /^Connection refused \(os error 111\)$/);
    return true;
  });
});

Deno.test("tcpCheck() is cut by the signal when the connect hangs", async () => {
  await using blackhole = await startBlackhole();
  await assertCutBySignal(tcpCheck(), blackhole.address);
});

Deno.test("every check rejects with an aborted signal's reason, without connecting", async () => {
  await using server = silentServer();
  const reason = new Error("Stopped before it started");
  const checks = [tcpCheck(), httpCheck({ path: "/" }), sendExpectCheck({ expect: "x" })];
  for (const check of checks) {
    await assert.rejects(check(server.address, AbortSignal.abort(reason)), (e) => e === reason);
  }
  await delay(50);
  assert.equal(server.accepted, 0);
});

Deno.test("sendExpectCheck() passes when expect arrives split across reads", async () => {
  const received: string[] = [];
  await using server = startServer(async (conn) => {
    received.push(await readText(conn, (text) => text.endsWith("\r\n")));
    await writeAll(conn, encoder.encode("$1\r\n+PO"));
    await delay(50);
    await writeAll(conn, encoder.encode("NG\r\n"));
    await readText(conn, () => false);
  });
  await run(sendExpectCheck({ send: "PING\r\n", expect: "+PONG" }), server.address);
  assert.deepEqual(received, ["PING\r\n"]);
});

Deno.test("sendExpectCheck() without send passes on a banner and matches bytes", async () => {
  await using server = startServer(async (conn) => {
    await writeAll(conn, new Uint8Array([0x00, 0xff, 0x32, 0x32, 0x30, 0x0d, 0x0a]));
    await readText(conn, () => false);
  });
  await run(sendExpectCheck({ expect: "220" }), server.address);
  await run(sendExpectCheck({ expect: new Uint8Array([0xff, 0x32]) }), server.address);
});

Deno.test("sendExpectCheck() fails on a wrong reply, quoting it", async () => {
  await using server = startServer(async (conn) => {
    await readText(conn, (text) => text.endsWith("\n"));
    await writeAll(conn, encoder.encode("-ERR unknown command 'PING'\r\n"));
  });
  await assert.rejects(
    run(sendExpectCheck({ send: "PING\r\n", expect: "+PONG" }), server.address),
    { message: `Expected "+PONG", got "-ERR unknown command 'PING'\\r\\n" and end of stream` },
  );
});

Deno.test("sendExpectCheck() fails when the peer closes before sending anything", async () => {
  await using server = startServer(() => Promise.resolve());
  await assert.rejects(run(sendExpectCheck({ expect: "SSH-2.0-" }), server.address), {
    message: 'Expected "SSH-2.0-", got end of stream',
  });
});

Deno.test("sendExpectCheck() stops at maxBytes from a peer streaming endless bytes", async () => {
  for (const [maxBytes, within_] of [[undefined, "64 KiB"], [1000, "1000 bytes"]] as const) {
    const { promise: stopped, resolve } = Promise.withResolvers<number>();
    await using server = startServer(async (conn) => {
      const chunk = new Uint8Array(16 * 1024).fill(0x79); // "y"
      let written = 0;
      try {
        for (;;) written += await conn.write(chunk);
      } finally {
        resolve(written);
      }
    });
    await assert.rejects(run(sendExpectCheck({ expect: "+PONG", maxBytes }), server.address), {
      message: `Expected "+PONG" within ${within_}, got "${"y".repeat(48)}"...`,
    });
    // The check closed its socket, so the endless writer failed and stopped.
    assert.ok(await within(5_000, "the writer to stop", stopped) >= (maxBytes ?? 65_536));
  }
});

Deno.test("sendExpectCheck() is cut by the signal when the peer says nothing", async () => {
  await using server = silentServer();
  await assertCutBySignal(sendExpectCheck({ send: "PING\r\n", expect: "+PONG" }), server.address);
  await within(2_000, "the check's connection to close", server.ended);
});

Deno.test("sendExpectCheck() rejects an empty expect and a maxBytes below its length", () => {
  assert.throws(() => sendExpectCheck({ expect: "" }), {
    name: "TypeError",
    message: "Cannot use send/expect check: expected a non-empty expect",
  });
  assert.throws(() => sendExpectCheck({ expect: "+PONG", maxBytes: 4 }), {
    name: "RangeError",
    message: "Cannot use send/expect max bytes 4: expected at least the 5 bytes of expect",
  });
  assert.throws(() => sendExpectCheck({ expect: "+PONG", maxBytes: 1.5 }), {
    name: "RangeError",
    message: "Cannot use send/expect max bytes 1.5: expected a whole number, at least 1",
  });
});
