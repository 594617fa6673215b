import assert from "node:assert/strict";
import { ServiceBuilder } from "../mod.ts";
import { httpProxy, ipFilter, logger, requestInfo, serviceFn } from "../http.ts";
import { randomBytes } from "./_helpers.ts";
import { rawRequest, requestFrom, serveHttp } from "./_http.ts";
import { deadPort } from "./_http_proxy.ts";
import { captureLogs, recordsOf, textOf } from "./_logs.ts";

Deno.test("logger() logs method, path, status, bytes sent and duration once per request", async () => {
  await captureLogs(async (records) => {
    const bodies = new Map([["/a", 10], ["/b?x=1", 70_000], ["/c", 0]]);
    const service = new ServiceBuilder<Request, Response>().layer(logger()).service(
      serviceFn((request) => {
        const url = new URL(request.url);
        const size = bodies.get(url.pathname + url.search)!;
        return new Response(size === 0 ? null : randomBytes(size) as BufferSource, {
          status: 200 + size % 7,
        });
      }),
    );
    {
      await using server = serveHttp(service);
      for (const [path, size] of bodies) {
        const response = await fetch(`${server.url}${path}`, { method: "POST", body: "x" });
        assert.equal((await response.bytes()).length, size);
      }
    }
    const lines = recordsOf(records);
    assert.equal(lines.length, 3);
    for (const [i, [path, size]] of [...bodies].entries()) {
      const { level, properties } = lines[i];
      assert.equal(level, "info");
      assert.equal(properties.method, "POST");
      assert.equal(properties.path, path);
      assert.equal(properties.status, 200 + size % 7);
      assert.equal(properties.bytes, size);
      assert.equal(properties.error, undefined);
      assert.match(String(properties.client), /^127\.0\.0\.1:\d+$/);
      assert.ok(Number.isInteger(properties.durationMs) && Number(properties.durationMs) >= 0);
      assert.equal(
        textOf(lines[i]),
        `POST ${path} ${200 + size % 7} ${size}B ${properties.durationMs}ms`,
      );
    }
  });
});

Deno.test("logger() logs a 5xx at warning, and a throwing service at error as status 500", async () => {
  await captureLogs(async (records) => {
    const service = logger({ category: ["minginx", "http", "custom"] })(
      serviceFn((request) => {
        if (request.url.endsWith("/busy")) return new Response("busy", { status: 503 });
        throw new Error("The handler broke");
      }),
    );
    {
      await using server = serveHttp(service);
      const busy = await rawRequest(server.port, "/busy");
      assert.equal(busy.status, 503);
      const broken = await rawRequest(server.port, "/broken");
      assert.equal(broken.status, 500);
      assert.equal(new TextDecoder().decode(broken.body), "Internal Server Error\n");
    }
    const lines = recordsOf(records, "minginx.http.custom");
    assert.deepEqual(lines.map((line) => [line.level, line.properties.status]), [
      ["warning", 503],
      ["error", 500],
    ]);
    assert.equal(lines[0].properties.bytes, 4);
    assert.equal(lines[1].properties.error, "The handler broke");
    assert.match(textOf(lines[1]), /^GET \/broken 500 0B \d+ms: The handler broke$/);
  });
});

Deno.test("logger() logs nothing for a request that no server sent", async () => {
  await captureLogs(async (records) => {
    const service = logger()(serviceFn(() => new Response("hello")));
    const response = await service(new Request("http://localhost/"));
    assert.equal(await response.text(), "hello");
    assert.equal(recordsOf(records).length, 0);
  });
});

Deno.test("logger() gives the reason of an answer the proxy or a layer made itself: 502, 404, 403", async () => {
  await captureLogs(async (records) => {
    const port = deadPort();
    await using proxy = httpProxy({ routes: [{ path: "/app", upstreams: [`127.0.0.1:${port}`] }] });
    const service = new ServiceBuilder<Request, Response>()
      .layer(logger())
      .layer(ipFilter({ rules: [{ action: "deny", cidr: "10.0.0.0/8" }] }))
      .service(proxy);
    let host = "";
    {
      await using server = serveHttp(service);
      host = new URL(server.url).host;
      for (const path of ["/app", "/other"]) {
        await (await fetch(`${server.url}${path}`)).body?.cancel();
      }
    }
    const denied = requestFrom("10.1.2.3");
    await service(denied);
    const lines = recordsOf(records).map(({ level, properties }) => [
      level,
      properties.status,
      properties.error,
    ]);
    assert.deepEqual(lines[0].slice(0, 2), ["warning", 502]);
    assert.match(
      String(lines[0][2]),
      new RegExp(
        `^No upstream answered: Cannot connect to 127\\.0\\.0\\.1:${port}: Connection refused`,
      ),
    );
    assert.deepEqual(lines[1], [
      "warning",
      404,
      `No route takes host "${host}" and path "/other"`,
    ]);
    assert.equal(lines.length, 2, "the request called directly is not sent, so not logged");
    assert.equal(
      requestInfo(denied).refusal?.message,
      'Client 10.1.2.3 is denied by "deny 10.0.0.0/8"',
    );
  });
});
