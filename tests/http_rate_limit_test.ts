import assert from "node:assert/strict";
import { parseRate, rateLimit as tcpRateLimit, ServiceBuilder } from "../mod.ts";
import { rateLimit, type RateLimitOptions, serviceFn, TooManyRequestsError } from "../http.ts";
import { requestFrom, serveHttp } from "./_http.ts";

/** A rate limited service on an injected clock, counting the requests that reach it. */
function limited(options: Omit<RateLimitOptions, "now">) {
  const clock = { ms: 0 };
  let reached = 0;
  const service = new ServiceBuilder<Request, Response>()
    .layer(rateLimit({ ...options, now: () => clock.ms }))
    .service(serviceFn(() => new Response(`ok ${++reached}`)));
  return { clock, service, reached: () => reached };
}

Deno.test("rateLimit() answers 429 with Retry-After once a client's burst is spent", async () => {
  const { clock, service, reached } = limited({ rate: 1, burst: 2 });
  await using server = serveHttp(service);
  const statuses = [];
  for (let i = 0; i < 3; i++) {
    const response = await fetch(`${server.url}/`);
    statuses.push(response.status);
    if (response.status === 429) {
      assert.equal(response.headers.get("retry-after"), "1");
      assert.equal(response.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.equal(
        await response.text(),
        "Client 127.0.0.1 sent requests faster than 1/s with a burst of 2\n",
      );
    } else {
      assert.equal(await response.text(), `ok ${i + 1}`);
    }
  }
  assert.deepEqual(statuses, [200, 200, 429]);
  assert.equal(reached(), 2); // the 429 never reached the inner service
  clock.ms += 1_000;
  const later = await fetch(`${server.url}/`);
  assert.equal(await later.text(), "ok 3");
});

Deno.test("rateLimit() sets Retry-After to the whole seconds until the next token, at least 1", async () => {
  const { clock, service } = limited({ rate: parseRate("6/m"), burst: 1 }); // one per 10 s
  const retryAfter = async (at: number) => {
    clock.ms = at;
    const response = await service(requestFrom("10.0.0.1"));
    await response.body?.cancel();
    return response.status === 429 ? response.headers.get("retry-after") : "ok";
  };
  assert.equal(await retryAfter(0), "ok");
  assert.equal(await retryAfter(0), "10");
  assert.equal(await retryAfter(2_500), "8"); // 7.5 s to go
  assert.equal(await retryAfter(9_000), "1");
  assert.equal(await retryAfter(9_999.5), "1"); // half a millisecond is still 1
  assert.equal(await retryAfter(10_000), "ok");
});

Deno.test("rateLimit() counts each client on its own, an IPv4 client written two ways as one", async () => {
  const { service, reached } = limited({ rate: 1, burst: 1 });
  const status = async (client: string) => {
    const response = await service(requestFrom(client));
    await response.body?.cancel();
    return response.status;
  };
  assert.deepEqual(
    [
      await status("10.0.0.1"),
      await status("::ffff:10.0.0.1"),
      await status("10.0.0.2"),
      await status("2001:db8::1"),
      await status("2001:DB8:0::1"),
    ],
    [200, 429, 200, 200, 429],
  );
  assert.equal(reached(), 3);
});

Deno.test("rateLimit() words its error as the TCP layer does, for requests", () => {
  const error = new TooManyRequestsError("10.0.0.1", 0.5, 3, 2);
  assert.equal(error.name, "TooManyRequestsError");
  assert.equal(error.message, "Client 10.0.0.1 sent requests faster than 30/m with a burst of 3");
  assert.equal(error.retryAfter, 2);
});

Deno.test("rateLimit() rejects the options the TCP layer rejects, with the same messages", () => {
  const bad: RateLimitOptions[] = [
    { rate: 0 },
    { rate: Infinity },
    { rate: 1, burst: 0.5 },
    { rate: 1, maxClients: 0 },
    { rate: 1, maxClients: 2 ** 24 + 1 },
  ];
  for (const options of bad) {
    const tcp = (() => {
      try {
        tcpRateLimit(options);
      } catch (error) {
        return error as Error;
      }
    })();
    assert.ok(tcp instanceof RangeError);
    assert.throws(() => rateLimit(options), { name: "RangeError", message: tcp.message });
  }
});
