/**
 * Fuzzing the parsers of addresses, durations, IP addresses, CIDR blocks and rates: 100,000
 * generated inputs each. Valid inputs parse to what they say and round-trip through the
 * formatters; everything else is rejected with a TypeError in the house form; no call is slow and
 * the heap stays bounded.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { formatAddress, parseAddress } from "../../lib/address.ts";
import { formatDuration, MAX_DURATION_MS, parseDuration } from "../../lib/duration.ts";
import { clientKey, parseCidr, parseIp } from "../../lib/ip.ts";
import { parseRate } from "../../lib/rate.ts";
import {
  address,
  ALPHABET,
  canonicalIp,
  cidr,
  duration,
  inBlock,
  ipv4,
  ipv6,
  ipv6Soup,
  isStrictIpv4,
  rate,
  urlTakesIpv6,
} from "./_arbitraries.ts";
import { assertHouseError, attempt, fuzz, RUNS, show } from "./_fuzz.ts";
import { anyText, cases, huge } from "./_text_arbitraries.ts";

/** schema.json's pattern for addresses: what an accepted address must look like once formatted. */
const ADDRESS_SHAPE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):[0-9]{1,5}$/;
/** schema.json's pattern for CIDR blocks. */
const CIDR_SHAPE = /^(?:all|[0-9A-Fa-f:.]+(?:\/[0-9]{1,3})?)$/;

