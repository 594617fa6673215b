import assert from "node:assert/strict";
import { adminCli } from "./_admin.ts";
import { freePort, freePorts, runCli } from "./_cli.ts";
import { readToEnd, within, writeAll } from "./_helpers.ts";

/** Makes `count` connections through the proxy, one after the other, each echoing a byte. */
async function connectTimes(port: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    using client = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(client, new Uint8Array([i]));
    await client.closeWrite();
    assert.deepEqual(await within(5_000, "the echo", readToEnd(client)), new Uint8Array([i]));
  }
}

/** Sends one raw HTTP/1.1 request and returns the status line. */
async function rawRequest(url: string, lines: string[]): Promise<string> {
  const { hostname, port } = new URL(url);
  using conn = await Deno.connect({ hostname, port: Number(port) });
  await writeAll(
    conn,
    new TextEncoder().encode([...lines, "Connection: close", "", ""].join("\r\n")),
  );
  const text = new TextDecoder().decode(await within(5_000, "the answer", readToEnd(conn)));
  return text.split("\r\n")[0];
}

Deno.test("the admin token is required: none and a wrong one get 401, the right one gets in", async () => {
  const token = "s3cret-token-for-tests";
  await using cli = await adminCli({ args: ["--admin-token", token] });
  const status = `${cli.url}/status`;
  const none = await fetch(status);
  assert.equal(none.status, 401);
  assert.deepEqual(none.headers.get("www-authenticate")?.split(/, (?=B)/), [
    'Bearer realm="minginx"',
    'Basic realm="minginx", charset="UTF-8"',
  ]);
  await none.body?.cancel();
  for (
    const wrong of ["Bearer nope", `Bearer ${token}x`, `Basic ${btoa("admin:nope")}`, "Token x"]
  ) {
    const response = await fetch(status, { headers: { authorization: wrong } });
    assert.equal(response.status, 401, wrong);
    await response.body?.cancel();
  }
  const bearer = await fetch(status, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(bearer.status, 200);
  assert.equal((await bearer.json()).listeners[0].address, cli.listen);
  const basic = await fetch(`${cli.url}/metrics`, {
    headers: { authorization: `Basic ${btoa(`anyone:${token}`)}` },
  });
  assert.equal(basic.status, 200);
  await basic.body?.cancel();
  assert.ok(!cli.proxy.lines.some((line) => line.includes(token)), "the token was logged");
});

Deno.test("--admin beyond loopback without --admin-token is a usage error naming both", async () => {
  const { code, stderr } = await runCli(
    ["-u", "127.0.0.1:9", "--admin", `0.0.0.0:${freePort()}`],
    "0.0.0.0,127.0.0.1",
  );
  assert.equal(code, 2);
  assert.match(
    stderr,
    /Option --admin 0\.0\.0\.0:\d+ listens beyond loopback, which needs a token: add --admin-token/,
  );
});

Deno.test("without a token, the admin API refuses a foreign Host and a cross-origin change", async () => {
  await using cli = await adminCli();
  const upstream = cli.upstreams[0];
  const { port } = new URL(cli.url);
  assert.equal(
    await rawRequest(cli.url, ["GET /status HTTP/1.1", "Host: evil.example"]),
    "HTTP/1.1 403 Forbidden",
  );
  assert.equal(
    await rawRequest(cli.url, ["GET /status HTTP/1.1", `Host: localhost:${port}`]),
    "HTTP/1.1 200 OK",
  );
  const crossOrigin = await fetch(`${cli.url}/upstreams/default/${upstream}/drain`, {
    method: "POST",
    headers: { origin: "http://evil.example" },
  });
  assert.equal(crossOrigin.status, 403);
  await crossOrigin.body?.cancel();
  const status = await (await fetch(`${cli.url}/status`)).json();
  assert.equal(status.pools[0].upstreams[0].state, "up");
});

Deno.test("POST drain keeps an upstream listed but sends it nothing new; enable takes it back", async () => {
  await using cli = await adminCli({ upstreams: 2 });
  const [a] = cli.upstreams;
  const accepted = () => cli.echoes.map((echo) => echo.accepted);
  const drained = await fetch(`${cli.url}/upstreams/default/${a}/drain`, { method: "POST" });
  assert.equal(drained.status, 200);
  assert.deepEqual(
    { ...await drained.json(), active: 0 },
    {
      pool: "default",
      address: a,
      state: "draining",
      healthy: true,
      weight: 1,
      backup: false,
      active: 0,
      connections: 0,
      connectErrors: 0,
      bytesUp: 0,
      bytesDown: 0,
    },
  );
  await cli.proxy.waitFor(
    new RegExp(`Admin API: 127\\.0\\.0\\.1:\\d+ asked to drain upstream ${a} in pool default`),
  );
  const before = accepted();
  await connectTimes(cli.port, 4);
  assert.deepEqual(accepted(), [before[0], before[1] + 4]);
  const status = await (await fetch(`${cli.url}/status`)).json();
  assert.deepEqual(status.pools[0].upstreams.map((u: { state: string }) => u.state), [
    "draining",
    "up",
  ]);
  const enabled = await fetch(`${cli.url}/upstreams/default/${a}/enable`, { method: "POST" });
  assert.equal((await enabled.json()).state, "up");
  await connectTimes(cli.port, 4);
  assert.deepEqual(accepted(), [before[0] + 2, before[1] + 6]);
});

Deno.test("the admin API names what it does not know, and the methods it takes", async () => {
  await using cli = await adminCli();
  const cases: [string, string, number, RegExp][] = [
    ["POST", "/upstreams/api/127.0.0.1:1/drain", 404, /No pool "api": expected one of "default"/],
    ["POST", "/upstreams/default/127.0.0.1:1/drain", 404, /No upstream 127\.0\.0\.1:1 in pool/],
    ["GET", `/upstreams/default/${cli.upstreams[0]}/drain`, 405, /takes POST/],
    ["POST", "/status", 405, /takes GET, HEAD/],
    ["GET", "/nothing", 404, /expected \/, \/metrics, \/status/],
  ];
  for (const [method, path, code, message] of cases) {
    const response = await fetch(`${cli.url}${path}`, { method });
    assert.equal(response.status, code, `${method} ${path}`);
    assert.match((await response.json()).error, message);
  }
  const page = await fetch(cli.url);
  assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  assert.match(await page.text(), /^<!doctype html>/i);
});

Deno.test("--admin without its --allow-net entry exits 2 and names the exact flag", async () => {
  const [port, admin] = freePorts(2);
  const { code, stderr } = await runCli(
    ["-l", `127.0.0.1:${port}`, "-u", "127.0.0.1:9", "--admin", `127.0.0.1:${admin}`],
    `127.0.0.1:${port},127.0.0.1:9`,
  );
  assert.equal(code, 2);
  assert.equal(
    stderr.trim(),
    `Missing network permission for 127.0.0.1:${admin} (admin): run with ` +
      `--allow-net=127.0.0.1:${port},127.0.0.1:${admin},127.0.0.1:9`,
  );
});
