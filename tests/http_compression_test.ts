import assert from "node:assert/strict";
import { compression, type HttpService, serviceFn } from "../http.ts";
import { sha256 } from "./_helpers.ts";
import { decompress, rawRequest, serveHttp } from "./_http.ts";

/** About 200 KB of JSON that compresses well but not trivially. */
function jsonBytes(): Uint8Array<ArrayBuffer> {
  let seed = 7;
  const rows = Array.from({ length: 4_000 }, (_, i) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return { id: i, score: seed % 10_000, name: `user-${seed.toString(36)}` };
  });
  return new TextEncoder().encode(JSON.stringify(rows));
}

const JSON_TYPE = { "content-type": "application/json; charset=utf-8" };

Deno.test("compression() gzips a large JSON body that decompresses to the same bytes", async () => {
  const original = jsonBytes();
  const service = compression()(serviceFn(() =>
    new Response(original, {
      headers: { ...JSON_TYPE, "content-length": String(original.length), etag: '"v1"' },
    })
  ));
  await using server = serveHttp(service);
  const response = await rawRequest(server.port, "/", { "accept-encoding": "gzip, deflate" });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-encoding"), "gzip");
  assert.equal(response.headers.get("vary"), "Accept-Encoding");
  assert.equal(response.headers.get("content-length"), null);
  assert.equal(response.headers.get("etag"), 'W/"v1"');
  assert.deepEqual([...response.body.subarray(0, 2)], [0x1f, 0x8b]); // the gzip magic
  assert.ok(response.body.length < original.length / 2, `${response.body.length} bytes`);
  const restored = await decompress(response.body, "gzip");
  assert.equal(restored.length, original.length);
  assert.equal(sha256(restored), sha256(original));
});

Deno.test("compression() picks the coding the client weighs highest", async () => {
  const original = jsonBytes();
  const service = compression()(serviceFn(() => new Response(original, { headers: JSON_TYPE })));
  await using server = serveHttp(service);
  const cases: [string, "gzip" | "deflate" | null][] = [
    ["gzip;q=0.4, deflate;q=0.8", "deflate"],
    ["deflate, gzip", "gzip"], // a tie goes to the first offered
    ["*;q=0.5, gzip;q=0", "deflate"],
    ["DEFLATE;Q=1.0", "deflate"],
    ["x-gzip", "gzip"],
    ["gzip;q=0, deflate;q=0", null],
    ["identity;q=1, gzip;q=0.5", null],
    ["br", null],
    ["gzip;q=2", null], // not a q-value: ignored
  ];
  for (const [accept, expected] of cases) {
    const response = await rawRequest(server.port, "/", { "accept-encoding": accept });
    assert.equal(response.headers.get("content-encoding"), expected, accept);
    assert.equal(response.headers.get("vary"), "Accept-Encoding", accept);
    const body = expected === null ? response.body : await decompress(response.body, expected);
    assert.equal(sha256(body), sha256(original), accept);
  }
});

Deno.test("compression() leaves alone what it must not or need not compress", async () => {
  const big = "a".repeat(4_096);
  const answer = (body: string | null, init: ResponseInit) => () => new Response(body, init);
  const cases: [string, () => Response, string?][] = [
    ["no body", answer(null, { headers: { "content-type": "text/plain" } })],
    ["204", answer(null, { status: 204 })],
    ["304", answer(null, { status: 304, headers: { "content-type": "text/html" } })],
    ["206", answer(big, { status: 206, headers: { "content-type": "text/plain" } })],
    [
      "encoded",
      answer(big, { headers: { "content-type": "text/plain", "content-encoding": "br" } }),
    ],
    [
      "no-transform",
      answer(big, {
        headers: { "content-type": "text/plain", "cache-control": "public, no-transform" },
      }),
    ],
    ["small", answer("tiny", { headers: { "content-type": "text/plain", "content-length": "4" } })],
    ["binary", answer(big, { headers: { "content-type": "image/png" } })],
    ["no type", () => new Response(new TextEncoder().encode(big))], // bytes get no type
    ["event stream", answer(big, { headers: { "content-type": "text/event-stream" } })],
    ["HEAD", answer(big, { headers: { "content-type": "text/plain" } }), "HEAD"],
  ];
  for (const [what, make, method = "GET"] of cases) {
    const inner = make();
    const service: HttpService = () => Promise.resolve(inner);
    const request = new Request("http://localhost/", {
      method,
      headers: { "accept-encoding": "gzip" },
    });
    const response = await compression()(service)(request);
    assert.equal(response, inner, what); // the very same response, not a copy
    await response.body?.cancel();
  }
});

Deno.test("compression() compresses from the threshold up, and streams of unknown length", async () => {
  const sized = (length: number) =>
    new Response("x".repeat(length), {
      headers: { "content-type": "text/css", "content-length": String(length) },
    });
  const request = () =>
    new Request("http://localhost/", { headers: { "accept-encoding": "gzip" } });
  const layer = compression({ threshold: 100, encodings: ["gzip"] });
  const below = await layer(() => Promise.resolve(sized(99)))(request());
  assert.equal(below.headers.get("content-encoding"), null);
  assert.equal(await below.text(), "x".repeat(99));
  const at = await layer(() => Promise.resolve(sized(100)))(request());
  assert.equal(at.headers.get("content-encoding"), "gzip");
  const restored = await decompress(new Uint8Array(await at.arrayBuffer()), "gzip");
  assert.equal(new TextDecoder().decode(restored), "x".repeat(100));
  const stream = ReadableStream.from([new TextEncoder().encode("<svg/>")]);
  const svg = new Response(stream, { headers: { "content-type": "image/svg+xml" } });
  const streamed = await layer(() => Promise.resolve(svg))(request());
  assert.equal(streamed.headers.get("content-encoding"), "gzip");
  const bytes = await decompress(new Uint8Array(await streamed.arrayBuffer()), "gzip");
  assert.equal(new TextDecoder().decode(bytes), "<svg/>");
});

Deno.test("compression() compresses a fetched response, whose headers are immutable", async () => {
  const original = jsonBytes();
  await using upstream = serveHttp(serviceFn(() => new Response(original, { headers: JSON_TYPE })));
  const proxy = compression()(async () => {
    const fetched = await fetch(upstream.url, { headers: { "accept-encoding": "identity" } });
    assert.throws(() => fetched.headers.set("x", "1"), TypeError);
    return fetched;
  });
  await using server = serveHttp(proxy);
  const response = await rawRequest(server.port, "/", { "accept-encoding": "deflate" });
  assert.equal(response.headers.get("content-encoding"), "deflate");
  assert.equal(sha256(await decompress(response.body, "deflate")), sha256(original));
});

Deno.test("compression() rejects codings it cannot produce and thresholds that are not bytes", () => {
  const cases: [Parameters<typeof compression>[0], string][] = [
    [{ encodings: [] }, 'Cannot use encodings "": expected gzip, deflate or both'],
    [{ encodings: ["br" as "gzip"] }, 'Cannot use encoding "br": expected gzip or deflate'],
    [{ threshold: -1 }, "Cannot use threshold -1: expected a whole number of bytes, at least 0"],
  ];
  for (const [options, message] of cases) assert.throws(() => compression(options), { message });
});
