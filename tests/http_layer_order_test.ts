/**
 * The HTTP layers stacked through ServiceBuilder: the first added sees the request first and the
 * response last, so where the logger sits decides what it sees.
 */

import assert from "node:assert/strict";
import { ServiceBuilder } from "../mod.ts";
import {
  compression,
  cors,
  type HttpLayer,
  type HttpService,
  ipFilter,
  logger,
  rateLimit,
  requestId,
  requestInfo,
  serviceFn,
  timeout,
} from "../http.ts";
import { rawRequest, serveHttp } from "./_http.ts";
import { captureLogs, recordsOf, textOf } from "./_logs.ts";

/** The service made of `layers` in order around `inner`. */
function stack(layers: HttpLayer[], inner: HttpService): HttpService {
  let builder = new ServiceBuilder<Request, Response>();
  for (const layer of layers) builder = builder.layer(layer);
  return builder.service(inner);
}

/** A handler that never answers on its own, only once the request is given up on. */
const stuck: HttpService = (request) =>
  new Promise((resolve) => {
    requestInfo(request).signal.addEventListener("abort", () => resolve(new Response("late")));
  });

/** A handler that rejects once the request is given up on, as an aborted fetch does. */
const refusing: HttpService = (request) =>
  new Promise((_, reject) => {
    const signal = requestInfo(request).signal;
    signal.addEventListener("abort", () => reject(signal.reason));
  });

/** Serves the stack, sends `count` requests to it, and returns the responses' statuses. */
async function send(service: HttpService, count = 1, headers: Record<string, string> = {}) {
  const statuses: number[] = [];
  await using server = serveHttp(service);
  for (let i = 0; i < count; i++) {
    statuses.push((await rawRequest(server.port, "/", headers)).status);
  }
  return statuses;
}

Deno.test("logger() outside timeout() logs the 504; inside, the 504 sent and why the service lost it", async () => {
  await captureLogs(async (records) => {
    assert.deepEqual(await send(stack([logger(), timeout(50)], stuck)), [504]);
    assert.deepEqual(await send(stack([timeout(50), logger()], stuck)), [504]);
    assert.deepEqual(await send(stack([timeout(50), logger()], refusing)), [504]);
    const [outside, inside, rejected] = recordsOf(records);
    assert.equal(rejected.level, "warning"); // not the error of a service that threw
    assert.equal(rejected.properties.status, 504);
    assert.equal(rejected.properties.error, "The upstream did not answer within 50ms");
    assert.equal(outside.level, "warning");
    assert.equal(outside.properties.status, 504);
    assert.equal(outside.properties.bytes, "The upstream did not answer within 50ms\n".length);
    assert.equal(inside.level, "warning");
    assert.equal(inside.properties.status, 504);
    // The inner service answered once aborted, too late: the line says why it was given up on.
    assert.match(
      textOf(inside),
      /^GET \/ 504 40B \d+ms: The upstream did not answer within 50ms$/,
    );
  });
});

Deno.test("requestId() outside logger() puts the id in the log line; inside, the line has none", async () => {
  await captureLogs(async (records) => {
    const hello = serviceFn(() => new Response("hello"));
    await send(stack([requestId(), logger()], hello), 1, { "x-request-id": "outer-1" });
    await send(stack([logger(), requestId()], hello));
    const [outside, inside] = recordsOf(records);
    assert.equal(outside.properties.requestId, "outer-1");
    assert.equal(inside.properties.requestId, undefined);
  });
});

Deno.test("rateLimit() outside logger() answers 429 unlogged; inside, the 429 is logged", async () => {
  await captureLogs(async (records) => {
    const hello = serviceFn(() => new Response("hello"));
    const limit = () => rateLimit({ rate: 1 / 60, burst: 1 });
    assert.deepEqual(await send(stack([limit(), logger()], hello), 2), [200, 429]);
    assert.deepEqual(recordsOf(records).map((line) => line.properties.status), [200]);
    assert.deepEqual(await send(stack([logger(), limit()], hello), 2), [200, 429]);
    assert.deepEqual(recordsOf(records).map((line) => line.properties.status), [200, 200, 429]);
  });
});

Deno.test("logger() logs the bytes compression() sent, in either order", async () => {
  await captureLogs(async (records) => {
    const page = serviceFn(() =>
      new Response("<li>item</li>".repeat(2_000), { headers: { "content-type": "text/html" } })
    );
    for (const layers of [[logger(), compression()], [compression(), logger()]]) {
      await using server = serveHttp(stack(layers, page));
      const response = await rawRequest(server.port, "/", { "accept-encoding": "gzip" });
      assert.equal(response.headers.get("content-encoding"), "gzip");
      await server[Symbol.asyncDispose](); // the line is written once the body is sent
      const line = recordsOf(records).at(-1)!;
      assert.equal(line.properties.bytes, response.body.length);
      assert.ok(response.body.length < 26_000 / 10);
    }
  });
});

Deno.test("a full stack answers an allowed cross-origin request with every layer's headers", async () => {
  await captureLogs(async (records) => {
    const service = stack([
      requestId(),
      logger(),
      cors({ origins: ["https://app.example.com"] }),
      ipFilter({ rules: [{ action: "allow", cidr: "127.0.0.0/8" }] }),
      rateLimit({ rate: 100 }),
      compression({ threshold: 0 }),
      timeout(1_000),
    ], serviceFn((request) => Response.json({ id: request.headers.get("x-request-id") })));
    await using server = serveHttp(service);
    const response = await fetch(server.url, {
      headers: { origin: "https://app.example.com", "x-request-id": "full-1" },
    });
    assert.equal(response.headers.get("x-request-id"), "full-1");
    assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example.com");
    assert.equal(response.headers.get("vary"), "Accept-Encoding, Origin");
    assert.equal(response.headers.get("content-encoding"), "gzip"); // fetch undoes it
    assert.deepEqual(await response.json(), { id: "full-1" });
    await server[Symbol.asyncDispose]();
    const [line] = recordsOf(records);
    assert.deepEqual([line.properties.status, line.properties.requestId], [200, "full-1"]);
  });
});
