import assert from "node:assert/strict";
import { ServiceBuilder } from "../mod.ts";
import { logger, serviceFn } from "../http.ts";
import { randomBytes } from "./_helpers.ts";
import { rawRequest, serveHttp } from "./_http.ts";
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
