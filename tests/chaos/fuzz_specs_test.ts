/**
 * Fuzzing the parsers of the command line's specs (upstreams, health checks, faults) and of the
 * command line itself: 100,000 generated inputs each. Valid input parses to what it says;
 * everything else is rejected with the documented error in the house form; no call is slow and
 * the heap stays bounded.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { ALGORITHMS } from "../../lib/balance/algorithms.ts";
import { LOG_FORMATS, LOG_LEVELS, parseCliArgs, UsageError } from "../../lib/cli/args.ts";
import { LAYER_FLAGS } from "../../lib/cli/layer_flags.ts";
import { POOL_FLAGS } from "../../lib/cli/pool_flags.ts";
import { parseHealthCheck } from "../../lib/health/parse.ts";
import { parseFault } from "../../lib/middleware/faults/spec.ts";
import { parseUpstream } from "../../lib/pool/upstream.ts";
import { address, cidr, rate, shortDuration } from "./_arbitraries.ts";
import { assertHouseError, assertType, attempt, fuzz, RUNS, show } from "./_fuzz.ts";
import { fault, healthCheck, upstream } from "./_spec_arbitraries.ts";
import { anyText, cases, huge, mutate } from "./_text_arbitraries.ts";

const UPSTREAM_ALPHABET = "0123456789abz.:[],=-_ weightbackup";
const HEALTH_ALPHABET = "tcphttp:/,=sendexpect\\xrn0123456789-status host";
const FAULT_ALPHABET =
  "upstreamdownstream:,=latencyjitterbandwidthslice-resetblackholeprobability" +
  "0123456789.mskKMGiBb/";

Deno.test("parseUpstream() reads HOST:PORT,weight=N,backup and rejects the rest with TypeError", () => {
  const arbitrary = cases(upstream, UPSTREAM_ALPHABET, huge(",backup,weight=1", "10.0.0.1:80"));
  const figures = fuzz("parseUpstream", arbitrary, ({ text, expected }) => {
    const outcome = attempt(() => parseUpstream(text, "--upstream"));
    if (!outcome.ok) {
      assert.ok(expected === undefined, `rejected valid ${show(text)}: ${outcome.error}`);
      const address = text.split(",")[0];
      return assertHouseError(outcome.error, TypeError, "--upstream", text, address);
    }
    if (expected) assert.deepEqual(outcome.value, expected);
    const { weight } = outcome.value;
    assert.ok(
      Number.isInteger(weight) && weight >= 1 && weight <= 1000,
      `${show(text)}: ${weight}`,
    );
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("parseHealthCheck() reads the three forms and rejects the rest with TypeError", () => {
  // Long values, and a few over the 64 KiB that a send/expect check reads at most.
  const bigExpect = fc.oneof(
    { weight: 9, arbitrary: fc.tuple(fc.constantFrom("x", "é", "😀", "\\x41"), fc.nat(4_000)) },
    { weight: 1, arbitrary: fc.constantFrom<[string, number]>(["😀", 16_385], ["x", 65_537]) },
  ).map(([piece, times]) => `send=PING,expect=${piece.repeat(times)}x`);
  const arbitrary = cases(
    healthCheck,
    HEALTH_ALPHABET,
    bigExpect,
    huge(",status=2xx", "http:/"),
    huge("\\x0", "expect="),
  );
  const figures = fuzz("parseHealthCheck", arbitrary, ({ text, expected }) => {
    const outcome = attempt(() => parseHealthCheck(text));
    if (!outcome.ok) {
      assert.ok(expected === undefined, `rejected valid ${show(text)}: ${outcome.error}`);
      return assertHouseError(outcome.error, TypeError, "--health-check", text);
    }
    if (expected) assert.equal(outcome.value.name, expected, show(text));
    assert.equal(typeof outcome.value, "function");
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("parseFault() reads DIRECTION:KEY=VALUE,... and rejects the rest with TypeError", () => {
  const arbitrary = cases(fault, FAULT_ALPHABET, huge(",latency=1ms", "upstream:slice=1"));
  const figures = fuzz("parseFault", arbitrary, ({ text, expected }) => {
    const outcome = attempt(() => parseFault(text));
    if (!outcome.ok) {
      assert.ok(expected === undefined, `rejected valid ${show(text)}: ${outcome.error}`);
      return assertHouseError(outcome.error, TypeError, "--fault", text);
    }
    if (expected) assert.deepEqual(outcome.value, expected);
    const { direction, ...fields } = outcome.value;
    assert.ok(direction === "upstream" || direction === "downstream");
    for (const [key, value] of Object.entries(fields)) {
      const ok = key === "blackhole"
        ? value === true
        : Number.isSafeInteger(value) && (value as number) >= 0;
      assert.ok(ok || key === "probability", `${show(text)}: ${key} = ${value}`);
    }
  });
  assert.equal(figures.cases, RUNS);
});

/** Every flag, long name to whether it takes a value; and the short names. */
const FLAGS: Record<string, boolean> = {
  ...Object.fromEntries(Object.keys({ ...LAYER_FLAGS, ...POOL_FLAGS }).map((name) => [name, true])),
  ...Object.fromEntries(
    ["listen", "idle-timeout", "drain-timeout", "log-level", "log-format", "workers", "config"]
      .map((name) => [name, true]),
  ),
  watch: false,
  help: false,
  version: false,
};
const SHORT: Record<string, string> = {
  l: "listen",
  u: "upstream",
  b: "balance",
  w: "workers",
  c: "config",
  h: "help",
  V: "version",
};

