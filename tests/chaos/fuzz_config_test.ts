/**
 * Fuzzing the config file: parseJsonc() on generated JSON with comments and trailing commas,
 * mutated and deeply nested, and validateConfig() and parseConfig() on generated configs, checked
 * against schema.json with ajv. 100,000 inputs each; no call is slow and the heap stays bounded.
 *
 * Where the schema and the validator must agree: the generator tags each value `OK` (both must
 * accept), `SHAPE` (the schema must reject it, so the validator must too) or `SEMANTIC` (the
 * schema cannot judge it: a HOST:PORT, CIDR or spec that its pattern admits but the parser
 * rejects, a duration text over 596h, one that rounds to 0 ms where above 0 is needed, a name or
 * listen address used twice, or queueTimeout without a queue). A config takes its worst tag, and
 * SHAPE outweighs SEMANTIC: the agreement is asserted on every config that is not SEMANTIC.
 */

import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parseAddress } from "../../lib/address.ts";
import { ALGORITHMS } from "../../lib/balance/algorithms.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../../lib/cli/args.ts";
import { ConfigError } from "../../lib/config/config.ts";
import { parseJsonc } from "../../lib/config/jsonc.ts";
import { parseConfig } from "../../lib/config/parse_config.ts";
import { validateConfig } from "../../lib/config/validate.ts";
import { parseDuration } from "../../lib/duration.ts";
import { parseHealthCheck } from "../../lib/health/parse.ts";
import { clientKey, parseCidr } from "../../lib/ip.ts";
import { parseFault } from "../../lib/middleware/faults/spec.ts";
import { parseRate } from "../../lib/middleware/rate_limit.ts";
import { parseUpstream } from "../../lib/pool/upstream.ts";
import {
  address,
  ALPHABET,
  anyText,
  assertType,
  attempt,
  cidr,
  duration,
  fault,
  fc,
  fuzz,
  healthCheck,
  MAX_MS,
  mutate,
  over,
  rate,
  RUNS,
  shortDuration,
  show,
  upstream,
} from "./_arbitraries.ts";

// JSONC text: JSON with comments and trailing commas in every place they may go.

/** A small, seeded random number generator, so one integer decides how a text is decorated. */
function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const GAPS = [
  ...["", "", "", " ", "\n", "\r\n", "\t", "\n  ", "/**/", "//\n", "/* , ] } */"],
  ...[" // a note\n", "/* multi\nline */", '// "quoted" /* not a block\n', "/* // not a line */"],
];
const COMMENT_CHARS = [...'ab /*\\",:[]{}\t\ré😀\u2028\ufeff\0'];

/** `value` as JSONC: comments and space between tokens, and trailing commas, as `seed` decides. */
function toJsonc(value: unknown, seed: number): string {
  const random = mulberry32(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)];
  const noise = (length: number) => Array.from({ length }, () => pick(COMMENT_CHARS)).join("");
  const gap = (): string => {
    const roll = random();
    if (roll < 0.05) return `//${noise(6)}\n`;
    if (roll < 0.1) return `/*${noise(6).replaceAll("*/", "* /")}*/`;
    return pick(GAPS);
  };
  const trailing = (count: number) => count > 0 && random() < 0.3 ? `,${gap()}` : "";
  const write = (value: unknown): string => {
    if (Array.isArray(value)) {
      const items = value.map((item) => gap() + write(item) + gap());
      return `[${items.join(",")}${trailing(items.length)}${gap()}]`;
    }
    if (typeof value === "object" && value !== null) {
      const entries = Object.entries(value)
        .map(([key, item]) =>
          `${gap()}${JSON.stringify(key)}${gap()}:${gap()}${write(item)}${gap()}`
        );
      return `{${entries.join(",")}${trailing(entries.length)}${gap()}}`;
    }
    return JSON.stringify(value);
  };
  return (random() < 0.1 ? "\ufeff" : "") + gap() + write(value) + gap();
}

