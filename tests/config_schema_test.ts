/** schema.json agrees with validateConfig(), checked with ajv in strict mode. */

import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { ALGORITHMS } from "../lib/balance/algorithms.ts";
import { CONFIG_KEYS } from "../lib/config/_keys.ts";
import { parseJsonc } from "../lib/config/jsonc.ts";
import { validateConfig } from "../lib/config/validate.ts";
import { FULL, issuesOf, minimal } from "./_config.ts";

/** A node of the schema, as far as these tests read it. */
interface Schema {
  $ref?: string;
  $defs?: Record<string, Schema>;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  required?: string[];
  additionalProperties?: boolean | Schema;
  description?: string;
  enum?: unknown[];
  default?: unknown;
  [key: string]: unknown;
}

const SCHEMA: Schema = JSON.parse(
  await Deno.readTextFile(new URL("../schema.json", import.meta.url)),
);
const schemaValidate = new Ajv2020({ allErrors: true, strict: true, strictTypes: true })
  .compile(SCHEMA);

function resolve(node: Schema): Schema {
  if (node.$ref === undefined) return node;
  const name = node.$ref.replace("#/$defs/", "");
  return { ...(SCHEMA.$defs as Record<string, Schema>)[name], ...node, $ref: undefined };
}

/** Calls `visit` with every object schema and its place, as CONFIG_KEYS names places. */
function walk(node: Schema, place: string, visit: (node: Schema, place: string) => void): void {
  node = resolve(node);
  if (node.properties) {
    visit(node, place);
    for (const [key, child] of Object.entries(node.properties)) {
      walk(child, place === "" ? key : `${place}.${key}`, visit);
    }
  }
  if (node.items) walk(node.items, `${place}[]`, visit);
  for (const branch of node.anyOf ?? []) walk(branch, place, visit);
}

const VALID: [string, unknown][] = [
  ["the full example", parseJsonc(FULL)],
  ["the smallest config", minimal()],
  ["durations in milliseconds", { drainTimeout: 0, ...minimal({ idleTimeout: 600_000 }) }],
  [
    "port 0 and IPv6",
    minimal({ listen: ["[::1]:0", "0.0.0.0:0"], upstreams: ["[::1]:80,backup"] }),
  ],
  ["close at once", minimal({ onUpstreamRemoved: { action: "close" }, access: [], faults: [] })],
  ["a send/expect check", minimal({ healthCheck: { check: "send=PING\\r\\n,expect=+PONG" } })],
  [
    "HTTP mode with routes and sizes",
    minimal({
      mode: "http",
      routes: [
        { host: "*.Example.com", upstreams: ["10.0.0.2:80"] },
        { path: "/api", upstreams: ["10.0.0.3:80"], healthCheck: { check: "http:/healthz" } },
      ],
      maxHeaderSize: 8192,
      maxBodySize: "1.5MiB",
    }),
  ],
];

/** Mistakes in shape alone: each breaks the schema as well as the validator. */
const STRUCTURAL: [string, unknown][] = [
  ["unknown key", minimal({ balanse: "p2c" })],
  ["unknown top-level key", { ...minimal(), extra: 1 }],
  ["unknown nested key", minimal({ connect: { retries: 3 } })],
  ["wrong type", minimal({ maxConnections: { max: "many" } })],
  ["listen of the wrong type", minimal({ listen: 8081 })],
  ["duration of the wrong type", minimal({ slowStart: true })],
  ["missing listen", { servers: [{ upstreams: ["10.0.0.1:80"] }] }],
  ["missing upstreams", { servers: [{ listen: "127.0.0.1:8081" }] }],
  ["missing servers", {}],
  ["missing rate", minimal({ rateLimit: { burst: 10 } })],
  ["empty upstreams", minimal({ upstreams: [] })],
  ["bad balance", minimal({ balance: "fastest" })],
  ["bad removal action", minimal({ onUpstreamRemoved: { action: "kill" } })],
  ["negative number", minimal({ maxConnectionsPerIp: -1 })],
  ["weight too high", minimal({ upstreams: [{ address: "10.0.0.1:80", weight: 1001 }] })],
  ["access rule with both actions", minimal({ access: [{ allow: "all", deny: "all" }] })],
  ["bad duration text", minimal({ idleTimeout: "10 minutes" })],
  ["bad mode", minimal({ mode: "udp" })],
  ["unknown route key", minimal({ mode: "http", routes: [{ prefix: "/", upstreams: ["a:1"] }] })],
  ["route without upstreams", minimal({ mode: "http", routes: [{ path: "/api" }] })],
  ["size with a space", minimal({ mode: "http", maxBodySize: "1 MiB" })],
];

