/**
 * TLS through the CLI with real clients: curl and `openssl s_client` against a terminating
 * listener with a certificate per name, and curl through SNI passthrough to upstreams that each
 * hold their own certificate. Certificates are made with openssl for the run.
 */

import assert from "node:assert/strict";
import { CliProcess, freePort } from "./_cli.ts";
import { randomBytes, sha256, within } from "./_helpers.ts";
import { missing, peerAnswer, startHttpPeer, testName } from "./_peers.ts";
import { type Certificates, makeCertificates } from "./_tls.ts";

const CLIENTS = await missing("openssl", "curl");
const HOST = "127.0.0.1";

/** Runs a client program to completion, failing the test if it fails, and returns its stdout. */
async function run(program: string, args: string[], stdin?: Uint8Array): Promise<Uint8Array> {
  const child = new Deno.Command(program, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const { code, stdout, stderr } = await within(15_000, `${program} to finish`, child.output());
  const text = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `${program} ${args.join(" ")} exited with ${code}:\n${text}`);
  return stdout;
}

/** curl, HTTP/1.1, to `https://NAME:PORT/PATH`: NAME is 127.0.0.1, and only the CA is trusted. */
function curl(certs: Certificates, name: string, port: number, path = "/", extra: string[] = []) {
  return run("curl", [
    "--silent",
    "--show-error",
    "--fail",
    "--http1.1",
    "--max-time",
    "10",
    "--cacert",
    certs.ca.certFile,
    "--resolve",
    `${name}:${port}:${HOST}`,
    ...extra,
    `https://${name}:${port}${path}`,
  ]);
}

/** The CLI with `args`, allowed to listen on `port`, reach `upstreams` and read `files`. */
async function startCli(port: number, upstreams: number[], files: string[], args: string[]) {
  const net = [port, ...upstreams].map((p) => `${HOST}:${p}`).join(",");
  const cli = new CliProcess(
    ["-l", `${HOST}:${port}`, "--log-format", "json", ...args],
    net,
    files.length > 0 ? [`--allow-read=${files.join(",")}`] : [],
  );
  await cli.waitFor(/listening on/);
  return cli;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test({
  name: testName(
    "CLI --tls-cert: curl and openssl s_client get the certificate for the name they ask, and " +
      "the upstream gets their bytes exactly",
    CLIENTS,
  ),
  ignore: CLIENTS !== undefined,
  async fn() {
    await using certs = await makeCertificates(["a.test", "b.test"]);
    const { "a.test": a, "b.test": b } = certs.leaves;
    await using upstream = startHttpPeer("upstream");
    const port = freePort();
    await using _cli = await startCli(
      port,
      [upstream.port],
      [a.certFile, a.keyFile, b.certFile, b.keyFile],
      [
        ...["--upstream", `${HOST}:${upstream.port}`],
        ...["--tls-cert", a.certFile, "--tls-key", a.keyFile],
        ...["--tls-cert", b.certFile, "--tls-key", b.keyFile],
        ...["--tls-alpn", "h2,http/1.1"],
      ],
    );

    // curl checks the certificate against the name it asked for: a.test's for b.test fails.
    const body = randomBytes(256 * 1024, 7);
    const bodyFile = await Deno.makeTempFile({ dir: certs.dir });
    await Deno.writeFile(bodyFile, body);
    for (const name of ["a.test", "b.test"]) {
      const answer = await curl(certs, name, port, "/", ["--data-binary", `@${bodyFile}`]);
      assert.equal(text(answer), peerAnswer("upstream", "POST / HTTP/1.1", body));
    }
    const big = await curl(certs, "b.test", port, "/bytes/1000000");
    assert.equal(big.length, 1_000_000);
    assert.equal(sha256(big), sha256(randomBytes(1_000_000, 1_000_000)));

    // openssl s_client shows the subject it got; without a server name it gets the first pair's.
    for (const name of ["b.test", "a.test", undefined]) {
      const request = new TextEncoder().encode(
        `GET /${name ?? "none"} HTTP/1.1\r\nHost: ${name ?? HOST}\r\nConnection: close\r\n\r\n`,
      );
      const before = upstream.requests.length;
      const output = text(
        await run("openssl", [
          "s_client",
          ...["-connect", `${HOST}:${port}`],
          ...(name ? ["-servername", name] : ["-noservername"]),
          ...["-CAfile", certs.ca.certFile, "-verify_return_error"],
          ...["-verify_hostname", name ?? "a.test"],
          ...["-alpn", "http/1.1", "-ign_eof"],
        ], request),
      );
      assert.match(output, new RegExp(`^subject=CN = ${name ?? "a.test"}$`, "m"));
      assert.match(output, /Verify return code: 0 \(ok\)/);
      assert.match(output, /^ALPN protocol: http\/1\.1$/m);
      assert.ok(
        output.includes(
          peerAnswer("upstream", `GET /${name ?? "none"} HTTP/1.1`, new Uint8Array()),
        ),
        output,
      );
      assert.equal(upstream.requests.length, before + 1);
      assert.deepEqual(upstream.requests.at(-1), request);
    }
  },
});

Deno.test({
  name: testName(
    "CLI --sni: curl reaches the upstream routed for its server name, whose own certificate " +
      "it verifies, and bytes that are not TLS are closed as not_tls",
    CLIENTS,
  ),
  ignore: CLIENTS !== undefined,
  async fn() {
    await using certs = await makeCertificates(["a.test", "b.test", "*.w.test"]);
    const { leaves } = certs;
    await using upstreamA = startHttpPeer("upstream a", leaves["a.test"]);
    await using upstreamB = startHttpPeer("upstream b", leaves["b.test"]);
    await using upstreamW = startHttpPeer("upstream w", leaves["*.w.test"]);
    await using fallback = startHttpPeer("default pool");
    const port = freePort();
    await using cli = await startCli(
      port,
      [upstreamA.port, upstreamB.port, upstreamW.port, fallback.port],
      [],
      [
        ...["--sni", `a.test=${HOST}:${upstreamA.port}`],
        ...["--sni", `b.test=${HOST}:${upstreamB.port}`],
        ...["--sni", `*.w.test=${HOST}:${upstreamW.port}`],
        ...["--upstream", `${HOST}:${fallback.port}`],
      ],
    );

    const get = (name: string) => curl(certs, name, port, `/${name}`);
    for (const [name, answerer] of [["a.test", "a"], ["b.test", "b"], ["x.w.test", "w"]]) {
      assert.equal(
        text(await get(name)),
        peerAnswer(`upstream ${answerer}`, `GET /${name} HTTP/1.1`, new Uint8Array()),
      );
    }
    const counts = [upstreamA, upstreamB, upstreamW, fallback].map((peer) => peer.requests.length);
    assert.deepEqual(counts, [1, 1, 1, 0]);

    // Plain HTTP is not a ClientHello: without --sni-fallback the connection is closed.
    using plain = await Deno.connect({ hostname: HOST, port });
    await plain.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a.test\r\n\r\n"));
    assert.equal(await within(5_000, "the close", plain.read(new Uint8Array(1024))), null);
    await cli.waitFor(/"reason":"not_tls"/);
    assert.equal(fallback.requests.length, 0);
  },
});