const duration = shortDuration.map((d) => d.text);
const positive = shortDuration.filter((d) => d.expected > 0).map((d) => d.text);
const count = (min: number) => fc.integer({ min, max: 999_999 }).map(String);

/** An option, there one time in three. */
const sometimes = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

/** A valid command line, as [flag, value] pairs that respect which flags need which. */
const validFlags = fc.record({
  listen: sometimes(address(true).map((a) => a.text)),
  upstream: fc.array(upstream.map((u) => u.text), { maxLength: 3 }),
  balance: sometimes(fc.constantFrom(...Object.keys(ALGORITHMS))),
  health: sometimes(fc.record({
    "health-check": healthCheck.map((h) => h.text),
    "health-interval": sometimes(positive),
    "health-timeout": sometimes(positive),
    "health-rise": sometimes(count(1)),
    "health-fall": sometimes(count(1)),
  })),
  durations: fc.record({
    "idle-timeout": sometimes(duration),
    "drain-timeout": sometimes(duration),
    "fail-timeout": sometimes(duration),
    "slow-start": sometimes(duration),
    "connect-timeout": sometimes(duration),
    "connect-deadline": sometimes(duration),
    "dns-ttl": sometimes(duration),
  }),
  "log-level": sometimes(fc.constantFrom(...LOG_LEVELS)),
  "log-format": sometimes(fc.constantFrom(...LOG_FORMATS)),
  workers: sometimes(fc.oneof(fc.constant("auto"), fc.integer({ min: 1, max: 256 }).map(String))),
  "max-fails": sometimes(count(0)),
  "connect-tries": sometimes(count(1)),
  rules: fc.array(
    fc.tuple(
      fc.constantFrom("allow", "deny"),
      fc.oneof(fc.constant("all"), cidr.map((c) => c.text)),
    ),
    { maxLength: 3 },
  ),
  rate: sometimes(
    fc.tuple(rate.filter((r) => r.expected > 0).map((r) => r.text), sometimes(count(1))),
  ),
  "max-connections-per-ip": sometimes(count(1)),
  limit: sometimes(fc.tuple(count(1), sometimes(fc.tuple(count(1), sometimes(duration))))),
  fault: fc.array(fault.map((f) => f.text), { maxLength: 2 }),
  config: sometimes(fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !s.startsWith("-"))),
  switches: fc.subarray(["watch", "help", "version"]),
}).map((f) => {
  const pairs: [string, string | undefined][] = [];
  const add = (name: string, value: string | null | undefined) => {
    if (value !== null && value !== undefined) pairs.push([name, value]);
  };
  for (const [name, value] of Object.entries({ ...f, ...f.health, ...f.durations })) {
    if (typeof value === "string" || value === null) add(name, value);
  }
  for (const text of f.upstream) add("upstream", text);
  for (const [action, block] of f.rules) add(action, block);
  for (const text of f.fault) add("fault", text);
  if (f.rate) add("rate-limit", f.rate[0]), add("rate-burst", f.rate[1]);
  if (f.limit) {
    add("max-connections", f.limit[0]);
    if (f.limit[1]) add("queue", f.limit[1][0]), add("queue-timeout", f.limit[1][1]);
  }
  for (const name of f.switches) pairs.push([name, undefined]);
  return pairs;
});