const JSON_ALPHABET = '{}[],:"\\/*\n 0123456789.-+eEtruefalsn';
const stringUnit = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...'ab/*"\\,:[]{} \n\té😀\u2028'.split("")) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 1 }) },
);
const json = fc.jsonValue({ maxDepth: 3, stringUnit });

/** Whether two JSON values are equal, compared without recursion (they may nest 20,000 deep). */
function jsonEqual(a: unknown, b: unknown): boolean {
  const pending: [unknown, unknown][] = [[a, b]];
  for (let pair = pending.pop(); pair; pair = pending.pop()) {
    const [x, y] = pair;
    if (typeof x !== "object" || x === null || typeof y !== "object" || y === null) {
      if (!Object.is(x, y)) return false;
      continue;
    }
    if (Array.isArray(x) !== Array.isArray(y)) return false;
    const keys = Object.keys(x);
    if (keys.length !== Object.keys(y).length) return false;
    for (const key of keys) {
      if (!Object.hasOwn(y, key)) return false;
      pending.push([(x as Record<string, unknown>)[key], (y as Record<string, unknown>)[key]]);
    }
  }
  return true;
}

/** Asserts that a SyntaxError from parseJsonc names a line and column inside `text`. */
function assertPosition(error: unknown, text: string, file: string | undefined): void {
  assertType(error, SyntaxError);
  const prefix = file === undefined ? "" : `${file}:`;
  const match = /^(\d+):(\d+): \S/.exec(error.message.slice(prefix.length));
  assert.ok(error.message.startsWith(prefix) && match, `no position in ${show(error.message)}`);
  const lines = text.split("\n");
  const [line, column] = [Number(match[1]), Number(match[2])];
  assert.ok(line >= 1 && line <= lines.length, `line ${line} of ${lines.length}`);
  assert.ok(
    column >= 1 && column <= lines[line - 1].length + 1,
    `column ${column} of line ${line}`,
  );
}

Deno.test("parseJsonc() reads JSON with comments and trailing commas as JSON.parse() reads the JSON", () => {
  const decorated = fc.tuple(json, fc.integer()).map(([value, seed]) => ({
    text: toJsonc(value, seed),
    expected: JSON.parse(JSON.stringify(value)) as unknown,
  }));
  const deep = fc.tuple(
    fc.constantFrom("[", '{"a":', '[{"":', "[1,"),
    fc.integer({ min: 1_000, max: 12_000 }),
    fc.constantFrom("", "]", "1", "}", "x", "/*"),
  ).map(([open, depth, end]) => open.repeat(depth) + end);
  const balanced = fc.integer({ min: 1_000, max: 12_000 })
    .map((depth) => ({ text: "[".repeat(depth) + "]".repeat(depth), expected: undefined }));
  const unknown = (text: string) => ({ text, expected: undefined as unknown });
  const arbitrary = fc.tuple(
    fc.oneof(
      { weight: 16, arbitrary: decorated },
      { weight: 4, arbitrary: json.map((value) => unknown(JSON.stringify(value, null, 2))) },
      { weight: 12, arbitrary: mutate(decorated.map((c) => c.text), JSON_ALPHABET).map(unknown) },
      { weight: 6, arbitrary: anyText(JSON_ALPHABET).map(unknown) },
      { weight: 1, arbitrary: deep.map(unknown) },
      { weight: 1, arbitrary: balanced },
    ),
    fc.option(fc.constant("minginx.jsonc"), { nil: undefined }),
  );
  const figures = fuzz("parseJsonc", arbitrary, ([{ text, expected }, file]) => {
    let plain: { value: unknown } | undefined;
    try {
      plain = { value: JSON.parse(text) };
    } catch {
      plain = undefined;
    }
    const outcome = attempt(() => parseJsonc(text, file));
    if (!outcome.ok) {
      assert.ok(expected === undefined && plain === undefined, `rejected valid ${show(text)}`);
      return assertPosition(outcome.error, text, file);
    }
    if (expected !== undefined) assert.ok(jsonEqual(outcome.value, expected), show(text));
    if (plain) assert.ok(jsonEqual(outcome.value, plain.value), show(text));
  });
  assert.equal(figures.cases, RUNS);
});

