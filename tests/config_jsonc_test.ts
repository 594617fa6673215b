/** parseJsonc() and parseConfig(): comments, trailing commas, and where a syntax error is. */

import assert from "node:assert/strict";
import { parseJsonc } from "../lib/config/jsonc.ts";
import { parseConfig } from "../lib/config/parse_config.ts";

Deno.test("parseConfig() names the file, line and column of a syntax error", () => {
  const text = '{\n  "servers": [\n    { "listen": "127.0.0.1:8081" "upstreams": [] },\n  ],\n}';
  assert.throws(() => parseConfig(text, "minginx.jsonc"), {
    name: "SyntaxError",
    message: "minginx.jsonc:3:34: Expected ',' or '}' after property value",
  });
  assert.throws(() => parseConfig("{\n  /* open\n", "minginx.jsonc"), {
    name: "SyntaxError",
    message: "minginx.jsonc:2:3: Unterminated comment",
  });
});

Deno.test("parseConfig() names the file on every line of a ConfigError", () => {
  assert.throws(() => parseConfig('{ "servers": [{ "listen": "x" }] }', "a.jsonc"), {
    name: "ConfigError",
    file: "a.jsonc",
    issues: [
      'servers[0]: missing "upstreams"',
      'servers[0].listen: "x" is not valid: expected HOST:PORT',
    ],
    message: 'a.jsonc: servers[0]: missing "upstreams"\n' +
      'a.jsonc: servers[0].listen: "x" is not valid: expected HOST:PORT',
  });
});

Deno.test("parseJsonc() skips line and block comments but not comment marks in strings", () => {
  const text = `// a config
  {
    "url": "http://x//y", // the path has // in it
    /* a block
       comment */ "block": "/* not a comment */",
    "escaped": "a\\"//b\\\\", "after": 1 /* the end */
  }`;
  assert.deepEqual(parseJsonc(text), {
    url: "http://x//y",
    block: "/* not a comment */",
    escaped: 'a"//b\\',
    after: 1,
  });
  assert.deepEqual(parseJsonc("\ufeff[1]"), [1]);
});

Deno.test("parseJsonc() accepts trailing commas, but no other extra comma", () => {
  assert.deepEqual(parseJsonc('{ "a": [1, 2,], "b": {"c": 3,}, }'), { a: [1, 2], b: { c: 3 } });
  assert.deepEqual(parseJsonc("[1, // one\n /* , */ ]"), [1]);
  assert.deepEqual(parseJsonc('[",]"]'), [",]"]);
  const cases: [string, string][] = [
    ["[,]", "1:2: Unexpected token ','"],
    ["[1,,]", "1:4: Unexpected token ','"],
    ['{"a":,}', "1:6: Unexpected token ','"],
    ["[1],", "1:4: Unexpected non-whitespace character after JSON"],
    ['{\n  "a": }', "2:8: Unexpected token '}'"],
    ["", "1:1: Unexpected end of JSON input"],
    ['{"a": tru}', "1:10: Unexpected token '}'"],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseJsonc(text), { name: "SyntaxError", message }, text);
  }
});

Deno.test("parseJsonc() counts lines and columns past multi-line comments", () => {
  const text = '/*\n\n*/ {\n  // x\n  "a": 1\n  "b": 2\n}';
  assert.throws(() => parseJsonc(text, "f.jsonc"), {
    message: "f.jsonc:6:3: Expected ',' or '}' after property value",
  });
});

// The schema agreement: schema.json and validateConfig() accept and reject the same shapes.

type Schema = Record<string, unknown> & {
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  required?: string[];
  $ref?: string;
};
