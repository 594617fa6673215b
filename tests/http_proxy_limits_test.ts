import assert from "node:assert/strict";
import { type ConnectionReport, serve } from "../mod.ts";
import { httpServer, serviceFn } from "../http.ts";
import { concat, randomBytes, sha256, until, within } from "./_helpers.ts";
import {
  fieldOf,
  rawClient,
  type RawResponse,
  type Seen,
  startEchoUpstream,
  startProxy,
} from "./_http_proxy.ts";

const encoder = new TextEncoder();

/**
 * Sends `bytes` on a new connection, reads one response and then the end of the stream: the
 * server must close the connection after refusing a request.
 */
async function refused(
  port: number,
  bytes: string | Uint8Array,
  announced = true,
): Promise<RawResponse> {
  using client = await rawClient(port);
  await client.send(bytes);
  const response = await client.response();
  const rest = await within(2_000, "the connection closed", client.reader.readToEnd());
  assert.equal(rest.length, 0, "nothing after the refusal");
  if (announced) assert.equal(fieldOf(response.head, "connection"), "close");
  return response;
}

/** A chunked request whose one chunk is `body`. */
function chunkedRequest(body: Uint8Array): Uint8Array {
  return concat([
    encoder.encode(CHUNKED_HEAD + `${body.length.toString(16)}\r\n`),
    body,
    encoder.encode("\r\n0\r\n\r\n"),
  ]);
}

const CHUNKED_HEAD = "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";

Deno.test("httpServer() in front of httpProxy() answers 431 to a head over maxHeaderBytes", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] }, {
    maxHeaderBytes: 1024,
  });
  const response = await refused(
    rig.port,
    `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(1500)}\r\n\r\n`,
  );
  assert.equal(response.head.start, "HTTP/1.1 431 Request Header Fields Too Large");
  assert.equal(response.text, "Cannot read a head of over 1024 bytes\n");
  // A head just under the limit passes.
  const fits = await refused(
    rig.port,
    `GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-Big: ${"a".repeat(900)}\r\n\r\n`,
  );
  assert.equal(fits.status, 200);
  assert.equal(upstream.seen.length, 1);
});

Deno.test("httpServer() in front of httpProxy() answers 413 to a Content-Length over maxBodyBytes", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] }, {
    maxBodyBytes: 1000,
  });
  // The head alone: the answer comes before any of the body.
  const response = await refused(
    rig.port,
    "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n",
  );
  assert.equal(response.head.start, "HTTP/1.1 413 Content Too Large");
  assert.equal(response.text, "The body is larger than 1000 bytes\n");
  assert.equal(upstream.seen.length, 0);
  // A body of exactly the limit passes.
  const body = randomBytes(1000, 7);
  using client = await rawClient(rig.port);
  await client.send(
    concat([
      encoder.encode("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n"),
      body,
    ]),
  );
  const passed = await client.response("POST");
  assert.equal(passed.status, 200);
  const seen: Seen = JSON.parse(passed.text);
  assert.equal(seen.bytes, 1000);
  assert.equal(seen.sha256, sha256(body));
});

Deno.test("httpServer() in front of httpProxy() answers 413 to a chunked body over maxBodyBytes", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] }, {
    maxBodyBytes: 1000,
  });
  // The server closes the connection, but without saying so: see the next test.
  const response = await refused(rig.port, chunkedRequest(randomBytes(1500, 3)), false);
  assert.equal(response.head.start, "HTTP/1.1 413 Content Too Large");
  assert.equal(response.text, "The body is larger than 1000 bytes\n");
  assert.equal(upstream.seen.length, 0);
  // Chunks that add up to the limit pass, and the upstream gets every byte.
  const body = randomBytes(1000, 4);
  using client = await rawClient(rig.port);
  await client.send(
    concat([
      encoder.encode(`${CHUNKED_HEAD}258\r\n`), // 600
      body.subarray(0, 600),
      encoder.encode("\r\n190\r\n"), // 400
      body.subarray(600),
      encoder.encode("\r\n0\r\n\r\n"),
    ]),
  );
  const passed = await client.response("POST");
  assert.equal(passed.status, 200, passed.text);
  const seen: Seen = JSON.parse(passed.text);
  assert.equal(seen.bytes, 1000);
  assert.equal(seen.sha256, sha256(body));
});

Deno.test({
  name:
    "httpServer() in front of httpProxy() says Connection: close with a 413 after which it closes",

  async fn() {
    await using upstream = startEchoUpstream();
    await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] }, {
      maxBodyBytes: 1000,
    });
    const response = await refused(rig.port, chunkedRequest(randomBytes(1500, 3)));
    assert.equal(response.status, 413);
  },
});

