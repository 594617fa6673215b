/**
 * Fuzzing the PROXY protocol parser: 100,000 valid headers built here from the spec (every family,
 * command and kind of TLV, CRC32C included) must parse to exactly what they say, however they are
 * cut; 100,000 mutated headers and random bytes must give undefined, a header or a
 * ProxyHeaderError, and the answer must agree with itself on prefixes and extensions; and
 * readProxyHeader() must agree with parseProxyHeader() however the bytes are split into reads.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { parseIp } from "../../lib/ip.ts";
import { ProxyHeaderError } from "../../lib/proxy_protocol/header.ts";
import { parseProxyHeader } from "../../lib/proxy_protocol/parse.ts";
import { readProxyHeader } from "../../lib/proxy_protocol/read.ts";
import { assertType, attempt, fuzz, RUNS, show } from "./_fuzz.ts";
import { join, mutated, noise, tail, valid } from "./_proxy_arbitraries.ts";

/** Asserts what parseProxyHeader() may give: undefined, a well-formed header, or its own error. */
function checkOutcome(
  bytes: Uint8Array,
  outcome: ReturnType<typeof attempt<ReturnType<typeof parseProxyHeader>>>,
) {
  if (!outcome.ok) {
    assertType(outcome.error, ProxyHeaderError);
    assert.ok(outcome.error.problem !== "truncated", outcome.error.message);
    return;
  }
  const parsed = outcome.value;
  if (parsed === undefined) return;
  assert.ok(
    parsed.length >= 15 && parsed.length <= bytes.length,
    `length ${parsed.length} of ${bytes.length}`,
  );
  const { version, command, source, destination, authority } = parsed.header;
  assert.ok(version === 1 || version === 2);
  assert.ok(command === "proxy" || (command === "local" && version === 2));
  assert.equal(source === undefined, destination === undefined);
  for (const address of [source, destination]) {
    if (address === undefined) continue;
    assert.ok(parseIp(address.hostname), `hostname ${show(address.hostname)}`);
    assert.ok(Number.isInteger(address.port) && address.port >= 0 && address.port <= 65535);
  }
  assert.ok(authority === undefined || (version === 2 && typeof authority === "string"));
}

Deno.test("parseProxyHeader() parses valid headers exactly, whatever follows, and waits on every prefix", () => {
  const arbitrary = fc.tuple(valid, tail, fc.nat());
  const figures = fuzz("parseProxyHeader valid", arbitrary, ([{ bytes, expected }, after, cut]) => {
    const input = join(bytes, after);
    const outcome = attempt(() => parseProxyHeader(input));
    if (expected === "too_large") {
      assert.ok(!outcome.ok, `accepted a line of ${bytes.length} bytes`);
      assertType(outcome.error, ProxyHeaderError);
      return assert.equal(outcome.error.problem, "too_large", outcome.error.message);
    }
    assert.ok(
      outcome.ok,
      `rejected ${show(String.fromCharCode(...bytes))}: ${!outcome.ok && outcome.error}`,
    );
    assert.deepEqual(outcome.value, { header: expected, length: bytes.length });
    const prefix = bytes.subarray(0, cut % bytes.length);
    const waiting = attempt(() => parseProxyHeader(prefix));
    assert.ok(waiting.ok && waiting.value === undefined, `prefix of ${prefix.length} bytes`);
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("parseProxyHeader() gives undefined, a header or a ProxyHeaderError, and sticks to it", () => {
  const arbitrary = fc.tuple(fc.oneof(mutated, noise), tail, fc.nat());
  const figures = fuzz("parseProxyHeader mutated", arbitrary, ([bytes, after, cut]) => {
    const outcome = attempt(() => parseProxyHeader(bytes));
    checkOutcome(bytes, outcome);
    const longer = attempt(() => parseProxyHeader(join(bytes, after)));
    checkOutcome(join(bytes, after), longer);
    if (!outcome.ok) {
      // A rejection is final: more bytes cannot make the start valid.
      return assert.ok(!longer.ok, "accepted more bytes after rejecting their start");
    }
    if (outcome.value === undefined) {
      const prefix = bytes.subarray(0, cut % (bytes.length + 1));
      const shorter = attempt(() => parseProxyHeader(prefix));
      return assert.ok(
        shorter.ok && shorter.value === undefined,
        `prefix of ${prefix.length} bytes`,
      );
    }
    // A header does not depend on what follows it.
    assert.deepEqual(longer.ok && longer.value, outcome.value);
    const exact = attempt(() => parseProxyHeader(bytes.subarray(0, outcome.value!.length)));
    assert.deepEqual(exact.ok && exact.value, outcome.value);
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("readProxyHeader() agrees with parseProxyHeader() however the bytes are split", async () => {
  const arbitrary = fc.record({
    bytes: fc.oneof(valid.map((v) => v.bytes), mutated, noise),
    after: tail,
    chunks: fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
    maxBytes: fc.option(fc.integer({ min: 16, max: 300 }), { nil: undefined }),
  });
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(arbitrary, async ({ bytes, after, chunks, maxBytes }) => {
      runs++;
      const sent = join(bytes, after);
      let handed = 0;
      let reads = 0;
      const source = {
        read(buffer: Uint8Array) {
          if (handed === sent.length) return Promise.resolve(null);
          const n = Math.min(chunks[reads++ % chunks.length], buffer.length, sent.length - handed);
          buffer.set(sent.subarray(handed, handed + n));
          handed += n;
          return Promise.resolve(n);
        },
      };
      const limit = maxBytes ?? Infinity;
      const expected = attempt(() => parseProxyHeader(sent));
      try {
        const { header, rest } = await readProxyHeader(source, maxBytes);
        assert.ok(expected.ok && expected.value, "read a header that parse does not find");
        assert.deepEqual(header, expected.value.header);
        assert.deepEqual(rest, sent.subarray(expected.value.length, handed));
        assert.ok(expected.value.length <= limit);
      } catch (error) {
        assertType(error, ProxyHeaderError);
        if (error.problem === "truncated") {
          assert.ok(expected.ok && expected.value === undefined, error.message);
        } else if (expected.ok && expected.value) {
          assert.ok(error.problem === "too_large" && expected.value.length > limit, error.message);
        }
      }
      assert.ok(handed <= limit, `handed out ${handed} bytes, over ${limit}`);
    }),
    { numRuns: 20_000 },
  );
  console.log(`readProxyHeader: ${runs} inputs`);
});
