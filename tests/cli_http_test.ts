/**
 * HTTP mode through the command line and a config file: `--mode http` routes requests by host
 * and path to pools of their own, sets the forwarding fields, logs each request, offers only
 * http/1.1 over TLS, and refuses the settings that do not go with it.
 */

import assert from "node:assert/strict";
import { CliProcess, freePort, runCli } from "./_cli.ts";
import { delay, within } from "./_helpers.ts";
import { fieldOf, rawClient, rawExchange, type Seen, startEchoUpstream } from "./_http_proxy.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;

/** The JSON an echo upstream answered with. */
function seenIn(text: string): Seen {
  return JSON.parse(text) as Seen;
}

Deno.test("CLI --mode http routes by host and path to each route's pool, and logs each request", async () => {
  await using main = startEchoUpstream("main");
  await using api = startEchoUpstream("api");
  await using wild = startEchoUpstream("wild");
  const port = freePort();
  await using proxy = new CliProcess(
    [
      ...["--mode", "http", "-l", `127.0.0.1:${port}`, "-u", main.address],
      ...["--route", `api.test/v2=${api.address}`, "--route", `*.example.test=${wild.address}`],
    ],
    `127.0.0.1:${port},${main.address},${api.address},${wild.address}`,
  );
  await proxy.waitFor(/listening on/);
  const get = async (host: string, path: string) => {
    const response = await rawExchange(port, [
      `GET ${path} HTTP/1.1`,
      `Host: ${host}`,
      "X-Forwarded-For: 203.0.113.9",
      "Connection: close",
    ]);
    assert.equal(response.status, 200, response.text);
    return seenIn(response.text);
  };
  const routed = [
    await get("api.test", "/v2/users?id=1"),
    await get("API.test:80", "/v2"),
    await get("api.test", "/v20"),
    await get("www.example.test", "/v2"),
    await get("example.test", "/"),
  ];
  assert.deepEqual(routed.map(({ upstream, path }) => [upstream, path]), [
    ["api", "/v2/users?id=1"],
    ["api", "/v2"],
    ["main", "/v20"],
    ["wild", "/v2"],
    ["main", "/"],
  ]);
  // The client is not a trusted proxy: its X-Forwarded-For is replaced, not added to.
  assert.equal(routed[0].headers["x-forwarded-for"], "127.0.0.1");
  assert.equal(routed[0].headers["x-forwarded-host"], "api.test");
  assert.equal(routed[0].headers["x-forwarded-proto"], "http");
  assert.equal(routed[0].headers.connection, undefined);
  const line = await proxy.waitFor(/minginx\.access\.http: GET \/v2\/users\?id=1 /);
  assert.match(line, /\[INF\] minginx\.access\.http: GET \/v2\/users\?id=1 200 \d+B \d+ms$/);
  // Each connection still ends with its own line and reason, without an upstream of its own.
  assert.match(
    await proxy.waitFor(/minginx\.access: 127\.0\.0\.1:\d+ client_closed/),
    /minginx\.access: 127\.0\.0\.1:\d+ client_closed up=\d+B down=\d+B \d+ms$/,
  );
});

