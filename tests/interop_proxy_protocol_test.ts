/**
 * The PROXY protocol through the CLI with real peers: HAProxy sends it to the CLI (v1 and v2),
 * which must log the client HAProxy saw; the CLI sends it to nginx and to HAProxy (v1 and v2),
 * which must report the client the CLI saw; and the three in a chain.
 */

import assert from "node:assert/strict";
import { CliProcess, freePort, freePorts } from "./_cli.ts";
import { echoes } from "./_echo.ts";
import { readToEnd, startEcho, within, writeAll } from "./_helpers.ts";
import { missing, startHaproxy, startNginx, testName } from "./_peers.ts";

const HOST = "127.0.0.1";
const NGINX = await missing("nginx");
const HAPROXY = await missing("haproxy");
const BOTH = NGINX ?? HAPROXY;

const HAPROXY_DEFAULTS = `global
  nbthread 1

defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
`;

/** The CLI on a free port in front of `upstream`, with `args`; resolves once it listens. */
async function startCli(upstream: number, args: string[]) {
  const port = freePort();
  const cli = new CliProcess(
    ["-l", `${HOST}:${port}`, "-u", `${HOST}:${upstream}`, "--log-format", "json", ...args],
    `${HOST}:${port},${HOST}:${upstream}`,
  );
  await cli.waitFor(/listening on/);
  return Object.assign(cli, { port });
}

/** The access log line of the connection from `client`, once the CLI has written it. */
async function loggedFor(cli: CliProcess, client: string): Promise<Record<string, unknown>> {
  const line = await cli.waitFor(new RegExp(`"client":"${client.replaceAll(".", "\\.")}"`));
  return JSON.parse(line).properties;
}

/** nginx answering every connection with the address its PROXY header gave, then closing. */
function nginxReportingClients(port: number) {
  return startNginx(
    `stream {
  server {
    listen ${HOST}:${port} proxy_protocol;
    return "$proxy_protocol_addr:$proxy_protocol_port\\n";
  }
}`,
    port,
  );
}

/** What a client that connects to `port` and reads to the end gets, and its own address. */
async function readFrom(port: number, request = ""): Promise<{ got: string; client: string }> {
  using conn = await Deno.connect({ hostname: HOST, port });
  if (request) await writeAll(conn, new TextEncoder().encode(request));
  const got = new TextDecoder().decode(await within(10_000, "the answer", readToEnd(conn)));
  return { got, client: `${HOST}:${conn.localAddr.port}` };
}

Deno.test({
  name: testName(
    "CLI --accept-proxy logs the client HAProxy saw, from send-proxy and send-proxy-v2",
    HAPROXY,
  ),
  ignore: HAPROXY !== undefined,
  async fn() {
    await using echo = startEcho();
    await using cli = await startCli(echo.address.port, ["--accept-proxy", `${HOST}/32`]);
    const [v1, v2] = freePorts(2);
    await using _haproxy = await startHaproxy(
      `${HAPROXY_DEFAULTS}
frontend v1
  bind ${HOST}:${v1}
  default_backend minginx_v1

frontend v2
  bind ${HOST}:${v2}
  default_backend minginx_v2

backend minginx_v1
  server minginx ${HOST}:${cli.port} send-proxy

backend minginx_v2
  server minginx ${HOST}:${cli.port} send-proxy-v2
`,
      [v1, v2],
    );
    for (const [port, size] of [[v1, 1000], [v2, 300_000]]) {
      using conn = await Deno.connect({ hostname: HOST, port });
      const client = `${HOST}:${conn.localAddr.port}`;
      await echoes(conn, size, port);
      const logged = await loggedFor(cli, client);
      assert.equal(logged.upstream, `${HOST}:${echo.address.port}`);
      assert.equal(logged.reason, "client_closed");
      assert.equal(logged.bytesUp, size);
      assert.equal(logged.bytesDown, size);
    }
  },
});

Deno.test({
  name: testName("CLI --send-proxy v1 and v2: nginx reports the client the CLI saw", NGINX),
  ignore: NGINX !== undefined,
  async fn() {
    const port = freePort();
    await using _nginx = await nginxReportingClients(port);
    for (const version of ["v1", "v2"]) {
      await using cli = await startCli(port, ["--send-proxy", version]);
      const { got, client } = await readFrom(cli.port);
      assert.equal(got, `${client}\n`, `--send-proxy ${version}`);
    }
  },
});

Deno.test({
  name: testName("CLI --send-proxy v1 and v2: HAProxy's accept-proxy sees the client", HAPROXY),
  ignore: HAPROXY !== undefined,
  async fn() {
    const port = freePort();
    await using _haproxy = await startHaproxy(
      `${HAPROXY_DEFAULTS}
frontend web
  mode http
  bind ${HOST}:${port} accept-proxy
  http-request return status 200 content-type text/plain lf-string "%[src]:%[src_port]\\n"
`,
      port,
    );
    for (const version of ["v1", "v2"]) {
      await using cli = await startCli(port, ["--send-proxy", version]);
      const { got, client } = await readFrom(
        cli.port,
        "GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
      );
      assert.match(got, /^HTTP\/1\.1 200 /, `--send-proxy ${version}`);
      assert.equal(got.split("\r\n\r\n")[1], `${client}\n`, `--send-proxy ${version}`);
    }
  },
});

Deno.test({
  name: testName(
    "HAProxy, then the CLI with --accept-proxy and --send-proxy, then nginx: nginx reports the " +
      "client HAProxy saw",
    BOTH,
  ),
  ignore: BOTH !== undefined,
  async fn() {
    const nginxPort = freePort();
    await using _nginx = await nginxReportingClients(nginxPort);
    await using cli = await startCli(nginxPort, [
      ...["--accept-proxy", `${HOST}/32`],
      ...["--send-proxy", "v1"],
    ]);
    const port = freePort();
    await using _haproxy = await startHaproxy(
      `${HAPROXY_DEFAULTS}
listen front
  bind ${HOST}:${port}
  server minginx ${HOST}:${cli.port} send-proxy-v2
`,
      port,
    );
    const { got, client } = await readFrom(port);
    assert.equal(got, `${client}\n`);
    const logged = await loggedFor(cli, client);
    assert.equal(logged.upstream, `${HOST}:${nginxPort}`);
  },
});