Deno.test("parseJsonc() rejects deeply nested unclosed input with SyntaxError (found by fuzzing)", () => {
  for (const text of ["[".repeat(10_000), '{"a":'.repeat(10_000)]) {
    assert.throws(() => parseJsonc(text, "minginx.jsonc"), SyntaxError);
  }
});

// Configs, each value tagged with what the schema can say about it.

const OK = 0;
const SEMANTIC = 1;
const SHAPE = 2;
type Tag = typeof OK | typeof SEMANTIC | typeof SHAPE;
interface Tagged {
  value: unknown;
  tag: Tag;
}
const as = (tag: Tag) => (arbitrary: fc.Arbitrary<unknown>) =>
  arbitrary.map((value): Tagged => ({ value, tag }));
const ok = as(OK);
const shape = as(SHAPE);

/** A value of a JSON type the field does not take. */
const WRONG: unknown[] = [true, false, null, 0, 7, -1, "", "x", "5s", [], [1], {}, { a: 1 }];
function wrong(takes: (value: unknown) => boolean): fc.Arbitrary<Tagged> {
  return shape(fc.constantFrom(...WRONG.filter((value) => !takes(value))));
}
const isString = (v: unknown) => typeof v === "string";
const isNumber = (v: unknown) => typeof v === "number";
const isArray = (v: unknown) => Array.isArray(v);
const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);

// The patterns of schema.json, compiled as ajv compiles them.
const SCHEMA = JSON.parse(await Deno.readTextFile(new URL("../../schema.json", import.meta.url)));
const SERVER = SCHEMA.properties.servers.items.properties;
const pattern = (text: string) => new RegExp(text, "u");
const PATTERN = {
  duration: pattern(SCHEMA.$defs.duration.anyOf[0].pattern),
  zero: pattern(SCHEMA.$defs.positiveDuration.anyOf[0].not.pattern),
  address: pattern(SCHEMA.$defs.address.pattern),
  listen: pattern(SCHEMA.$defs.listenAddress.pattern),
  cidr: pattern(SCHEMA.$defs.cidr.pattern),
  upstream: pattern(SERVER.upstreams.items.anyOf[0].pattern),
  check: pattern(SERVER.healthCheck.properties.check.pattern),
  rate: pattern(SERVER.rateLimit.properties.rate.pattern),
  fault: pattern(SERVER.faults.items.pattern),
};

/** What `parse` returns, or undefined if it throws. */
function tryParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch {
    return undefined;
  }
}

/** Tags text by the schema's pattern, and by the parser for text the pattern admits. */
function judged(text: string, pattern: RegExp, parse: (text: string) => unknown): Tag {
  if (!pattern.test(text)) return SHAPE;
  return tryParse(() => parse(text)) === undefined ? SEMANTIC : OK;
}

/**
 * A field that is `valid` about 30 times in 31, else one of the `mistakes`: with a dozen fields
 * in a config, a fair share of configs is valid, and most others have one or two mistakes.
 */
function mostly<T>(valid: fc.Arbitrary<T>, ...mistakes: fc.Arbitrary<T>[]): fc.Arbitrary<T> {
  return fc.oneof(
    { weight: 30 * mistakes.length, arbitrary: valid },
    ...mistakes.map((arbitrary) => ({ weight: 1, arbitrary })),
  );
}

/** A string field read by a parser: valid text, random and mutated text (judged), wrong types. */
function parsed(
  valid: fc.Arbitrary<string>,
  alphabet: string,
  pattern: RegExp,
  parse: (text: string) => unknown,
): fc.Arbitrary<Tagged> {
  const random = fc.oneof(
    mutate(valid, alphabet),
    over(alphabet, 0, 20),
    fc.string({ maxLength: 12 }),
  );
  const judge = (text: string): Tagged => ({ value: text, tag: judged(text, pattern, parse) });
  return mostly(ok(valid), random.map(judge), random.map(judge), wrong(isString));
}

