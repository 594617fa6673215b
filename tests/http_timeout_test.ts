import assert from "node:assert/strict";
import { ServiceBuilder } from "../mod.ts";
import { GatewayTimeoutError, type HttpService, requestInfo, serviceFn, timeout } from "../http.ts";
import { delay, until } from "./_helpers.ts";
import { serveHttp } from "./_http.ts";

Deno.test("timeout() answers 504 and aborts the inner service's signal", async () => {
  let reason: unknown;
  const service = new ServiceBuilder<Request, Response>().layer(timeout(50)).service(
    (request) =>
      new Promise((resolve) => {
        const signal = requestInfo(request).signal;
        signal.addEventListener("abort", () => {
          reason = signal.reason;
          resolve(new Response("too late"));
        });
      }),
  );
  await using server = serveHttp(service);
  const started = performance.now();
  const response = await fetch(`${server.url}/slow`);
  const elapsed = performance.now() - started;
  assert.equal(response.status, 504);
  assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(await response.text(), "The upstream did not answer within 50ms\n");
  assert.ok(elapsed >= 45 && elapsed < 2_000, `answered after ${elapsed} ms`);
  assert.ok(reason instanceof GatewayTimeoutError);
  assert.equal(reason.ms, 50);
  assert.equal(reason.status, 504);
});

Deno.test("timeout() passes a response that comes in time and clears its timer", async () => {
  let signal: AbortSignal | undefined;
  const service = timeout({ ms: 200 })(async (request) => {
    signal = requestInfo(request).signal;
    await delay(10);
    return new Response("in time", { status: 201, headers: { "x-inner": "1" } });
  });
  await using server = serveHttp(service);
  const response = await fetch(`${server.url}/`);
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("x-inner"), "1");
  assert.equal(await response.text(), "in time");
  await delay(250); // past the timeout: a timer left running would abort the signal now
  assert.ok(!(signal?.reason instanceof GatewayTimeoutError));
  // And the test's timer sanitizer would fail on a timer still pending.
});

Deno.test("timeout() cancels the body of a response that comes too late", async () => {
  let cancelled: unknown = "not yet";
  const service = timeout(30)(async () => {
    await delay(100); // ignores the signal
    const body = new ReadableStream({ cancel: (reason) => void (cancelled = reason) });
    return new Response(body);
  });
  await using server = serveHttp(service);
  const response = await fetch(`${server.url}/`);
  assert.equal(response.status, 504);
  await response.body?.cancel();
  await until(2_000, "the late body cancelled", () => cancelled !== "not yet");
  assert.equal(cancelled, undefined);
});

Deno.test("timeout() passes on a rejection that comes in time, and drops one that comes late", async () => {
  const failing = (ms: number): HttpService => async () => {
    await delay(ms);
    throw new Error("The upstream refused");
  };
  const request = () => new Request("http://localhost/");
  await assert.rejects(timeout(200)(failing(5))(request()), { message: "The upstream refused" });
  const late = await timeout(5)(failing(30))(request());
  assert.equal(late.status, 504);
  assert.equal(await late.text(), "The upstream did not answer within 5ms\n");
  await delay(50); // the late rejection comes and goes unhandled-free
});

Deno.test("timeout() takes ms or { ms }, turns off at 0 and rejects what a timer cannot hold", () => {
  const inner = serviceFn(() => new Response());
  assert.equal(timeout(0)(inner), inner);
  assert.equal(timeout({ ms: 0 })(inner), inner);
  assert.notEqual(timeout({ ms: 1_000 })(inner), inner);
  for (const ms of [-1, 1.5, 2 ** 31, NaN]) {
    assert.throws(() => timeout(ms), {
      name: "RangeError",
      message: `Cannot use timeout ${ms}: expected whole milliseconds from 0 to 2147483647`,
    });
  }
});
