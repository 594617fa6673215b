/**
 * Fuzzing the config file: validateConfig() and parseConfig() on generated configs, checked
 * against schema.json with ajv, 100,000 of them; no call is slow and the heap stays bounded.
 * (parseJsonc() is fuzzed on its own in fuzz_jsonc_test.ts.)
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
import fc from "fast-check";
import { ConfigError } from "../../lib/config/config.ts";
import { parseConfig } from "../../lib/config/parse_config.ts";
import { validateConfig } from "../../lib/config/validate.ts";
import { config, SCHEMA } from "./_config_arbitraries.ts";
import { assertType, attempt, fuzz, RUNS, show } from "./_fuzz.ts";
import { toJsonc } from "./_jsonc.ts";
import { isObject, OK, SEMANTIC } from "./_tagged.ts";

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