/** A duration: text or whole milliseconds; above 0 if `positive`. */
function durationField(positive: boolean): fc.Arbitrary<Tagged> {
  const min = positive ? 1 : 0;
  const text = duration.map(({ text, expected }): Tagged => {
    if (expected > MAX_MS) return { value: text, tag: SEMANTIC }; // a sum the pattern cannot bound
    if (expected >= min) return { value: text, tag: OK };
    return { value: text, tag: /^[0.mhs]*$/.test(text) ? SHAPE : SEMANTIC }; // 0, or rounds to 0
  });
  const random = fc.oneof(
    mutate(duration.map((d) => d.text), ALPHABET.duration),
    over("0.mshx1", 0, 8),
  )
    .map((text): Tagged => {
      if (!PATTERN.duration.test(text) || (positive && PATTERN.zero.test(text))) {
        return { value: text, tag: SHAPE };
      }
      const ms = tryParse(() => parseDuration(text)) ?? -1;
      return { value: text, tag: ms >= min ? OK : SEMANTIC };
    });
  const valid = fc.oneof(
    shortDuration.filter((d) => d.expected >= min).map((d) => d.text),
    fc.integer({ min, max: MAX_MS }),
  );
  return mostly(
    ok(valid),
    text,
    random,
    shape(fc.integer({ min: -1e6, max: min - 1 })),
    shape(fc.integer({ min: MAX_MS + 1, max: 2 ** 40 })),
    shape(fc.constantFrom(1.5, 0.25, 1e-7)),
    wrong((v) => isString(v) || isNumber(v)),
  );
}

/** A whole number from `min` to `max`. */
function whole(min: number, max = Number.MAX_SAFE_INTEGER): fc.Arbitrary<Tagged> {
  return mostly(
    ok(fc.integer({ min, max })),
    shape(fc.integer({ min: min - 1e6, max: min - 1 })),
    shape(fc.constantFrom(1.5, min + 0.5, 1e-7)),
    // Integers a double cannot hold exactly: the validator takes safe integers only.
    shape(fc.constantFrom(2 ** 53, 2 ** 53 + 2, 1e21, 1e300)),
    shape(fc.constantFrom(String(min), "1")),
    wrong(isNumber),
  );
}

function oneOf(values: readonly string[]): fc.Arbitrary<Tagged> {
  const other = fc.oneof(fc.mixedCase(fc.constantFrom(...values)), fc.string({ maxLength: 8 }))
    .filter((text) => !values.includes(text));
  return mostly(ok(fc.constantFrom(...values)), shape(other), wrong(isString));
}

const boolean = mostly(ok(fc.boolean()), shape(fc.constantFrom("true", 0, 1, null)));
const worst = (tags: Tag[]) => Math.max(OK, ...tags) as Tag;

/** An array of `item`s, `min` to `max` of them; fewer than `min` breaks the schema. */
function arrayOf(item: fc.Arbitrary<Tagged>, min: number, max: number): fc.Arbitrary<Tagged> {
  const items = (minLength: number) =>
    fc.array(item, { minLength, maxLength: max }).map((items): Tagged => ({
      value: items.map((item) => item.value),
      tag: worst([...items.map((item) => item.tag), items.length < min ? SHAPE : OK]),
    }));
  return mostly(items(min), items(0), wrong(isArray));
}

/** A key an object does not have: a near miss, a prototype name, or anything. */
function unknownKey(keys: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    mutate(fc.constantFrom(...keys), "abcdeilmnorstu"),
    fc.constantFrom("__proto__", "constructor", "toString", "", "a b", "$ref"),
    fc.string({ maxLength: 8 }),
  ).filter((key) => !keys.includes(key));
}