/** Writes [flag, value] pairs as arguments, each in one of the forms parseArgs reads. */
const written = fc.tuple(validFlags, fc.array(fc.nat(2), { minLength: 40, maxLength: 40 })).map(
  ([pairs, styles]) =>
    pairs.flatMap(([name, value], i) => {
      const style = styles[i % styles.length];
      const short = Object.keys(SHORT).find((key) => SHORT[key] === name);
      const flag = short && style === 2 ? `-${short}` : `--${name}`;
      if (value === undefined) return [flag];
      return style === 1 && flag.startsWith("--") ? [`${flag}=${value}`] : [flag, value];
    }),
);

const ARG_ALPHABET = "-=lubwchVx0123456789.:/ms";
/** Arguments that are near a command line: flags, values, and noise. */
const argument = fc.oneof(
  fc.constantFrom(...Object.keys(FLAGS).map((name) => `--${name}`)),
  fc.constantFrom(...Object.keys(SHORT).map((name) => `-${name}`), "-", "--", "-hV", "-lu"),
  fc.constantFrom("--__proto__", "--constructor", "--toString=1", "--=", "---listen", "-x"),
  fc.tuple(fc.constantFrom(...Object.keys(FLAGS)), anyText(ARG_ALPHABET)).map(([n, v]) =>
    `--${n}=${v}`
  ),
  anyText(ARG_ALPHABET),
  mutate(fc.constantFrom("--listen", "--upstream", "--health-check", "127.0.0.1:80"), ARG_ALPHABET),
);

/** A valid command line with one argument changed, dropped, moved or added. */
const nearValid = fc.tuple(written, fc.nat(), fc.nat(), argument, fc.nat(3)).map(
  ([args, i, j, extra, how]) => {
    const at = i % (args.length + 1);
    const copy = [...args];
    if (how === 0) copy.splice(at, 0, extra);
    else if (how === 1) copy.splice(at, 1);
    else if (how === 2) copy.splice(at, 1, extra);
    else copy.splice(j % (copy.length + 1), 0, ...copy.splice(at, 1));
    return copy;
  },
);

Deno.test("parseCliArgs() reads valid command lines and rejects the rest with a clear UsageError", () => {
  const arbitrary = fc.oneof(
    { weight: 3, arbitrary: written.map((args) => ({ args, valid: true })) },
    { weight: 3, arbitrary: nearValid.map((args) => ({ args, valid: false })) },
    {
      weight: 2,
      arbitrary: fc.array(argument, { maxLength: 6 }).map((args) => ({ args, valid: false })),
    },
  );
  const figures = fuzz("parseCliArgs", arbitrary, ({ args, valid }) => {
    const outcome = attempt(() => parseCliArgs(args));
    if (outcome.ok) return assert.ok(Array.isArray(outcome.value.given));
    assert.ok(!valid, `rejected valid ${show(JSON.stringify(args))}: ${outcome.error}`);
    assertType(outcome.error, UsageError);
    assertClear(outcome.error.message, args);
  });
  assert.equal(figures.cases, RUNS);
});

/**
 * Asserts that a usage error names what is wrong, truthfully: the argument, flag or value it
 * quotes was given, and a flag it says takes no value (or needs one) is such a flag.
 */