Deno.test("parseAddress() parses and round-trips valid input and rejects the rest with TypeError", () => {
  const soup = ipv6Soup.map((ip) => `[${ip}]:80`);
  const inputs = (portZero: boolean) =>
    cases(address(portZero), ALPHABET.address, soup, huge(ALPHABET.address, "a"))
      .map((input) => [input, portZero] as const);
  const arbitrary = fc.oneof(inputs(false), inputs(true));
  const figures = fuzz("parseAddress", arbitrary, ([{ text, expected }, portZero]) => {
    const label = portZero ? "--listen" : "--upstream";
    const outcome = attempt(() => parseAddress(text, { label, allowPortZero: portZero }));
    if (!outcome.ok) {
      assert.ok(expected === undefined, `rejected valid ${show(text)}: ${outcome.error}`);
      return assertHouseError(outcome.error, TypeError, label, text);
    }
    const parsed = outcome.value;
    if (expected) assert.deepEqual(parsed, expected);
    assert.ok(portZero || parsed.port !== 0, `port 0 accepted in ${show(text)}`);
    const formatted = formatAddress(parsed);
    assert.match(formatted, ADDRESS_SHAPE, `accepted ${show(text)} as ${show(formatted)}`);
    if (parsed.hostname.includes(":")) {
      assert.ok(parseIp(parsed.hostname), `accepted ${show(text)}: not an IPv6 address`);
    }
    assert.deepEqual(parseAddress(formatted, { allowPortZero: portZero }), parsed);
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("parseDuration() parses valid input, round-trips formatDuration() and rejects the rest", () => {
  const arbitrary = cases(duration, ALPHABET.duration, huge("0123456789", "1h"));
  const figures = fuzz("parseDuration", arbitrary, ({ text, expected }) => {
    const outcome = attempt(() => parseDuration(text, "--idle-timeout"));
    if (!outcome.ok) {
      assert.ok(
        expected === undefined || expected > MAX_DURATION_MS,
        `rejected valid ${show(text)}: ${outcome.error}`,
      );
      return assertHouseError(outcome.error, TypeError, "--idle-timeout", text);
    }
    const ms = outcome.value;
    if (expected !== undefined) assert.equal(ms, expected, show(text));
    assert.ok(Number.isInteger(ms) && ms >= 0 && ms <= MAX_DURATION_MS, `${show(text)}: ${ms}`);
    const formatted = formatDuration(ms);
    assert.match(formatted, /^(?:0|[1-9][0-9]*(?:ms|s|m|h))$/);
    assert.equal(parseDuration(formatted), ms, `${ms} ms formats as ${formatted}`);
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("formatDuration() writes every whole duration a timer holds so parseDuration() reads it back", () => {
  const ms = fc.oneof(
    fc.integer({ min: 0, max: MAX_DURATION_MS }),
    fc.tuple(fc.integer({ min: 0, max: 596 }), fc.constantFrom(1, 1_000, 60_000, 3_600_000))
      .map(([n, unit]) => Math.min(n * unit, MAX_DURATION_MS)),
  );
  const figures = fuzz("formatDuration", ms, (ms) => {
    const text = formatDuration(ms);
    const outcome = attempt(() => parseDuration(text));
    assert.ok(outcome.ok && outcome.value === ms, `${ms} ms formats as ${show(text)}`);
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("parseIp() reads every way of writing an address, agrees with URL, and clientKey() is canonical", () => {
  const zone = fc.option(fc.stringMatching(/^%[a-z0-9]{1,8}$/));
  const written = fc.oneof(
    ipv4.map(({ bytes, text }) => ({
      text,
      bytes: Uint8Array.from([...ZERO10, 255, 255, ...bytes]),
    })),
    fc.tuple(ipv6, zone).map(([{ bytes, text }, zone]) => ({ text: text + (zone ?? ""), bytes })),
  );
  const arbitrary = fc.oneof(
    { weight: 3, arbitrary: written },
    { weight: 2, arbitrary: ipv6Soup.map((text) => ({ text, bytes: undefined })) },
    { weight: 2, arbitrary: anyText(ALPHABET.cidr).map((text) => ({ text, bytes: undefined })) },
  );
  const figures = fuzz("parseIp/clientKey", arbitrary, ({ text, bytes }) => {
    const parsed = attempt(() => parseIp(text));
    assert.ok(parsed.ok, `parseIp(${show(text)}) threw ${!parsed.ok && parsed.error}`);
    const ip = parsed.value;
    if (bytes) assert.deepEqual(ip, bytes, show(text));
    const bare = text.replace(/%.*$/s, "");
    const valid = text.includes(":") ? urlTakesIpv6(bare) : isStrictIpv4(text);
    assert.equal(ip !== undefined, valid, `parseIp(${show(text)}) disagrees with the URL parser`);
    const key = attempt(() => clientKey(text));
    assert.ok(key.ok, `clientKey(${show(text)}) threw ${!key.ok && key.error}`);
    const canonical = !text.includes(":") || ip === undefined ? text : canonicalIp(ip);
    assert.equal(key.value, canonical, `clientKey(${show(text)})`);
  });
  assert.equal(figures.cases, RUNS);
});

const ZERO10 = new Array(10).fill(0);

Deno.test("parseCidr() matches exactly the addresses in the block and rejects the rest with TypeError", () => {
  const block = cidr.map(({ text, bytes, bits }) => ({ text, expected: { bytes, bits } }));
  const soup = fc.tuple(ipv6Soup, fc.option(fc.nat(200))).map(([ip, n]) =>
    ip + (n === null ? "" : `/${n}`)
  );
  const arbitrary = fc.tuple(
    cases(block, ALPHABET.cidr, soup),
    fc.array(fc.oneof(ipv4.map((ip) => ip.text), ipv6.map((ip) => ip.text)), { maxLength: 3 }),
  );
  const figures = fuzz("parseCidr", arbitrary, ([{ text, expected }, probes]) => {
    const outcome = attempt(() => parseCidr(text, "--allow"));
    if (!outcome.ok) {
      assert.ok(expected === undefined, `rejected valid ${show(text)}: ${outcome.error}`);
      return assertHouseError(outcome.error, TypeError, "--allow", text);
    }
    const block = outcome.value;
    assert.equal(block.text, text);
    assert.match(text, CIDR_SHAPE, `accepted ${show(text)}`);
    if (text === "all") return assert.ok(probes.every((probe) => block.contains(probe)));
    const [network, prefix = ""] = text.split("/");
    const bytes = parseIp(network);
    const v4 = !network.includes(":");
    assert.ok(v4 ? isStrictIpv4(network) : urlTakesIpv6(network), `accepted ${show(text)}`);
    const bits = (v4 ? 96 : 0) + (prefix === "" ? (v4 ? 32 : 128) : Number(prefix));
    if (expected) assert.deepEqual({ bytes, bits }, expected);
    for (const probe of [network, ...probes]) {
      const ip = parseIp(probe)!;
      assert.equal(block.contains(probe), inBlock(ip, bytes!, bits), `${text} ∋ ${probe}`);
      assert.equal(block.contains(ip), inBlock(ip, bytes!, bits), `${text} ∋ bytes of ${probe}`);
    }
    assert.equal(block.contains("example.com"), false);
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("parseRate() reads COUNT/s and COUNT/m and rejects the rest with TypeError", () => {
  const arbitrary = cases(rate, ALPHABET.rate, huge("0123456789", "9"));
  const figures = fuzz("parseRate", arbitrary, ({ text, expected }) => {
    const outcome = attempt(() => parseRate(text));
    if (!outcome.ok) {
      assert.ok(expected === undefined || expected === 0, `rejected valid ${show(text)}`);
      return assertHouseError(outcome.error, TypeError, "--rate-limit", text);
    }
    if (expected !== undefined) assert.equal(outcome.value, expected, show(text));
    assert.ok(
      Number.isFinite(outcome.value) && outcome.value > 0,
      `${show(text)}: ${outcome.value}`,
    );
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("parseIp() rejects an IPv4 tail before a final :: (found by fuzzing)", () => {
  assert.equal(parseIp("1.2.3.4::"), undefined);
  assert.equal(clientKey("1.2.3.4::"), "1.2.3.4::");
  assert.throws(() => parseCidr("1.2.3.4::/96", "--allow"), TypeError);
});

Deno.test("parseCidr() rejects a zone and whatever follows it (found by fuzzing)", () => {
  assert.throws(() => parseCidr("fe80::1%eth0/64", "--allow"), TypeError);
  assert.throws(() => parseCidr("::1%not an address", "--allow"), TypeError);
});

Deno.test("parseAddress() rejects control characters inside IPv6 brackets (found by fuzzing)", () => {
  for (const text of ["[::\t1]:80", "[::1\n]:80", "[:\r:1]:80"]) {
    assert.throws(() => parseAddress(text), TypeError, show(text));
  }
});