/**
 * An object with some of `fields` (each there about one time in three, the `required` ones
 * nearly always), sometimes with an unknown key; one missing a required field, with an unknown
 * key or of the wrong type breaks the schema. `refine` tags what the fields alone do not say.
 */
function objectOf(
  fields: Record<string, fc.Arbitrary<Tagged>>,
  required: string[],
  refine: (object: Record<string, unknown>, tag: Tag) => Tag = (_, tag) => tag,
): fc.Arbitrary<Tagged> {
  const absent = fc.constant(undefined);
  const present = Object.entries(fields).map(([key, field]) => {
    const entry = field.map((f): [string, Tagged] | undefined => [key, f]);
    return required.includes(key)
      ? fc.oneof({ weight: 60, arbitrary: entry }, { weight: 1, arbitrary: absent })
      : fc.oneof({ weight: 2, arbitrary: absent }, { weight: 1, arbitrary: entry });
  });
  const unknown = fc.tuple(unknownKey(Object.keys(fields)), json);
  const extra = mostly<[string, unknown] | undefined>(absent, unknown);
  const object = fc.tuple(fc.tuple(...present), extra).map(([present, extra]): Tagged => {
    const entries = present.filter((entry) => entry !== undefined) as [string, Tagged][];
    const value = Object.fromEntries([
      ...entries.map(([key, field]) => [key, field.value]),
      ...extra ? [extra] : [],
    ]);
    const complete = required.every((key) => entries.some(([name]) => name === key));
    const tag = worst([...entries.map(([, field]) => field.tag), complete && !extra ? OK : SHAPE]);
    return { value, tag: worst([tag, refine(value, tag)]) };
  });
  return mostly(object, wrong(isObject));
}

const listenAddress = parsed(
  address(true).map((a) => a.text),
  ALPHABET.address,
  PATTERN.listen,
  (text) => parseAddress(text, { allowPortZero: true }),
);
const cidrText = parsed(
  fc.oneof(fc.constant("all"), cidr.map((c) => c.text)),
  ALPHABET.cidr,
  PATTERN.cidr,
  parseCidr,
);
/** An access rule: exactly one of allow and deny. */
const accessRule = mostly(
  fc.tuple(fc.constantFrom("allow", "deny"), cidrText)
    .map(([action, { value, tag }]): Tagged => ({ value: { [action]: value }, tag })),
  objectOf({ allow: cidrText, deny: cidrText }, [], (rule, tag) => {
    const actions = Object.keys(rule).filter((key) => key === "allow" || key === "deny").length;
    return actions === 1 && Object.keys(rule).length === 1 ? tag : SHAPE;
  }),
);

const server = objectOf({
  name: mostly(
    ok(fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom("web", "server-1"))),
    shape(fc.constant("")),
    wrong(isString),
  ),
  listen: fc.oneof(listenAddress, arrayOf(listenAddress, 1, 3)),
  upstreams: arrayOf(
    fc.oneof(
      parsed(
        upstream.map((u) => u.text),
        "0123456789.:[],=weightbackup",
        PATTERN.upstream,
        parseUpstream,
      ),
      objectOf({
        address: parsed(
          address().map((a) => a.text),
          ALPHABET.address,
          PATTERN.address,
          parseAddress,
        ),
        weight: whole(1, 1000),
        backup: boolean,
      }, ["address"]),
    ),
    1,
    3,
  ),
  balance: oneOf(Object.keys(ALGORITHMS)),
  healthCheck: objectOf({
    check: parsed(
      healthCheck.map((h) => h.text),
      "tcphttp:/,=sendexpect\\x0123",
      PATTERN.check,
      parseHealthCheck,
    ),
    interval: durationField(true),
    timeout: durationField(true),
    rise: whole(1),
    fall: whole(1),
  }, ["check"]),
  passive: objectOf({ maxFails: whole(0), failTimeout: durationField(false) }, []),
  slowStart: durationField(false),
  connect: objectOf({
    tries: whole(1),
    timeout: durationField(false),
    deadline: durationField(false),
  }, []),
  dnsTtl: durationField(false),
  idleTimeout: durationField(false),
  access: arrayOf(accessRule, 0, 3),
  rateLimit: objectOf({
    rate: parsed(
      rate.filter((r) => r.expected > 0).map((r) => r.text),
      ALPHABET.rate,
      PATTERN.rate,
      parseRate,
    ),
    burst: whole(1),
  }, ["rate"]),
  maxConnectionsPerIp: whole(1),
  maxConnections: objectOf(
    { max: whole(1), queue: whole(0), queueTimeout: durationField(false) },
    ["max"],
    (limit, tag) => "queueTimeout" in limit && (limit.queue ?? 0) === 0 ? SEMANTIC : tag,
  ),
  faults: arrayOf(
    parsed(fault.map((f) => f.text), "upstream:latency=1ms,", PATTERN.fault, parseFault),
    0,
    2,
  ),
  onUpstreamRemoved: objectOf(
    { action: oneOf(["drain", "close"]), after: durationField(false) },
    [],
  ),
}, ["listen", "upstreams"]);