Deno.test("schema.json compiles in ajv's strict mode", () => {
  assert.equal(typeof schemaValidate, "function");
});

for (const [name, value] of VALID) {
  Deno.test(`schema.json and validateConfig() both accept: ${name}`, () => {
    assert.ok(schemaValidate(value), JSON.stringify(schemaValidate.errors));
    assert.deepEqual(issuesOf(value), []);
  });
}

for (const [name, value] of STRUCTURAL) {
  Deno.test(`schema.json and validateConfig() both reject: ${name}`, () => {
    assert.equal(schemaValidate(value), false);
    assert.notDeepEqual(issuesOf(value), []);
  });
}

Deno.test("schema.json and validateConfig() know the same keys, and require the same", () => {
  const schemaKeys: Record<string, { keys: string[]; required: string[] }> = {};
  walk(SCHEMA, "", (node, place) => {
    schemaKeys[place] = {
      keys: Object.keys(node.properties!).sort(),
      required: [...node.required ?? []].sort(),
    };
  });
  const validatorKeys = Object.fromEntries(
    Object.entries(CONFIG_KEYS).map((
      [place, { keys, required }],
    ) => [place, { keys: [...keys].sort(), required: [...required].sort() }]),
  );
  assert.deepEqual(schemaKeys, validatorKeys);
});

Deno.test("schema.json closes every object and describes every property", () => {
  walk(SCHEMA, "", (node, place) => {
    assert.equal(node.additionalProperties, false, place);
    for (const [key, child] of Object.entries(node.properties!)) {
      assert.equal(typeof child.description, "string", `${place}.${key}`);
    }
  });
});

Deno.test("schema.json lists the balancing algorithms and removal actions the validator does", () => {
  const server = resolve(SCHEMA.properties!.servers.items!).properties!;
  assert.deepEqual(server.balance.enum, Object.keys(ALGORITHMS));
  assert.deepEqual(server.onUpstreamRemoved.properties!.action.enum, ["drain", "close"]);
});

/** The server keys that need `"mode": "http"`, and so a base config in HTTP mode. */
const HTTP_ONLY = [
  ...["routes", "trustedProxies", "forwarded", "maxHeaderSize", "maxBodySize", "headerTimeout"],
  ...["keepAliveTimeout", "responseTimeout", "upstreamKeepalive"],
];

Deno.test("schema.json's defaults are the validator's", () => {
  const http = () =>
    minimal({
      mode: "http",
      routes: [{
        host: "a.test",
        upstreams: [{ address: "10.0.0.3:80" }],
        healthCheck: { check: "tcp" },
      }],
    });
  const tcp = () =>
    minimal({
      upstreams: [{ address: "10.0.0.1:80" }],
      healthCheck: { check: "tcp" },
      maxConnections: { max: 10, queue: 1 },
      rateLimit: { rate: "20/s" },
      passive: {},
      connect: {},
      onUpstreamRemoved: {},
      sni: { "a.test": ["10.0.0.2:80"] },
      sniFallback: [{ address: "10.0.0.9:80" }],
    });
  let checked = 0;
  walk(SCHEMA, "", (node, place) => {
    for (const [key, child] of Object.entries(node.properties!)) {
      if (!("default" in child)) continue;
      const base = place.startsWith("servers[].routes") || HTTP_ONLY.includes(key) ? http : tcp;
      const withDefault = base();
      const without = base();
      const parents = [withDefault, without].map((config) =>
        place.split(".").filter(Boolean).reduce<Record<string, unknown>>((object, part) => {
          const value = object[part.replace("[]", "")];
          return (part.endsWith("[]") ? (value as unknown[])[0] : value) as Record<string, unknown>;
        }, config)
      );
      parents[0][key] = child.default;
      delete parents[1][key];
      assert.deepEqual(validateConfig(withDefault), validateConfig(without), `${place}.${key}`);
      checked++;
    }
  });
  assert.ok(checked >= 20, `only ${checked} defaults`);
});
