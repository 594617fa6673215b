/**
 * HTTP/2 through toHandler(): Deno.serve with a certificate offers h2 and http/1.1 by ALPN, so an
 * HttpService, layers and all, answers HTTP/2 clients (curl, and Deno's own fetch). minginx's own
 * httpServer() speaks HTTP/1.1 only: behind terminateTls() a client that asks for h2 gets
 * HTTP/1.1.
 */

import assert from "node:assert/strict";
import {
  readCertificateFiles,
  serve,
  ServiceBuilder,
  terminateTls,
  TlsCertificates,
} from "../mod.ts";
import { httpServer, type HttpService, logger, requestId, serviceFn, toHandler } from "../http.ts";
import { makeTempDir, removeTempDir } from "../bench/resources.ts";
import { randomBytes, sha256, until, within } from "./_helpers.ts";
import { captureLogs, recordsOf } from "./_logs.ts";
import { missing, testName } from "./_peers.ts";
import { makeCertificates, opensslMissing } from "./_tls.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);
const file = (name: string) => new URL(name, FIXTURES).pathname;
const NAME = "a.test"; // the name tests/fixtures/a.test.crt is for
const CERT = Deno.readTextFileSync(file("a.test.crt"));
const KEY = Deno.readTextFileSync(file("a.test.key"));
const HOST = "127.0.0.1";
const MIB = 1 << 20;