Deno.test("CLI --mode http keeps client and upstream connections alive, and trusts --trusted-proxy", async () => {
  await using main = startEchoUpstream("main");
  const port = freePort();
  await using proxy = new CliProcess(
    [
      ...["--mode", "http", "-l", `127.0.0.1:${port}`, "-u", main.address],
      ...["--trusted-proxy", "127.0.0.0/8", "--upstream-keepalive", "4"],
    ],
    `127.0.0.1:${port},${main.address}`,
  );
  await proxy.waitFor(/listening on/);
  using client = await rawClient(port);
  for (let i = 0; i < 5; i++) {
    await client.send(
      `POST /n/${i} HTTP/1.1\r\nHost: a.test\r\nX-Forwarded-For: 203.0.113.9\r\n` +
        `Content-Length: 3\r\n\r\nab${i}`,
    );
    const response = await client.response("POST");
    assert.equal(response.status, 200);
    const seen = seenIn(response.text);
    assert.deepEqual([seen.path, seen.bytes], [`/n/${i}`, 3]);
    assert.equal(seen.headers["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
  }
  // Five requests in turn over one client connection went over one upstream connection.
  assert.equal(main.peerPorts.size, 1);
});

Deno.test("CLI --mode http over TLS agrees on http/1.1 even when the client offers h2 first", async () => {
  await using main = startEchoUpstream("main");
  const port = freePort();
  await using proxy = new CliProcess(
    [
      ...["--mode", "http", "-l", `127.0.0.1:${port}`, "-u", main.address],
      ...["--tls-cert", `${FIXTURES}a.test.crt`, "--tls-key", `${FIXTURES}a.test.key`],
    ],
    `127.0.0.1:${port},${main.address}`,
    [`--allow-read=${FIXTURES}`],
  );
  await proxy.waitFor(/listening on/);
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  using conn = await Deno.startTls(tcp, {
    hostname: "a.test",
    caCerts: [await Deno.readTextFile(`${FIXTURES}ca.crt`)],
    alpnProtocols: ["h2", "http/1.1"],
  });
  const { alpnProtocol } = await within(5_000, "TLS handshake", conn.handshake());
  assert.equal(alpnProtocol, "http/1.1");
  await conn.write(new TextEncoder().encode("GET /tls HTTP/1.1\r\nHost: a.test\r\n\r\n"));
  let text = "";
  const buffer = new Uint8Array(4096);
  while (!text.includes('"upstream":"main"')) {
    const n = await within(5_000, "the response", conn.read(buffer));
    if (n === null) break;
    text += new TextDecoder().decode(buffer.subarray(0, n));
  }
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /"x-forwarded-proto":"https"/);
});

Deno.test("CLI refuses HTTP settings that do not go with the mode, naming them, exit 2", async () => {
  const cases: [string[], string][] = [
    [["--route", "/a=127.0.0.1:1"], "Option --route needs --mode http: add it, or drop it"],
    [["--mode", "udp"], 'Cannot parse --mode "udp": expected tcp or http'],
    [
      ["--mode", "http", "--route", "api.test:8080=127.0.0.1:1"],
      'Cannot parse --route "api.test:8080=127.0.0.1:1": expected [HOST][/PATH]=HOST:PORT, ' +
      "such as example.com/api=10.0.0.1:8080, *.example.com=10.0.0.2:80 or /static=10.0.0.3:80",
    ],
    [
      ["--mode", "http", "--max-body-size", "1 MiB"],
      'Cannot parse --max-body-size "1 MiB": expected a size such as 100, 64KB or 1MiB',
    ],
    [
      ["--mode", "http", "--max-header-size", "100"],
      'Cannot parse --max-header-size "100": expected a size of at least 256 bytes',
    ],
    [
      ["--mode", "http", "--forwarded", "x-real-ip"],
      'Cannot parse --forwarded "x-real-ip": expected x-forwarded, forwarded, both or none',
    ],
    [
      ["--mode", "http", "--sni", "a.test=127.0.0.1:1"],
      "Option --sni does not go with --mode http: " +
      "HTTP mode routes by the Host field instead, with routes",
    ],
    [
      ["--mode", "http", "--send-proxy", "v2"],
      "Option --send-proxy does not go with --mode http: " +
      "HTTP mode tells upstreams about clients in forwarding fields instead",
    ],
    [
      ["--mode", "http", "--fault", "downstream:latency=1ms"],
      "Option --fault does not go with --mode http: " +
      "faults act on a connection to one upstream, which HTTP mode's requests do not have",
    ],
    [
      ["--mode", "http", "--tls-cert", "a.crt", "--tls-key", "a.key", "--tls-alpn", "h2"],
      "Option --tls-alpn does not go with --mode http: " +
      "HTTP mode's server speaks http/1.1 only, which it offers by itself",
    ],
  ];
  for (const [args, message] of cases) {
    const { code, stderr } = await runCli(args, "127.0.0.1");
    assert.equal(stderr, `${message}\n`, args.join(" "));
    assert.equal(code, 2, args.join(" "));
  }
});

Deno.test("CLI runs an HTTP server from a config file, and check lists every HTTP mistake", async () => {
  await using main = startEchoUpstream("main");
  await using api = startEchoUpstream("api");
  const dir = await Deno.makeTempDir({ prefix: "minginx-http-" });
  try {
    const port = freePort();
    const file = `${dir}/http.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        servers: [{
          listen: `127.0.0.1:${port}`,
          mode: "http",
          upstreams: [main.address],
          routes: [{ path: "/api", upstreams: [api.address], balance: "first" }],
          maxBodySize: "1KiB",
        }],
      }),
    );
    {
      await using proxy = new CliProcess(
        ["--config", file],
        `127.0.0.1:${port},${main.address},${api.address}`,
        [`--allow-read=${file}`],
      );
      await proxy.waitFor(/running .* server-0 on /);
      const routed = await rawExchange(port, ["GET /api/x HTTP/1.1", "Host: a.test"]);
      assert.equal(seenIn(routed.text).upstream, "api");
      const large = await rawExchange(
        port,
        ["POST / HTTP/1.1", "Host: a.test", "Content-Length: 2048"],
        "x".repeat(2048),
      );
      assert.equal(large.status, 413);
      assert.equal(main.seen.length, 0);
    }
    const bad = `${dir}/bad.json`;
    await Deno.writeTextFile(
      bad,
      JSON.stringify({
        servers: [
          { listen: "127.0.0.1:1", upstreams: ["127.0.0.1:2"], routes: [], forwarded: "none" },
          {
            listen: "127.0.0.1:3",
            upstreams: ["127.0.0.1:4"],
            mode: "http",
            sni: { "a.test": ["127.0.0.1:5"] },
            routes: [
              { host: "a b", upstreams: ["127.0.0.1:6"] },
              { host: "a.test/x", path: "/y", upstreams: ["127.0.0.1:6"] },
              { path: "api", upstreams: ["127.0.0.1:6"] },
              { host: "B.test", path: "/=", upstreams: ["127.0.0.1:6"] },
              { host: "b.test", path: "/=", upstreams: ["127.0.0.1:7"] },
            ],
          },
        ],
      }),
    );
    const { code, stderr } = await runCli(["check", "--config", bad], undefined, [
      `--allow-read=${bad}`,
    ]);
    assert.equal(code, 1);
    assert.deepEqual(stderr.trim().split("\n"), [
      `${bad}: servers[0].routes: needs "mode": "http": add it, or drop this`,
      `${bad}: servers[0].forwarded: needs "mode": "http": add it, or drop this`,
      `${bad}: servers[1].routes[0].host: "a b" is not valid: expected a host such as ` +
      "example.com or *.example.com",
      `${bad}: servers[1].routes[1].host: "a.test/x" is not valid: expected a host such as ` +
      "example.com or *.example.com",
      `${bad}: servers[1].routes[2].path: "api" is not valid: expected a path prefix such as ` +
      '/api: a "/", then no spaces, ? or #',
      `${bad}: servers[1].routes[4]: has the host and path of servers[1].routes[3]: give one ` +
      "route both upstreams",
      `${bad}: servers[1].sni: does not go with "mode": "http": ` +
      "HTTP mode routes by the Host field instead, with routes",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI permissions counts the upstreams of every HTTP route", async () => {
  const { code, stdout } = await runCli([
    ...["permissions", "--mode", "http", "-l", "127.0.0.1:8081", "-u", "127.0.0.1:9001"],
    ...["--route", "a.test/x=127.0.0.1:9002", "--route", "/y=127.0.0.1:9003"],
  ]);
  assert.equal(code, 0);
  assert.match(
    stdout,
    /--allow-net=127\.0\.0\.1:8081,127\.0\.0\.1:9001,127\.0\.0\.1:9002,127\.0\.0\.1:9003 /,
  );
});

Deno.test("CLI --mode http reload: a kept-alive client keeps its settings, new clients get the new routes", async () => {
  await using before = startEchoUpstream("before");
  await using after = startEchoUpstream("after");
  const dir = await Deno.makeTempDir({ prefix: "minginx-http-reload-" });
  try {
    const port = freePort();
    const file = `${dir}/http.json`;
    const write = (upstream: string) =>
      Deno.writeTextFileSync(
        file,
        JSON.stringify({
          servers: [{
            name: "www",
            listen: `127.0.0.1:${port}`,
            mode: "http",
            upstreams: [before.address],
            routes: [{ path: "/api", upstreams: [upstream] }],
          }],
        }),
      );
    write(before.address);
    await using proxy = new CliProcess(
      ["--config", file],
      `127.0.0.1:${port},${before.address},${after.address}`,
      [`--allow-read=${file}`],
    );
    await proxy.waitFor(/running .* www on /);
    using kept = await rawClient(port);
    const ask = async (client: Awaited<ReturnType<typeof rawClient>>) => {
      await client.send("GET /api/x HTTP/1.1\r\nHost: a.test\r\n\r\n");
      const response = await client.response();
      assert.equal(response.status, 200, response.text);
      return seenIn(response.text).upstream;
    };
    assert.equal(await ask(kept), "before");
    write(after.address);
    proxy.child.kill("SIGHUP");
    await proxy.waitFor(/Reloaded/);
    using fresh = await rawClient(port);
    assert.equal(await ask(fresh), "after");
    // The connection from before the reload goes on, with the routes it started with.
    assert.equal(await ask(kept), "before");
    assert.equal(await ask(fresh), "after");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("CLI --mode http drains on SIGTERM: idle kept-alive clients are closed, a request in flight finishes", async () => {
  const slow = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      if (new URL(request.url).pathname === "/slow") await delay(500);
      return new Response(`done ${new URL(request.url).pathname}`);
    },
  );
  await using _ = { [Symbol.asyncDispose]: () => slow.shutdown() };
  const upstream = `127.0.0.1:${slow.addr.port}`;
  const port = freePort();
  const proxy = new CliProcess(
    ["--mode", "http", "-l", `127.0.0.1:${port}`, "-u", upstream, "--drain-timeout", "10s"],
    `127.0.0.1:${port},${upstream}`,
  );
  await using _proxy = proxy;
  await proxy.waitFor(/listening on/);
  using idle = await rawClient(port);
  await idle.send("GET /fast HTTP/1.1\r\nHost: a.test\r\n\r\n");
  assert.equal((await idle.response()).text, "done /fast");
  using busy = await rawClient(port);
  await busy.send("GET /slow HTTP/1.1\r\nHost: a.test\r\n\r\n");
  await delay(100); // the request is at the upstream
  const stopped = performance.now();
  proxy.child.kill("SIGTERM");
  // The idle connection is closed at once; the busy one gets its whole answer, marked last.
  assert.equal(await within(2_000, "the idle client's close", idle.reader.readHead()), null);
  const answer = await busy.response();
  assert.equal(answer.text, "done /slow");
  assert.equal(fieldOf(answer.head, "connection"), "close");
  assert.equal((await within(5_000, "the exit", proxy.exit())).code, 0);
  assert.ok(performance.now() - stopped < 5_000, "it did not wait for the drain timeout");
});
