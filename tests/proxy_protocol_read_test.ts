/**
 * readProxyHeader() reading from a connection: a byte at a time and no further, handing back the
 * client's bytes that came with the header, and failing truncated, garbage and oversize headers
 * early.
 */

import assert from "node:assert/strict";
import { encodeProxyHeader } from "../lib/proxy_protocol/encode.ts";
import { parseProxyHeader } from "../lib/proxy_protocol/parse.ts";
import { MAX_PROXY_HEADER, readProxyHeader } from "../lib/proxy_protocol/read.ts";
import { at, hex, isProblem, join, proxied, sender, SIG, text } from "./_proxy_protocol.ts";

Deno.test("readProxyHeader() reads a header sent a byte at a time, and no further", async () => {
  const v1 = encodeProxyHeader(1, at("::1", 1), at("::2", 2));
  const v2 = encodeProxyHeader(2, at("10.0.0.1", 1), at("10.0.0.2", 2), { crc32c: true });
  for (const header of [v1, v2]) {
    const source = sender(join(header, text("client bytes")), 1);
    const read = await readProxyHeader(source);
    assert.deepEqual(read, { header: parseProxyHeader(header)?.header, rest: new Uint8Array(0) });
    assert.equal(source.handed, header.length);
  }
});

Deno.test("readProxyHeader() returns the client's bytes that came with the header as rest", async () => {
  const data = text("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
  const v1 = encodeProxyHeader(1, at("10.0.0.1", 1), at("10.0.0.2", 2));
  const v2 = encodeProxyHeader(2, at("::1", 1), at("::2", 2));
  for (const header of [v1, v2]) {
    for (const chunk of [Infinity, 107, 10, 3]) {
      const source = sender(join(header, data), chunk);
      const { header: got, rest } = await readProxyHeader(source);
      assert.deepEqual(got, parseProxyHeader(header)?.header);
      assert.deepEqual(rest, data.subarray(0, source.handed - header.length));
      assert.ok(source.asked.every((size) => size <= 107), `asked for ${source.asked}`);
    }
  }
  // Once the v2 length is known no read goes past the header: with 16-byte reads, none at all.
  const big = encodeProxyHeader(2, at("::1", 1), at("::2", 2), { authority: "x".repeat(200) });
  const source = sender(join(big, data), 16);
  assert.deepEqual((await readProxyHeader(source)).rest, new Uint8Array(0));
  assert.equal(source.handed, big.length);
});

Deno.test("readProxyHeader() fails truncated headers, garbage and oversize headers early", async () => {
  const header = encodeProxyHeader(2, at("::1", 1), at("::2", 2), { authority: "example.com" });
  const line = text("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n");
  for (const whole of [header, line]) {
    for (let i = 0; i < whole.length; i++) {
      const ended = new RegExp(`ended after ${i} bytes, expected the rest of the header$`);
      await assert.rejects(
        readProxyHeader(sender(whole.subarray(0, i), 7)),
        isProblem("truncated", ended),
      );
    }
  }
  const garbage = sender(text("SSH-2.0-OpenSSH_9.2p1\r\n"), 1);
  await assert.rejects(
    readProxyHeader(garbage),
    isProblem("malformed", /^Cannot parse PROXY header "S": /),
  );
  assert.equal(garbage.handed, 1);
  const huge = new Uint8Array(MAX_PROXY_HEADER);
  huge.set(hex(`${SIG} 21 00 ffff 04 fffc`)); // a NOOP TLV fills the largest length there is
  assert.deepEqual((await readProxyHeader(sender(huge))).header, proxied(2));
  const tooBig = sender(huge, 1);
  const message = "Cannot read PROXY v2 header of 65551 bytes: expected at most 1000";
  await assert.rejects(readProxyHeader(tooBig, 1000), isProblem("too_large", message));
  assert.equal(tooBig.handed, 16);
  const longLine = sender(line);
  await assert.rejects(readProxyHeader(longLine, 20), isProblem("too_large", /within 20 bytes$/));
  assert.equal(longLine.handed, 20);
  for (const maxBytes of [15, 16.5, MAX_PROXY_HEADER + 1]) {
    await assert.rejects(readProxyHeader(sender(line), maxBytes), RangeError);
  }
  const reset = new Deno.errors.ConnectionReset("Connection reset by peer");
  await assert.rejects(readProxyHeader({ read: () => Promise.reject(reset) }), (e) => e === reset);
});