Deno.test("httpServer() in front of httpProxy() answers 408 to half a head after headerTimeout, and closes", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] }, {
    headerTimeout: 200,
  });
  const started = performance.now();
  const response = await refused(rig.port, "GET /slow HTTP/1.1\r\nHost: a\r\n");
  const elapsed = performance.now() - started;
  assert.equal(response.head.start, "HTTP/1.1 408 Request Timeout");
  assert.equal(response.text, "No whole request head within 200ms\n");
  assert.ok(elapsed >= 190 && elapsed < 2_000, `answered after ${elapsed} ms`);
  assert.equal(upstream.seen.length, 0);
});

Deno.test("httpServer() in front of httpProxy() answers 400 to malformed request lines and fields", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  const cases: [string, string][] = [
    [
      "GET /\r\nHost: a\r\n\r\n",
      'Cannot parse request line "GET /": expected METHOD TARGET HTTP/1.1\n',
    ],
    [
      "GET / HTTP/one\r\nHost: a\r\n\r\n",
      'Cannot parse request line "GET / HTTP/one": expected HTTP/1.1 or HTTP/1.0\n',
    ],
    [
      "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
      'Cannot parse request line "G(T / HTTP/1.1": expected METHOD TARGET HTTP/1.1\n',
    ],
    [
      "GET / HTTP/1.1\r\nHost: a\r\nNo colon here\r\n\r\n",
      'Cannot parse header field "No colon here": expected NAME: VALUE\n',
    ],
    [
      "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
      'Cannot parse header field "Bad Name: x": expected NAME: VALUE\n',
    ],
    [
      "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n  b\r\n\r\n",
      'Cannot parse header field "  b": line folding is not allowed\n',
    ],
    ["GET / HTTP/1.1\r\nX-No-Host: 1\r\n\r\n", 'Cannot use Host ""\n'],
    ["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "Cannot use two Host fields\n"],
    [
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5x\r\n\r\n",
      'Cannot parse Content-Length "5x": expected a number of bytes\n',
    ],
    [
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
      'Cannot use two Content-Length values "5" and "6"\n',
    ],
  ];
  for (const [request, text] of cases) {
    const response = await refused(rig.port, request);
    assert.equal(response.head.start, "HTTP/1.1 400 Bad Request", JSON.stringify(request));
    assert.equal(response.text, text);
  }
  assert.equal(upstream.seen.length, 0);
});

Deno.test("httpServer() in front of httpProxy() answers 400 to both Content-Length and Transfer-Encoding", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  for (
    const fields of [
      "Content-Length: 5\r\nTransfer-Encoding: chunked",
      "Transfer-Encoding: chunked\r\nContent-Length: 5",
    ]
  ) {
    const response = await refused(rig.port, `POST / HTTP/1.1\r\nHost: a\r\n${fields}\r\n\r\n`);
    assert.equal(response.head.start, "HTTP/1.1 400 Bad Request");
    assert.equal(response.text, "Cannot use both Transfer-Encoding and Content-Length\n");
  }
  assert.equal(upstream.seen.length, 0);
});

Deno.test("httpServer() quotes a bad header field in its 400 escaped and cut short", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  const field = `X-Bad: \x1b[2J\x07${"a".repeat(20_000)}`;
  const response = await refused(rig.port, `GET / HTTP/1.1\r\nHost: x\r\n${field}\r\n\r\n`);
  assert.equal(response.status, 400);
  assert.equal(
    response.text,
    `Cannot parse header field "X-Bad: \\x1b[2J\\x07${"a".repeat(48)}…": expected NAME: VALUE\n`,
  );
  assert.equal(upstream.seen.length, 0);
});

Deno.test("httpServer() counts the bytes of its own 400 in the connection's report", async () => {
  const reports: ConnectionReport[] = [];
  const server = httpServer(serviceFn(() => new Response("never")));
  await using proxy = serve({
    listen: "127.0.0.1:0",
    service: async (connection) => {
      const report = await server(connection);
      reports.push(report);
      return report;
    },
  });
  const response = await refused(proxy.address.port, "NOT HTTP\r\n\r\n");
  assert.equal(response.status, 400);
  await until(2_000, "the report", () => reports.length === 1);
  const sent = response.head.text.length + 4 + response.body.length;
  assert.equal(reports[0].bytesDown, sent);
});

Deno.test("httpServer() answers 400 to a malformed chunk size, and reads a good one with spaces and extensions", async () => {
  await using upstream = startEchoUpstream();
  await using rig = startProxy({ routes: [{ upstreams: [upstream.address] }] });
  const head = "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const size of ["g", "", " 3", "3 x", "1234567890abcdef", "3\x1b"]) {
    const response = await refused(rig.port, `${head}${size}\r\nabc\r\n0\r\n\r\n`);
    assert.equal(response.status, 400, JSON.stringify(size));
    assert.match(response.text, /^Cannot parse chunk size ".*": expected hex digits\n$/);
  }
  using client = await rawClient(rig.port);
  await client.send(`${head}3 \t;name=value\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n`);
  const response = await client.response();
  assert.equal(response.status, 200);
  const seen: Seen = JSON.parse(response.text);
  assert.equal(seen.bytes, 13);
});
