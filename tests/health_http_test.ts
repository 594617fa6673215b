/** httpCheck() against raw TCP servers, Deno.serve, and a real nginx when one is installed. */

import assert from "node:assert/strict";
import { httpCheck, type HttpCheckOptions, parseHealthCheck } from "../mod.ts";
import { within } from "./_helpers.ts";
import { freePort, waitForPort } from "./_cli.ts";
import { assertCutBySignal, NGINX, rawHttp, run, silentServer, statusFromPath } from "./_health.ts";

Deno.test("httpCheck() sends GET PATH with Host, Connection: close and User-Agent", async () => {
  await using server = rawHttp(() => "HTTP/1.1 200 OK\r\n\r\n");
  assert.equal(await run(httpCheck({ path: "/healthz?full=0" }), server.address), 200);
  assert.equal(await run(httpCheck({ path: "/", host: "api.example" }), server.address), 200);
  assert.deepEqual(server.requests, [
    `GET /healthz?full=0 HTTP/1.1\r\nHost: 127.0.0.1:${server.address.port}\r\n` +
    "Connection: close\r\nUser-Agent: minginx-health-check\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: api.example\r\n" +
    "Connection: close\r\nUser-Agent: minginx-health-check\r\n\r\n",
  ]);
});

Deno.test("httpCheck() passes on 200 and 301 from Deno.serve and returns the status", async () => {
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) =>
      new URL(request.url).pathname === "/old"
        ? Response.redirect(new URL("/new", request.url), 301)
        : new Response("ok"),
  );
  const upstream = { hostname: "127.0.0.1", port: server.addr.port };
  assert.equal(await run(httpCheck({ path: "/new" }), upstream), 200);
  assert.equal(await run(httpCheck({ path: "/old" }), upstream), 301);
});

Deno.test("httpCheck() fails on status 503 and names the status", async () => {
  await using server = rawHttp(statusFromPath);
  await assert.rejects(run(httpCheck({ path: "/503" }), server.address), {
    name: "Error",
    message: "HTTP status 503, expected 2xx or 3xx",
  });
  await assert.rejects(run(httpCheck({ path: "/101" }), server.address), {
    message: "HTTP status 101, expected 2xx or 3xx",
  });
});

Deno.test("httpCheck() passes on custom statuses and ranges, naming them on failure", async () => {
  await using server = rawHttp(statusFromPath);
  const check = (path: string, statuses: (number | [number, number])[]) =>
    run(httpCheck({ path, statuses }), server.address);
  assert.equal(await check("/401", [[200, 204], 401]), 401);
  assert.equal(await check("/204", [[200, 204], 401]), 204);
  assert.equal(await check("/503", [[500, 599]]), 503);
  await assert.rejects(check("/200", [503]), { message: "HTTP status 200, expected 503" });
  await assert.rejects(check("/205", [[200, 204], 401]), {
    message: "HTTP status 205, expected 200-204 or 401",
  });
  await assert.rejects(check("/302", [[200, 299], 304, [400, 499]]), {
    message: "HTTP status 302, expected 2xx, 304 or 4xx",
  });
});

Deno.test("httpCheck() fails on a response that is not HTTP/1.x and quotes it", async () => {
  const cases: [string, string][] = [
    ["SSH-2.0-OpenSSH_9.6\r\n", 'Expected an HTTP/1.x status line, got "SSH-2.0-OpenSSH_9.6"'],
    ["HTTP/2 200\r\n\r\n", 'Expected an HTTP/1.x status line, got "HTTP/2 200"'],
    ["HTTP/1.1 2OO OK\r\n\r\n", 'Expected an HTTP/1.x status line, got "HTTP/1.1 2OO OK"'],
    ["HTTP/1.1 200OK\n\n", 'Expected an HTTP/1.x status line, got "HTTP/1.1 200OK"'],
    ["\x00\x01\xff\n", 'Expected an HTTP/1.x status line, got "\\x00\\x01\\xc3\\xbf"'],
    ["HTTP/1.1 20", 'Expected an HTTP status line, got "HTTP/1.1 20" and end of stream'],
    ["", "Expected an HTTP status line, got end of stream"],
  ];
  for (const [reply, message] of cases) {
    await using server = rawHttp(() => reply);
    await assert.rejects(run(httpCheck({ path: "/" }), server.address), { message }, reply);
  }
});