/** SEMANTIC if two servers share a name (given or default) or a listen address (not port 0). */
function duplicates(servers: unknown[]): Tag {
  const names = servers.map((server, i) =>
    isObject(server) && Object.hasOwn(server as object, "name")
      ? (server as { name: unknown }).name
      : `server-${i}`
  );
  const listens = servers.flatMap((server) => {
    const listen = isObject(server) ? (server as { listen?: unknown }).listen : undefined;
    return (Array.isArray(listen) ? listen : [listen]).flatMap((text) => {
      if (typeof text !== "string") return [];
      const address = tryParse(() => parseAddress(text, { allowPortZero: true }));
      if (!address || address.port === 0) return [];
      return [`${clientKey(address.hostname).toLowerCase()}:${address.port}`];
    });
  });
  const twice = (list: unknown[]) => new Set(list).size < list.length;
  return twice(names) || twice(listens) ? SEMANTIC : OK;
}

const config = objectOf({
  $schema: mostly(ok(fc.string({ maxLength: 8 })), wrong(isString)),
  drainTimeout: durationField(false),
  logLevel: oneOf(LOG_LEVELS),
  logFormat: oneOf(LOG_FORMATS),
  workers: mostly(
    ok(fc.oneof(fc.integer({ min: 1, max: 256 }), fc.constant("auto"))),
    shape(fc.constantFrom(0, 257, -1, 1.5, "AUTO", "2")),
    wrong((v) => isString(v) || isNumber(v)),
  ),
  servers: arrayOf(server, 1, 2).map(({ value, tag }) => ({
    value,
    tag: Array.isArray(value) ? worst([tag, duplicates(value)]) : tag,
  })),
}, ["servers"]);

const schemaValidate = new Ajv2020({ allErrors: true, strict: true, strictTypes: true }).compile(
  SCHEMA,
);

/**
 * Asserts that an issue starts with a JSON path, `(root)` or as in `servers[0].upstreams[1]` or
 * `servers[0]["a b"]`, that leads to a value in `root`.
 */
