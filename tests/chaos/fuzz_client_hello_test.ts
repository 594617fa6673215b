/**
 * Fuzzing parseClientHello(), 100,000 generated inputs a test: valid ClientHellos, built field by
 * field and fragmented over records of random sizes, parse to exactly their server name and ALPN;
 * their prefixes wait for more, and a limit below their records is too_large; mutated and random
 * bytes give undefined, a ClientHello or a ClientHelloError, decide nothing from bytes past
 * maxBytes, and never change a decision as more bytes arrive. Read in pieces, as readClientHello()
 * reads them, every input is decided as parseClientHello() decides it at once. No call is slow.
 * The inputs are built in `_client_hello_arbitraries.ts`.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type ClientHello,
  ClientHelloError,
  MAX_CLIENT_HELLO,
  parseClientHello,
} from "../../lib/tls/client_hello.ts";
import { parseBody } from "../../lib/tls/_hello_body.ts";
import { type Fail, Records } from "../../lib/tls/_records.ts";
import { assertType, attempt, fuzz, type Outcome, RUNS, show } from "./_fuzz.ts";
import { mutated, soup, validCase } from "./_client_hello_arbitraries.ts";

const PROBLEMS = ["not_tls", "malformed", "too_large"];

/** Asserts an outcome is undefined, a well-formed ClientHello, or a ClientHelloError. */
function assertOutcome(outcome: Outcome<ClientHello | undefined>, input: Uint8Array): void {
  if (!outcome.ok) {
    assertType(outcome.error, ClientHelloError);
    const { problem, message, bytes } = outcome.error;
    assert.ok(PROBLEMS.includes(problem), `problem ${problem}`);
    assert.equal(bytes, input);
    assert.match(message, /^Cannot parse ClientHello: .*expected/s);
    assert.doesNotMatch(message, /[^.]\.$/, `message ${show(message)} ends with a period`);
    return;
  }
  if (outcome.value === undefined) return;
  const { serverName, alpn } = outcome.value;
  if (serverName !== undefined) assert.match(serverName, /^[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*$/);
  assert.ok((serverName?.length ?? 0) <= 253);
  assert.ok(alpn.every((name) => name.length >= 1 && name.length <= 255));
}

/** The same outcome: the same ClientHello, or the same problem and message. */
function same(a: Outcome<unknown>, b: Outcome<unknown>): boolean {
  if (a.ok || b.ok) return a.ok && b.ok && JSON.stringify(a.value) === JSON.stringify(b.value);
  const [x, y] = [a.error as ClientHelloError, b.error as ClientHelloError];
  return x.problem === y.problem && x.message === y.message;
}

/** An outcome as text, for an assertion's message. */
function text(outcome: Outcome<unknown>): string {
  return show(outcome.ok ? JSON.stringify(outcome.value) : String(outcome.error));
}

/** Asserts the same outcome; the message, made only if not, says how each came. */
function assertSame(a: Outcome<unknown>, how: string, b: Outcome<unknown>, then: string): void {
  if (!same(a, b)) assert.fail(`${how} ${text(a)}, ${then} ${text(b)}`);
}

/** What reading bytes in pieces decided, and the bytes read by then. */
interface Decision {
  outcome: Outcome<ClientHello | undefined>;
  read: Uint8Array;
}

/**
 * Reads `bytes` as readClientHello() does, in pieces that end at `cuts` (taken modulo the length,
 * in any order) and at the end: one Records is given every byte so far after each piece, until
 * it decides.
 */
function inPieces(bytes: Uint8Array, maxBytes: number, cuts: number[]): Decision {
  const records = new Records(maxBytes);
  const ends = cuts.map((cut) => cut % (bytes.length + 1)).sort((a, b) => a - b);
  let decision: Decision = { outcome: { ok: true, value: undefined }, read: bytes };
  for (const length of [...ends, bytes.length]) {
    const prefix = bytes.subarray(0, length);
    const fail: Fail = (problem, detail) => {
      throw new ClientHelloError(problem, `Cannot parse ClientHello: ${detail}`, prefix);
    };
    const outcome = attempt(() => {
      const message = records.next(prefix, fail);
      return message && parseBody(message, fail);
    });
    decision = { outcome, read: prefix };
    if (!outcome.ok || outcome.value) break;
  }
  return decision;
}

const cuts = fc.array(fc.nat(), { maxLength: 6 });

Deno.test("parseClientHello() reads the server name and ALPN of any valid ClientHello, in any records and pieces", () => {
  const arbitrary = fc.tuple(validCase, cuts);
  const figures = fuzz("parseClientHello valid", arbitrary, ([valid, cuts]) => {
    const { bytes, complete, expected } = valid;
    const outcome = attempt(() => parseClientHello(bytes, bytes.length));
    assert.ok(outcome.ok, `rejected a valid ClientHello: ${outcome.ok || outcome.error}`);
    assert.deepEqual(outcome.value, expected);
    const exact = attempt(() => parseClientHello(bytes.subarray(0, complete), complete));
    assert.deepEqual(exact, outcome);
    const byDefault = attempt(() => parseClientHello(bytes));
    if (complete <= MAX_CLIENT_HELLO) assert.deepEqual(byDefault, outcome);
    else assert.ok(!byDefault.ok && (byDefault.error as ClientHelloError).problem === "too_large");
    const pieces = inPieces(bytes, bytes.length, cuts);
    assertSame(pieces.outcome, "in pieces", outcome, "at once");
    const first = Math.min(
      ...cuts.map((cut) => cut % (bytes.length + 1)).filter((n) => n >= complete),
    );
    assert.equal(pieces.read.length, Math.min(first, bytes.length), "decided at the wrong piece");
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("parseClientHello() waits on a prefix of a valid ClientHello, and is too_large only below its records", () => {
  const arbitrary = fc.tuple(validCase, fc.nat(), fc.nat());
  const figures = fuzz("parseClientHello prefixes", arbitrary, ([valid, a, b]) => {
    const { bytes, complete, expected } = valid;
    const prefix = bytes.subarray(0, a % complete);
    assert.deepEqual(attempt(() => parseClientHello(prefix, bytes.length)), {
      ok: true,
      value: undefined,
    });
    const maxBytes = 1 + b % (bytes.length + 5);
    for (const input of [bytes, prefix]) {
      const outcome = attempt(() => parseClientHello(input, maxBytes));
      if (outcome.ok) {
        const value = input === bytes ? expected : undefined;
        assert.deepEqual(outcome.value, value, `limit ${maxBytes}, ${input.length} bytes`);
      } else {
        assertType(outcome.error, ClientHelloError);
        assert.equal(outcome.error.problem, "too_large", outcome.error.message);
        assert.ok(maxBytes < complete, `too_large with ${maxBytes} for ${complete} bytes`);
      }
    }
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("parseClientHello() gives undefined, a ClientHello or a ClientHelloError for mutated and random bytes, at once or in pieces", () => {
  const input = fc.oneof({ weight: 3, arbitrary: mutated }, soup);
  const arbitrary = fc.tuple(input, fc.nat(), fc.nat(), cuts);
  const figures = fuzz("parseClientHello mutated", arbitrary, ([bytes, a, b, cuts]) => {
    const outcome = attempt(() => parseClientHello(bytes, bytes.length + 1));
    assertOutcome(outcome, bytes);
    const maxBytes = 1 + a % (bytes.length + 5);
    const limited = attempt(() => parseClientHello(bytes, maxBytes));
    assertOutcome(limited, bytes);
    const seen = bytes.subarray(0, maxBytes);
    assert.ok(same(limited, attempt(() => parseClientHello(seen, maxBytes))), "read past maxBytes");
    assert.ok(bytes.length < maxBytes || !limited.ok || limited.value, "undefined at the limit");
    const prefix = bytes.subarray(0, b % (bytes.length + 1));
    const early = attempt(() => parseClientHello(prefix, bytes.length + 1));
    const decided = !early.ok
      ? (early.error as ClientHelloError).problem !== "too_large"
      : early.value;
    if (decided) assertSame(early, "decided", outcome, "then");
    const pieces = inPieces(bytes, maxBytes, cuts);
    assertOutcome(pieces.outcome, pieces.read);
    const atOnce = pieces.read.length === bytes.length
      ? limited
      : attempt(() => parseClientHello(pieces.read, maxBytes));
    assertSame(pieces.outcome, "in pieces", atOnce, "at once");
  });
  assert.equal(figures.cases, RUNS);
});