Deno.test("httpCheck() passes on a bare LF status line without a reason phrase", async () => {
  await using server = rawHttp(() => "HTTP/1.0 204\n\n");
  assert.equal(await run(httpCheck({ path: "/" }), server.address), 204);
});

Deno.test("httpCheck() gives up after 8 KiB without a line end", async () => {
  await using server = rawHttp(() => "HTTP/1.1 200 " + "a".repeat(20_000));
  await assert.rejects(run(httpCheck({ path: "/" }), server.address), {
    message: `Expected an HTTP status line within 8 KiB, got "HTTP/1.1 200 ${"a".repeat(35)}"...`,
  });
});

Deno.test("httpCheck() is cut by the signal when the upstream never answers", async () => {
  await using server = silentServer();
  await assertCutBySignal(httpCheck({ path: "/" }), server.address);
  await within(2_000, "the check's connection to close", server.ended);
});

Deno.test("httpCheck() rejects a bad path, host or status list, naming it", () => {
  const path = 'expected a path starting with "/", without spaces or control characters';
  const status = "expected a code from 100 to 599, or a range [low, high] of them";
  const cases: [HttpCheckOptions, ErrorConstructor, string][] = [
    [{ path: "healthz" }, TypeError, `Cannot use HTTP check path "healthz": ${path}`],
    [{ path: "/a b" }, TypeError, `Cannot use HTTP check path "/a b": ${path}`],
    [
      { path: "/", host: "a\r\nX: y" },
      TypeError,
      'Cannot use HTTP check host "a\r\nX: y": ' +
      "expected a host without spaces or control characters",
    ],
    [
      { path: "/", statuses: [] },
      RangeError,
      "Cannot use HTTP check statuses []: expected at least one status",
    ],
    [{ path: "/", statuses: [99] }, RangeError, `Cannot use HTTP status 99: ${status}`],
    [
      { path: "/", statuses: [[300, 200]] },
      RangeError,
      `Cannot use HTTP status [300, 200]: ${status}`,
    ],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(() => httpCheck(options), { name: type.name, message });
  }
});

Deno.test({
  name: NGINX
    ? "httpCheck() passes on nginx's 204 and 301 and fails on its 503 and 404"
    : "httpCheck() against a real nginx: IGNORED, nginx is not installed",
  ignore: NGINX === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "minginx_nginx_" });
    const port = freePort();
    await Deno.writeTextFile(
      `${dir}/nginx.conf`,
      `events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location = /healthz { return 204; }
    location = /down { return 503; }
    location = /old { return 301 /healthz; }
  }
}
`,
    );
    const child = new Deno.Command(NGINX!, {
      args: [
        "-p",
        dir,
        "-c",
        `${dir}/nginx.conf`,
        "-g",
        `daemon off; master_process off; pid ${dir}/nginx.pid; error_log stderr;`,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    try {
      await within(10_000, "nginx to listen", Promise.race([waitForPort(port), child.status]));
      const upstream = { hostname: "127.0.0.1", port };
      assert.equal(await run(httpCheck({ path: "/healthz" }), upstream), 204);
      assert.equal(await run(httpCheck({ path: "/old" }), upstream), 301);
      await assert.rejects(run(httpCheck({ path: "/down" }), upstream), {
        message: "HTTP status 503, expected 2xx or 3xx",
      });
      await assert.rejects(run(httpCheck({ path: "/missing" }), upstream), {
        message: "HTTP status 404, expected 2xx or 3xx",
      });
      assert.equal(await run(parseHealthCheck("http:/down,status=503"), upstream), 503);
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`nginx said: ${await stderr}`, { cause: error });
    } finally {
      try {
        child.kill("SIGTERM");
      } catch { /* exited already */ }
      await within(10_000, "nginx to exit", child.status);
      await stderr;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