function assertPath(issue: string, root: unknown): void {
  if (issue.startsWith("(root): ")) return;
  const step = /^(?:\.?([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\])/;
  let rest = issue;
  let node = root;
  for (let first = true; !rest.startsWith(": "); first = false) {
    const match = step.exec(rest);
    assert.ok(match && (first || !match[1] || rest[0] === "."), `no path in ${show(issue)}`);
    const key = match[2] !== undefined ? Number(match[2]) : match[1] ?? JSON.parse(match[3]);
    const has = typeof key === "number"
      ? Array.isArray(node) && key < node.length
      : isObject(node) && Object.hasOwn(node as object, key);
    assert.ok(has, `path of ${show(issue)} leads nowhere at ${show(match[0])}`);
    node = (node as Record<string | number, unknown>)[key];
    rest = rest.slice(match[0].length);
  }
  assert.ok(rest.length > 2, `no message in ${show(issue)}`);
  assert.doesNotMatch(issue, /[\n\r]/, `issue ${show(issue)} spans lines`);
}

Deno.test("validateConfig() agrees with schema.json, names a path in every issue, and parseConfig() reads it as JSONC", () => {
  let decisive = 0;
  const arbitrary = fc.tuple(config, fc.integer());
  const figures = fuzz("validateConfig/parseConfig", arbitrary, ([{ value, tag }, seed]) => {
    const before = JSON.stringify(value);
    const checked = attempt(() => validateConfig(value));
    assert.equal(JSON.stringify(value), before, "validateConfig() changed its input");
    if (!checked.ok) assertType(checked.error, ConfigError);
    const issues = checked.ok ? [] : (checked.error as ConfigError).issues;
    assert.ok(checked.ok || issues.length > 0, "a ConfigError without issues");
    for (const issue of issues) assertPath(issue, value);
    if (tag !== SEMANTIC) {
      decisive++;
      const schemaOk = schemaValidate(value) as boolean;
      const why = `schema: ${show(JSON.stringify(schemaValidate.errors?.[0]))}, ` +
        `validator: ${show(issues.join("; "))}, config: ${show(before)}`;
      assert.equal(checked.ok, schemaOk, `the validator and the schema disagree: ${why}`);
      assert.equal(checked.ok, tag === OK, `tagged ${tag}: ${why}`);
    }
    const text = toJsonc(value, seed);
    const read = attempt(() => parseConfig(text, "minginx.jsonc"));
    if (checked.ok) {
      assert.ok(read.ok, `parseConfig() rejected ${show(text)}: ${!read.ok && read.error}`);
      return assert.deepEqual(read.value, checked.value);
    }
    const error = read.ok ? undefined : read.error;
    assertType(error, ConfigError);
    assert.deepEqual(error.issues, issues);
    assert.equal(error.file, "minginx.jsonc");
    for (const line of error.message.split("\n")) {
      assert.ok(line.startsWith("minginx.jsonc: "), line);
    }
  });
  console.log(`validateConfig/schema.json: ${decisive} of ${figures.cases} configs decisive`);
  assert.equal(figures.cases, RUNS);
  assert.ok(decisive > RUNS / 2, `only ${decisive} configs the schema could judge`);
});

Deno.test("schema.json bounds integers as validateConfig() does (found by fuzzing)", () => {
  const value = {
    servers: [{
      listen: "127.0.0.1:8081",
      upstreams: ["10.0.0.1:80"],
      maxConnectionsPerIp: 2 ** 53,
    }],
  };
  assert.equal(schemaValidate(value), false);
  assert.throws(() => validateConfig(value), ConfigError);
});

Deno.test("schema.json takes a send/expect check with raw line breaks, as validateConfig() does (found by fuzzing)", () => {
  const value = {
    servers: [{
      listen: "127.0.0.1:8081",
      upstreams: ["10.0.0.1:80"],
      healthCheck: { check: "send=PING\r\n,expect=+PONG" },
    }],
  };
  assert.deepEqual(validateConfig(value).servers[0].healthCheck, "send=PING\r\n,expect=+PONG");
  assert.equal(schemaValidate(value), true, JSON.stringify(schemaValidate.errors));
});

Deno.test("validateConfig() keeps each issue on one line when a value holds a line break (found by fuzzing)", () => {
  const value = { servers: [{ listen: "a\nb:80", upstreams: ["10.0.0.1:80"] }] };
  assert.throws(() => parseConfig(JSON.stringify(value), "minginx.jsonc"), (error) => {
    assertType(error, ConfigError);
    assert.equal(error.issues.length, 1);
    assert.doesNotMatch(error.issues[0], /\n/);
    assert.equal(error.message.split("\n").length, 1);
    return true;
  });
});