function assertClear(message: string, args: string[]): void {
  const where = `${show(message)} for ${show(JSON.stringify(args))}`;
  const given = (flag: string) =>
    args.some((arg) => arg === flag || arg.startsWith(`${flag}=`)) ||
    args.some((arg) => /^-[^-]/.test(arg) && SHORT[arg[1]] === flag.slice(2));
  let match;
  if ((match = /^Option "(--[^"]+)" takes no value: expected "\1" alone$/.exec(message))) {
    assert.ok(FLAGS[match[1].slice(2)] === false, `${where}: ${match[1]} does take a value`);
  } else if ((match = /^Option "(--[^"]+)" needs a value: see --help$/.exec(message))) {
    assert.ok(FLAGS[match[1].slice(2)] === true, `${where}: ${match[1]} takes no value`);
  } else if (
    (match = /^Unknown option "(-[\s\S]*)": expected one of the options in --help$/.exec(message))
  ) {
    const name = match[1];
    assert.ok(args.some((arg) => arg.includes(name.replace(/^-(?=[^-])/, ""))), where);
    assert.ok(!(name.startsWith("--") && Object.hasOwn(FLAGS, name.slice(2))), where);
  } else if (
    (match = /^Unexpected argument "([\s\S]*)": options start with - or --$/.exec(message))
  ) {
    const positional = match[1]; // parseArgs reads "-V-x" as -V, --, -x: a positional
    assert.ok(args.some((arg) => arg.includes(positional)), where);
  } else if (
    (match = /^Option (--[a-z-]+) needs (--[a-z-]+)[\s\S]*: add it, or drop/.exec(message))
  ) {
    assert.ok(given(match[1]), where);
  } else if ((match = /^Cannot parse (--[a-z-]+) "/.exec(message))) {
    const flag = match[1];
    const values = args.flatMap((arg, i) => {
      if (arg.startsWith(`${flag}=`)) return [arg.slice(flag.length + 1)];
      if (arg === flag) return [args[i + 1] ?? ""];
      if (!/^-[^-]/.test(arg)) return [];
      for (let j = 1; j < arg.length; j++) { // a group such as -hVu10.0.0.1:80
        const long = Object.hasOwn(SHORT, arg[j]) ? SHORT[arg[j]] : undefined;
        if (long === undefined || !FLAGS[long]) continue;
        return `--${long}` === flag ? [arg.slice(j + 1) || (args[i + 1] ?? "")] : [];
      }
      return [];
    });
    const quoted = values.flatMap((value) => [value, value.split(",")[0]]);
    assert.ok(values.length > 0, `${where}: ${flag} was not given`);
    assertHouseError(new UsageError(message), UsageError, flag, ...quoted);
  } else {
    assert.fail(`unclear usage error ${where}`);
  }
}

Deno.test("parseHealthCheck() rejects an expect longer than 64 KiB with TypeError (found by fuzzing)", () => {
  const text = `expect=${"x".repeat(65_537)}`;
  assert.throws(() => parseHealthCheck(text), TypeError);
  assert.throws(() => parseCliArgs(["--health-check", text]), UsageError);
});

Deno.test("parseCliArgs() says a flag whose value looks like a flag needs a value (found by fuzzing)", () => {
  for (const args of [["--upstream", "--listen", "127.0.0.1:8081"], ["-l", "-1"]]) {
    assert.throws(() => parseCliArgs(args), (error) => {
      assertType(error, UsageError);
      assertClear(error.message, args);
      return true;
    });
  }
});

Deno.test("parseCliArgs() quotes an unknown option whole, such as a flag and its value in one argument (found by fuzzing)", () => {
  assert.throws(() => parseCliArgs(["--listen 127.0.0.1:8081"]), {
    name: "UsageError",
    message: 'Unknown option "--listen 127.0.0.1:8081": expected one of the options in --help',
  });
});

Deno.test("parseCliArgs() refuses a long group of short options at once (found by fuzzing)", () => {
  const start = performance.now();
  assert.throws(() => parseCliArgs([`-${"hV".repeat(16_000)}`]), UsageError);
  const ms = performance.now() - start;
  assert.ok(ms < 50, `took ${ms.toFixed(0)} ms`);
});
