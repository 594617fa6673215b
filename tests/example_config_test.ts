/**
 * examples/minginx.jsonc: `main.ts check` accepts it, it sets every key schema.json knows, and
 * README.md shows it word for word, so the README's example cannot drift from a checked file.
 */

import assert from "node:assert/strict";
import { parseJsonc } from "../lib/config/jsonc.ts";
import { validateConfig } from "../lib/config/validate.ts";
import { runCli } from "./_cli.ts";

const EXAMPLE = "examples/minginx.jsonc";
const read = (path: string) => Deno.readTextFile(new URL(`../${path}`, import.meta.url));
const text = await read(EXAMPLE);

/** A node of schema.json, as far as this test reads it. */
interface Schema {
  $ref?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
}

/** Every key the schema names below `node`, each with its path (`servers[].connect.tries`). */
function keysOf(node: Schema, path = "", root = node): [key: string, path: string][] {
  const ref = (node as { $ref?: string }).$ref;
  if (ref) node = (root as { $defs: Record<string, Schema> }).$defs[ref.replace("#/$defs/", "")];
  const keys: [string, string][] = [];
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const childPath = path === "" ? key : `${path}.${key}`;
    keys.push([key, childPath], ...keysOf(child, childPath, root));
  }
  if (node.items) keys.push(...keysOf(node.items, `${path}[]`, root));
  for (const branch of node.anyOf ?? []) keys.push(...keysOf(branch, path, root));
  return keys;
}

