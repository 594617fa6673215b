/** parseHealthCheck(): the command line's forms, and a message for each kind of bad input. */

import assert from "node:assert/strict";
import { parseHealthCheck } from "../mod.ts";
import { startServer, writeAll } from "./_helpers.ts";
import { encoder, rawHttp, readText, run, silentServer, statusFromPath } from "./_health.ts";

Deno.test("parseHealthCheck() builds a tcp check", async () => {
  await using server = silentServer();
  const check = parseHealthCheck("tcp");
  assert.equal(check.name, "tcpCheck");
  await run(check, server.address);
});

Deno.test("parseHealthCheck() builds HTTP checks with path, statuses and host", async () => {
  await using server = rawHttp(statusFromPath);
  const check = (text: string) => run(parseHealthCheck(text), server.address);
  assert.equal(await check("http:/204"), 204);
  await assert.rejects(check("http:/503"), {
    message: "HTTP status 503, expected 2xx or 3xx",
  });
  assert.equal(await check("http:/204,status=200-299,401"), 204);
  assert.equal(await check("http:/401,status=200-299,401"), 401);
  await assert.rejects(check("http:/302,status=200-299,401"), {
    message: "HTTP status 302, expected 2xx or 401",
  });
  assert.equal(await check("http:/503,status=5xx"), 503);
  assert.equal(await check("http:/200,status=200"), 200);
  assert.equal(await check("http:/200?a=1%2C2,status=200,host=api.example"), 200);
  assert.equal(await check("http:/200,host=api.example,status=200,204"), 200);
  assert.match(server.requests.at(-2)!, /^GET \/200\?a=1%2C2 HTTP\/1\.1\r\nHost: api\.example\r\n/);
  assert.match(server.requests.at(-1)!, /\r\nHost: api\.example\r\n/);
});

Deno.test("parseHealthCheck() decodes escapes in send and expect, in either order", async () => {
  const received: string[] = [];
  await using server = startServer(async (conn) => {
    const request = await readText(conn, (text) => text.endsWith("\n"));
    received.push(request);
    await writeAll(conn, encoder.encode(request === "PING\r\n" ? "+PONG\r\n" : "a,b\t\\\n"));
    await readText(conn, () => false);
  });
  await run(parseHealthCheck(String.raw`send=PING\r\n,expect=+PONG\r\n`), server.address);
  await run(parseHealthCheck(String.raw`expect=a\x2cb\t\\,send=HELLO\x0A`), server.address);
  await run(parseHealthCheck(String.raw`expect=+PONG,send=PING\r\n`), server.address);
  assert.deepEqual(received, ["PING\r\n", "HELLO\n", "PING\r\n"]);
  assert.equal(parseHealthCheck("expect=é").name, "sendExpectCheck");
});

Deno.test("parseHealthCheck() names the value and what is accepted", () => {
  const forms = "expected tcp, http:/PATH[,status=...] or send=...,expect=...";
  const path = 'expected a path starting with "/", without spaces, as in http:/healthz';
  const httpKeys = "expected status=STATUS or host=HOST";
  const status = "expected a code such as 200, a range such as 200-299 or a class such as 2xx, " +
    "from 100 to 599";
  const twice = "is given twice, expected each key at most once";
  const sendKeys = String.raw`expected send=BYTES or expect=BYTES (write a comma as \x2c)`;
  const escapes = String.raw`expected \r, \n, \t, \\ or \xHH`;
  const cases: [string, string][] = [
    ["htp:/x", forms],
    ["", forms],
    ["TCP", forms],
    ["ping", forms],
    ["tcp,port=80", "tcp takes no options, expected tcp alone"],
    ["http:healthz", `path "healthz": ${path}`],
    ["http:", `path "": ${path}`],
    ["http:/x,stat=200", `unknown key "stat", ${httpKeys}`],
    ["http:/x,204", `unknown key "204", ${httpKeys}`],
    ["http:/x,status=200,host=a,204", `unknown key "204", ${httpKeys}`],
    ["http:/x,status=200,", "empty item between commas, expected KEY=VALUE"],
    ["http:/x,status=2xy", `status "2xy": ${status}`],
    ["http:/x,status=200,600", `status "600": ${status}`],
    ["http:/x,status=", `status "": ${status}`],
    [
      "http:/x,status=299-200",
      'status "299-200": expected a range from low to high, such as 200-299',
    ],
    ["http:/x,status=200,status=204", `key "status" ${twice}`],
    ["http:/x,host=a,host=b", `key "host" ${twice}`],
    ["http:/x,host=", 'host "": expected a host without spaces'],
    ["send=PING", "no expect given, expected expect=BYTES as well"],
    ["expect=", 'key "expect" needs a value, expected expect=BYTES'],
    ["expect=+OK,send=", 'key "send" needs a value, expected send=BYTES'],
    ["expect=a,expect=b", `key "expect" ${twice}`],
    ["send=a,b,expect=c", `unknown key "b", ${sendKeys}`],
    ["expect=a,max=10", `unknown key "max", ${sendKeys}`],
    [String.raw`expect=a\q`, String.raw`escape "\q" in expect: ${escapes}`],
    [String.raw`expect=a\x4`, String.raw`escape "\x4" in expect: ${escapes}`],
    [String.raw`send=\xZZ,expect=a`, String.raw`escape "\xZZ" in send: ${escapes}`],
    ["expect=a\\", `escape "\\" in expect: ${escapes}`],
  ];
  for (const [text, detail] of cases) {
    assert.throws(() => parseHealthCheck(text), {
      name: "TypeError",
      message: `Cannot parse --health-check "${text}": ${detail}`,
    });
  }
  assert.throws(() => parseHealthCheck("htp:/x", "health check"), {
    message: `Cannot parse health check "htp:/x": ${forms}`,
  });
});