/** Why curl cannot speak HTTP/2 here: missing, or built without it. */
async function curlWithoutHttp2(): Promise<string | undefined> {
  const reason = await missing("curl");
  if (reason) return reason;
  try {
    const { stdout } = await new Deno.Command("curl", {
      args: ["--version"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const features = new TextDecoder().decode(stdout).match(/^Features:(.*)$/m)?.[1] ?? "";
    if (/\bHTTP2\b/.test(features)) return undefined;
  } catch { /* it did not run: say so below */ }
  return "curl lacks HTTP2 support (no HTTP2 on the Features line of curl --version)";
}

const CURL = await curlWithoutHttp2();
const OPENSSL = await opensslMissing();

/** The SHA-256 of some bytes as hex, by the Web Crypto API. */
async function subtleSha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * An echo behind the requestId and logger layers (requestId outside, so the log line has the id):
 * the response's body is the request's, and `x-body-sha256` is the SHA-256 of what the service
 * received.
 */
function echoService(): HttpService {
  return new ServiceBuilder<Request, Response>()
    .layer(requestId())
    .layer(logger())
    .service(serviceFn(async (request) => {
      const body = new Uint8Array(await request.arrayBuffer());
      return new Response(body, { headers: { "x-body-sha256": await subtleSha256(body) } });
    }));
}

/** A temporary directory, removed on dispose. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await makeTempDir("minginx-h2-");
  return { path, [Symbol.asyncDispose]: () => removeTempDir(path) };
}

/** What curl printed for one exchange. */
interface CurlResult {
  /** `%{http_version}`: `2` or `1.1`. */
  version: string;
  /** The response's head as curl dumped it (`-D`). */
  head: string;
  /** The response's body. */
  body: Uint8Array;
}

/**
 * curl `--http2` POSTs `body` to `https://a.test:PORT/echo`, with a.test resolved to 127.0.0.1
 * and only the fixtures' CA trusted.
 */
async function curlPost(port: number, body: Uint8Array): Promise<CurlResult> {
  await using dir = await tempDir();
  const [sent, received, head] = ["sent", "received", "head"].map((f) => `${dir.path}/${f}`);
  await Deno.writeFile(sent, body);
  const args = [
    "--silent",
    "--show-error",
    "--fail",
    "--http2",
    ...["--max-time", "10"],
    ...["--cacert", file("ca.crt")],
    ...["--resolve", `${NAME}:${port}:${HOST}`],
    ...["--data-binary", `@${sent}`],
    ...["-H", "content-type: application/octet-stream"],
    ...["-o", received, "-D", head],
    ...["-w", "%{http_version}"],
    `https://${NAME}:${port}/echo`,
  ];
  const { code, stdout, stderr } = await within(
    15_000,
    "curl to finish",
    new Deno.Command("curl", { args, stdin: "null", stdout: "piped", stderr: "piped" }).output(),
  );
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.equal(code, 0, `curl ${args.join(" ")} exited with ${code}:\n${text(stderr)}`);
  return {
    version: text(stdout).trim(),
    head: await Deno.readTextFile(head),
    body: await Deno.readFile(received),
  };
}

/** The value of a header in a head curl dumped, the last one if it repeats. */
function headerOf(head: string, name: string): string | undefined {
  const pattern = new RegExp(`^${name}:[ \\t]*(.*?)\\s*$`, "gim");
  return [...head.matchAll(pattern)].at(-1)?.[1];
}

Deno.test({
  name: testName(
    "toHandler() serves an HTTP service over HTTP/2 when Deno.serve has a certificate: curl " +
      "--http2 POSTs 1 MiB through logger() and requestId() and gets it back over HTTP/2",
    CURL,
  ),
  ignore: CURL !== undefined,
  async fn() {
    await captureLogs(async (records) => {
      await using server = Deno.serve(
        { hostname: HOST, port: 0, cert: CERT, key: KEY, onListen: () => {} },
        toHandler(echoService()),
      );
      const sent = randomBytes(MIB, 42);
      const result = await curlPost(server.addr.port, sent);

      assert.equal(result.version, "2", `curl spoke HTTP/${result.version}, not HTTP/2`);
      assert.match(result.head, /^HTTP\/2 200\s*$/m);
      assert.equal(headerOf(result.head, "x-body-sha256"), sha256(sent));
      assert.equal(result.body.length, sent.length);
      assert.equal(sha256(result.body), sha256(sent));
      const id = headerOf(result.head, "x-request-id");
      assert.ok(id, `no x-request-id in the response:\n${result.head}`);

      // The logger saw the request, with the id requestId() gave it, and counted the body sent.
      await until(5_000, "the request's log record", () => recordsOf(records).length > 0);
      const [record] = recordsOf(records);
      assert.equal(record.properties.method, "POST");
      assert.equal(record.properties.path, "/echo");
      assert.equal(record.properties.status, 200);
      assert.equal(record.properties.bytes, MIB);
      assert.equal(record.properties.requestId, id);
    });
  },
});

Deno.test({
  name: testName(
    "toHandler() serves an HTTP service over HTTP/2 when Deno.serve has a certificate: Deno's " +
      "fetch with HTTP/2 only (http1: false) POSTs 1 MiB and gets it back",
    OPENSSL,
  ),
  ignore: OPENSSL !== undefined,
  async fn() {
    // Deno's fetch cannot be told where a.test is, so the server's certificate is for its IP.
    await using certs = await makeCertificates([HOST]);
    const { cert, key } = certs.leaves[HOST];
    await using server = Deno.serve(
      { hostname: HOST, port: 0, cert, key, onListen: () => {} },
      toHandler(echoService()),
    );
    const url = `https://${HOST}:${server.addr.port}/echo`;
    const sent = randomBytes(MIB, 43) as Uint8Array<ArrayBuffer>;
    await within(
      15_000,
      "the HTTP/2 and HTTP/1.1 exchanges",
      (async () => {
        // With HTTP/1.1 refused, the exchange succeeds only if the server agreed on h2.
        using h2 = Deno.createHttpClient({ caCerts: [certs.ca.cert], http1: false, http2: true });
        const response = await fetch(url, { method: "POST", body: sent, client: h2 });
        const body = new Uint8Array(await response.arrayBuffer());
        assert.equal(response.status, 200);
        assert.equal(response.headers.get("x-body-sha256"), sha256(sent));
        assert.ok(response.headers.get("x-request-id"));
        assert.equal(body.length, sent.length);
        assert.equal(sha256(body), sha256(sent));

        // The same server answers HTTP/1.1 too: Deno.serve offers both.
        using h1 = Deno.createHttpClient({ caCerts: [certs.ca.cert], http1: true, http2: false });
        const again = await fetch(url, { method: "POST", body: sent, client: h1 });
        assert.equal(again.status, 200);
        assert.equal(sha256(new Uint8Array(await again.arrayBuffer())), sha256(sent));
      })(),
    );
  },
});

Deno.test({
  name: testName(
    "httpServer() speaks HTTP/1.1 only: behind terminateTls() with ALPN http/1.1, curl --http2 " +
      "gets HTTP/1.1",
    CURL,
  ),
  ignore: CURL !== undefined,
  async fn() {
    const certificates = new TlsCertificates(readCertificateFiles([
      { cert: file("a.test.crt"), key: file("a.test.key") },
    ]));
    const service = new ServiceBuilder()
      .layer(terminateTls({ certificates, alpn: ["http/1.1"], timeout: 5_000 }))
      .service(httpServer(echoService()));
    await using server = serve({ listen: `${HOST}:0`, service });
    const sent = randomBytes(64 * 1024, 44);
    const result = await curlPost(server.address.port, sent);
    assert.equal(result.version, "1.1");
    assert.match(result.head, /^HTTP\/1\.1 200/m);
    assert.equal(headerOf(result.head, "x-body-sha256"), sha256(sent));
    assert.equal(sha256(result.body), sha256(sent));
  },
});
