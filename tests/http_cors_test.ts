import assert from "node:assert/strict";
import { cors, type CorsOptions, serviceFn } from "../http.ts";
import { serveHttp } from "./_http.ts";

const APP = "https://app.example.com";

/** A CORS layer around a service that counts its calls and varies on Accept-Encoding. */
function served(options: CorsOptions) {
  let reached = 0;
  const inner = serviceFn(() => {
    reached++;
    return new Response("hello", { headers: { vary: "Accept-Encoding", "x-total": "1" } });
  });
  return { server: serveHttp(cors(options)(inner)), reached: () => reached };
}

/** The CORS and Vary headers of a response, and its status, its body consumed. */
async function corsHeaders(response: Response) {
  await response.body?.cancel();
  const headers = [...response.headers].filter(([name]) =>
    name.startsWith("access-control-") || name === "vary"
  );
  return { status: response.status, headers: Object.fromEntries(headers) };
}

const preflight = (origin: string, headers: Record<string, string> = {}): RequestInit => ({
  method: "OPTIONS",
  headers: { origin, "access-control-request-method": "PUT", ...headers },
});

Deno.test("cors() answers a preflight from an allowed origin with 204, without the inner service", async () => {
  const { server, reached } = served({ origins: [APP], credentials: true, maxAge: 600 });
  await using _ = server;
  const asked = { "access-control-request-headers": "content-type, x-token" };
  assert.deepEqual(await corsHeaders(await fetch(server.url, preflight(APP, asked))), {
    status: 204,
    headers: {
      "access-control-allow-origin": APP,
      "access-control-allow-credentials": "true",
      "access-control-allow-methods": "GET, HEAD, PUT, PATCH, POST, DELETE",
      "access-control-allow-headers": "content-type, x-token",
      "access-control-max-age": "600",
      vary: "Origin, Access-Control-Request-Headers",
    },
  });
  assert.equal(reached(), 0);
});

Deno.test("cors() answers a preflight from another origin with 204 and no CORS headers", async () => {
  const { server, reached } = served({ origins: [APP], allowedHeaders: ["X-Token"] });
  await using _ = server;
  assert.deepEqual(await corsHeaders(await fetch(server.url, preflight("https://evil.example"))), {
    status: 204,
    headers: { vary: "Origin" },
  });
  const allowed = await corsHeaders(await fetch(server.url, preflight(APP)));
  assert.equal(allowed.headers["access-control-allow-headers"], "X-Token");
  assert.equal(allowed.headers.vary, "Origin");
  assert.equal(reached(), 0);
});

Deno.test("cors() adds Allow-Origin to responses for allowed origins, Vary: Origin to all", async () => {
  const { server, reached } = served({
    origins: [APP, "http://localhost:8080"],
    exposedHeaders: ["X-Total"],
  });
  await using _ = server;
  assert.deepEqual(await corsHeaders(await fetch(server.url, { headers: { origin: APP } })), {
    status: 200,
    headers: {
      "access-control-allow-origin": APP,
      "access-control-expose-headers": "X-Total",
      vary: "Accept-Encoding, Origin",
    },
  });
  const other = await fetch(server.url, { headers: { origin: "http://localhost:8081" } });
  assert.deepEqual(await corsHeaders(other), {
    status: 200,
    headers: { vary: "Accept-Encoding, Origin" },
  });
  const none = await fetch(server.url);
  assert.equal(await none.text(), "hello");
  // An OPTIONS request that is not a preflight goes to the inner service.
  const options = await fetch(server.url, { method: "OPTIONS", headers: { origin: APP } });
  assert.equal((await corsHeaders(options)).headers["access-control-allow-origin"], APP);
  assert.equal(reached(), 4);
});

Deno.test('cors() with origins "*" allows every origin, with or without Origin, and no Vary: Origin', async () => {
  const { server } = served({ origins: "*" });
  await using _ = server;
  for (const headers of [{ origin: APP }, {} as Record<string, string>]) {
    assert.deepEqual(await corsHeaders(await fetch(server.url, { headers })), {
      status: 200,
      headers: { "access-control-allow-origin": "*", vary: "Accept-Encoding" },
    });
  }
  const answer = await corsHeaders(await fetch(server.url, preflight("http://a.test")));
  assert.equal(answer.headers["access-control-allow-origin"], "*");
  assert.equal(answer.headers.vary, "Access-Control-Request-Headers");
});

Deno.test("cors() rejects origins, methods, headers, credentials and maxAge it cannot use", () => {
  const cases: [CorsOptions, string, string][] = [
    [{ origins: ["app.example.com"] }, "TypeError", 'CORS origin "app.example.com": expected'],
    [{ origins: ["https://a.test/path"] }, "TypeError", 'CORS origin "https://a.test/path"'],
    [{ origins: ["null"] }, "TypeError", 'CORS origin "null"'],
    [{ origins: "*", credentials: true }, "TypeError", 'CORS origins "*" with credentials'],
    [{ origins: "*", methods: ["GET POST"] }, "TypeError", 'CORS method "GET POST"'],
    [{ origins: "*", allowedHeaders: ["x:y"] }, "TypeError", 'CORS header "x:y"'],
    [{ origins: "*", exposedHeaders: [""] }, "TypeError", 'CORS header ""'],
    [{ origins: "*", maxAge: -1 }, "RangeError", "CORS maxAge -1: expected a whole number"],
    [{ origins: "*", maxAge: 1.5 }, "RangeError", "CORS maxAge 1.5"],
  ];
  for (const [options, name, message] of cases) {
    assert.throws(() => cors(options), (error: Error) => {
      assert.equal(error.name, name);
      assert.ok(error.message.startsWith(`Cannot use ${message}`), error.message);
      return true;
    });
  }
  assert.doesNotThrow(() => cors({ origins: ["HTTPS://App.Example.com", "http://[::1]:8080"] }));
});
