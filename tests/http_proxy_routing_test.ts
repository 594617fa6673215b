import assert from "node:assert/strict";
import { fieldOf, rawExchange, type Seen, startEchoUpstream, startProxy } from "./_http_proxy.ts";

/** GETs `path` through the proxy with the Host `host`, and returns what the upstream saw. */
async function through(port: number, host: string, path = "/"): Promise<Seen> {
  const response = await rawExchange(port, [`GET ${path} HTTP/1.1`, `Host: ${host}`]);
  assert.equal(response.status, 200, `${host} ${path}: ${response.text}`);
  return JSON.parse(response.text);
}

Deno.test("httpProxy() routes by exact host, then a *. wildcard, then the default route", async () => {
  await using exact = startEchoUpstream("exact");
  await using wildcard = startEchoUpstream("wildcard");
  await using fallback = startEchoUpstream("default");
  await using rig = startProxy({
    routes: [
      { host: "*.example.com", upstreams: [wildcard.address] },
      { upstreams: [fallback.address] },
      { host: "example.com", upstreams: [exact.address] },
    ],
  });
  const cases: [string, string][] = [
    ["example.com", "exact"],
    ["Example.COM:8080", "exact"],
    ["www.example.com", "wildcard"],
    ["a.b.example.com:81", "wildcard"],
    ["WWW.EXAMPLE.COM", "wildcard"],
    ["notexample.com", "default"],
    ["example.com.evil.test", "default"],
    ["other.test", "default"],
    ["127.0.0.1", "default"],
  ];
  for (const [host, upstream] of cases) {
    const seen = await through(rig.port, host, "/where");
    assert.equal(seen.upstream, upstream, `Host: ${host}`);
    assert.equal(seen.headers.host, host, "the Host field passes unchanged");
    assert.equal(seen.path, "/where");
  }
  assert.equal(exact.seen.length, 2);
  assert.equal(wildcard.seen.length, 3);
  assert.equal(fallback.seen.length, 4);
});

Deno.test("httpProxy() does not let a *. wildcard take its own domain", async () => {
  await using wildcard = startEchoUpstream("wildcard");
  await using fallback = startEchoUpstream("default");
  {
    await using rig = startProxy({
      routes: [
        { host: "*.example.com", upstreams: [wildcard.address] },
        { upstreams: [fallback.address] },
      ],
    });
    assert.equal((await through(rig.port, "example.com")).upstream, "default");
    assert.equal((await through(rig.port, "x.example.com")).upstream, "wildcard");
  }
  await using rig = startProxy({
    routes: [{ host: "*.example.com", upstreams: [wildcard.address] }],
  });
  const response = await rawExchange(rig.port, ["GET / HTTP/1.1", "Host: example.com"]);
  assert.equal(response.status, 404);
  assert.equal(response.text, 'No route takes host "example.com" and path "/"\n');
  assert.equal(wildcard.seen.length, 1);
});

Deno.test("httpProxy() routes by the longest path prefix, on whole segments", async () => {
  await using api = startEchoUpstream("/api");
  await using apiX = startEchoUpstream("/api/x");
  await using root = startEchoUpstream("/");
  await using rig = startProxy({
    routes: [
      { path: "/api", upstreams: [api.address] },
      { path: "/api/x", upstreams: [apiX.address] },
      { path: "/", upstreams: [root.address] },
    ],
  });
  const cases: [string, string][] = [
    ["/api", "/api"],
    ["/api/", "/api"],
    ["/api/y", "/api"],
    ["/api?q=/api/x", "/api"],
    ["/api/xy", "/api"],
    ["/api/x", "/api/x"],
    ["/api/x/", "/api/x"],
    ["/api/x/z?q=1", "/api/x"],
    ["/apis", "/"],
    ["/ap", "/"],
    ["/", "/"],
    ["/other/api", "/"],
  ];
  for (const [path, upstream] of cases) {
    const seen = await through(rig.port, "example.com", path);
    assert.equal(seen.upstream, upstream, path);
    assert.equal(seen.path, path, "the target passes unchanged, prefix and query kept");
  }
});

Deno.test("httpProxy() tries a host's path routes, then falls back to routes for any host", async () => {
  await using hostApi = startEchoUpstream("example.com/api");
  await using anyHost = startEchoUpstream("any");
  await using rig = startProxy({
    routes: [
      { host: "example.com", path: "/api", upstreams: [hostApi.address] },
      { upstreams: [anyHost.address] },
    ],
  });
  assert.equal((await through(rig.port, "example.com", "/api/v1")).upstream, "example.com/api");
  assert.equal((await through(rig.port, "example.com", "/static")).upstream, "any");
  assert.equal((await through(rig.port, "other.test", "/api/v1")).upstream, "any");
});

Deno.test("httpProxy() answers 404 naming the host and path when no route takes a request", async () => {
  await using api = startEchoUpstream("api");
  await using rig = startProxy({
    routes: [{ host: "example.com", path: "/api", upstreams: [api.address] }],
  });
  const cases: [string, string, string][] = [
    ["example.com", "/other?x=1", 'No route takes host "example.com" and path "/other"\n'],
    ["example.com", "/apis", 'No route takes host "example.com" and path "/apis"\n'],
    ["other.test:8080", "/api", 'No route takes host "other.test:8080" and path "/api"\n'],
  ];
  for (const [host, path, text] of cases) {
    const response = await rawExchange(rig.port, [`GET ${path} HTTP/1.1`, `Host: ${host}`]);
    assert.equal(response.status, 404, `${host} ${path}`);
    assert.equal(response.head.start, "HTTP/1.1 404 Not Found");
    assert.equal(response.text, text);
    assert.equal(fieldOf(response.head, "content-type"), "text/plain; charset=utf-8");
  }
  assert.equal(api.seen.length, 0);
  // And the route itself works, so the 404s are the router's doing.
  assert.equal((await through(rig.port, "example.com", "/api")).upstream, "api");
});