Deno.test("main.ts check accepts examples/minginx.jsonc once its TLS files exist, and exits 0", async () => {
  // The example's certificates live in /etc/minginx: a copy points them at the test fixtures.
  const dir = await Deno.makeTempDir({ prefix: "minginx-example-" });
  try {
    const fixtures = new URL("./fixtures/", import.meta.url).pathname;
    const copy = text
      .replaceAll(/\/etc\/minginx\/example\.(com|org)\.(crt|key)/g, `${fixtures}a.test.$2`)
      .replaceAll("/etc/minginx/internal-ca.crt", `${fixtures}ca.crt`);
    const path = `${dir}/minginx.jsonc`;
    await Deno.writeTextFile(path, copy);
    const { code, stdout, stderr } = await runCli(["check", "--config", path], undefined, [
      `--allow-read=${path},${fixtures}`,
    ]);
    assert.equal(code, 0, stderr);
    assert.ok(stdout.startsWith(`${path} is valid: 5 servers, drain timeout 1m\n`), stdout);
    assert.match(
      stdout,
      /terminates TLS with .*a\.test\.crt, .*a\.test\.crt, ALPN h2,http\/1\.1\n/,
    );
    // As it is, the certificates cannot be read: check names the permission they need.
    const bare = await runCli(["check", "--config", EXAMPLE], undefined, [
      `--allow-read=${EXAMPLE}`,
    ]);
    assert.equal(bare.code, 2);
    assert.match(bare.stderr, /^Missing read permission for \/etc\/minginx\/example\.com\.crt, /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("main.ts check loads the certificates: a key that is not one fails, exit 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "minginx-check-" });
  try {
    const fixtures = new URL("./fixtures/", import.meta.url).pathname;
    await Deno.writeTextFile(
      `${dir}/bad.key`,
      "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
    );
    const config = {
      servers: [{
        name: "edge",
        listen: "127.0.0.1:8443",
        upstreams: ["127.0.0.1:8080"],
        tls: { certificates: [{ cert: `${fixtures}a.test.crt`, key: `${dir}/bad.key` }] },
      }],
    };
    await Deno.writeTextFile(`${dir}/c.json`, JSON.stringify(config));
    const { code, stderr } = await runCli(["check", "--config", `${dir}/c.json`], undefined, [
      `--allow-read=${dir},${fixtures}`,
    ]);
    assert.equal(code, 1);
    assert.match(
      stderr,
      new RegExp(`^${dir}/c\\.json: edge: Cannot load TLS certificate ".*a\\.test\\.crt": `),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/minginx.jsonc validates with every optional section present", () => {
  const config = validateConfig(parseJsonc(text, EXAMPLE));
  assert.equal(config.drainTimeout, 60_000);
  const [web, db, https, router, www] = config.servers;
  assert.deepEqual(config.servers.map(({ name }) => name), [
    "web",
    "postgres-staging",
    "https",
    "sni-router",
    "www",
  ]);
  assert.equal(web.listen.length, 2);
  assert.deepEqual(web.upstreams.map(({ weight, backup }) => [weight, backup]), [
    [3, false],
    [1, false],
    [1, true],
  ]);
  assert.equal(web.balance, "least-conn");
  assert.equal(web.healthCheck, "http:/healthz");
  assert.deepEqual(web.health, { interval: 5_000, timeout: 1_000, rise: 2, fall: 3 });
  assert.deepEqual([web.maxFails, web.failTimeout, web.slowStart], [3, 30_000, 30_000]);
  assert.deepEqual([web.connectTries, web.connectTimeout, web.connectDeadline], [2, 1_000, 3_000]);
  assert.deepEqual([web.dnsTtl, web.idleTimeout], [10_000, 300_000]);
  assert.equal(web.ipRules.length, 3);
  assert.deepEqual(web.rateLimit, { rate: 20, burst: 40 });
  assert.equal(web.maxConnectionsPerIp, 10);
  assert.deepEqual(web.maxConnections, { max: 1_000, queue: 100, queueTimeout: 2_000 });
  assert.deepEqual(web.onUpstreamRemoved, { action: "drain", after: 300_000 });
  assert.equal(db.healthCheck, "tcp");
  assert.equal(db.faults.length, 2);
  assert.deepEqual(db.onUpstreamRemoved, { action: "close", after: 0 });
  assert.deepEqual(https.acceptProxy, ["10.0.4.0/24"]);
  assert.equal(https.tls.length, 2);
  assert.deepEqual(https.tlsAlpn, ["h2", "http/1.1"]);
  assert.equal(https.handshakeTimeout, 5_000);
  assert.deepEqual(https.upstreamTls, {
    ca: "/etc/minginx/internal-ca.crt",
    serverName: "app.internal",
    alpn: ["http/1.1"],
  });
  assert.deepEqual(router.sni.map(({ name, upstreams }) => [name, upstreams.length]), [
    ["a.example.com", 1],
    ["*.example.com", 2],
  ]);
  assert.equal(router.sniFallback?.length, 1);
  assert.equal(www.mode, "http");
  assert.deepEqual(
    www.routes.map(({ host, path, upstreams, balance, healthCheck }) => [
      host,
      path,
      upstreams.length,
      balance,
      healthCheck,
    ]),
    [
      ["api.example.com", "/v2", 2, "least-conn", "http:/healthz,status=200"],
      ["*.example.com", "/", 1, undefined, undefined],
      [undefined, "/static", 1, undefined, undefined],
    ],
  );
  assert.equal(www.routes[0].health?.interval, 5_000);
  assert.deepEqual(www.trustedProxies, ["10.0.4.0/24"]);
  assert.deepEqual(
    [www.maxHeaderSize, www.maxBodySize, www.headerTimeout, www.keepAliveTimeout],
    [32_768, 100 * 2 ** 20, 10_000, 75_000],
  );
  assert.deepEqual([www.responseTimeout, www.upstreamKeepalive], [30_000, 64]);
  assert.equal(router.sendProxy, 2);
});

Deno.test("examples/minginx.jsonc sets every key of schema.json", async () => {
  const schema: Schema = JSON.parse(await read("schema.json"));
  const keys = keysOf(schema);
  const paths = keys.map(([, path]) => path);
  for (const key of Object.keys(schema.properties!.servers.items!.properties!)) {
    assert.ok(paths.includes(`servers[].${key}`), `the walk misses servers[].${key}`);
  }
  assert.ok(paths.includes("servers[].upstreams[].backup"), "the walk misses upstream objects");
  for (const [key, path] of keys) {
    assert.ok(text.includes(`"${key}":`), `${EXAMPLE} lacks "${key}" (${path})`);
  }
});

Deno.test("README.md shows examples/minginx.jsonc word for word", async () => {
  const readme = await read("README.md");
  assert.ok(
    readme.includes("```jsonc\n" + text + "```\n"),
    `README.md lacks a jsonc block with exactly ${EXAMPLE}: copy the file into it`,
  );
});
