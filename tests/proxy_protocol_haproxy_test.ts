/**
 * readProxyHeader() with haproxy as a real peer: its send-proxy, its send-proxy-v2 with CRC32C and
 * a unique ID, and its health checks (LOCAL headers). Ignored when haproxy is not installed.
 */

import assert from "node:assert/strict";
import type { Source } from "../mod.ts";
import { readProxyHeader } from "../lib/proxy_protocol/read.ts";
import { freePorts } from "./_cli.ts";
import { within } from "./_helpers.ts";
import { at, LOCAL, proxied, text } from "./_proxy_protocol.ts";

const HAPROXY = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"]
  .filter(Boolean).map((dir) => `${dir}/haproxy`).find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });

/**
 * Accepts connections until one comes with a header of `command`, answering haproxy's health
 * checks (LOCAL, then PING) with PONG on the way.
 */
async function accept(listener: Deno.TcpListener, command: "proxy" | "local") {
  for (;;) {
    const conn = await listener.accept();
    const raw: number[] = [];
    const source: Source = {
      async read(buffer) {
        const n = await conn.read(buffer);
        if (n !== null) raw.push(...buffer.subarray(0, n));
        return n;
      },
    };
    const read = await readProxyHeader(source);
    const length = raw.length - read.rest.length;
    if (read.header.command === "proxy") return { conn, sent: raw.slice(0, length), ...read };
    assert.deepEqual(read.header, LOCAL);
    await conn.write(text("PONG\r\n"));
    conn.close();
    if (command === "local") return;
  }
}

Deno.test({
  name: HAPROXY
    ? "readProxyHeader() reads haproxy's send-proxy, send-proxy-v2 with CRC32C and its checks"
    : "readProxyHeader() with a real haproxy: IGNORED, haproxy is not installed",
  ignore: HAPROXY === undefined,
  async fn() {
    using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const dir = await Deno.makeTempDir({ prefix: "minginx_haproxy_" });
    const [one, two] = freePorts(2);
    const ports = { 1: one, 2: two };
    const server = `127.0.0.1:${upstream.addr.port}`;
    await Deno.writeTextFile(
      `${dir}/haproxy.cfg`,
      `global
  nbthread 1
defaults
  mode tcp
  timeout connect 5s
  timeout client 10s
  timeout server 10s
  timeout check 5s
frontend v1
  bind 127.0.0.1:${ports[1]}
  default_backend v1
backend v1
  server s ${server} send-proxy
frontend v2
  bind 127.0.0.1:${ports[2]}
  unique-id-format %ci:%cp-%rt
  default_backend v2
backend v2
  option tcp-check
  tcp-check connect send-proxy
  tcp-check send PING\\r\\n
  tcp-check expect string PONG
  server s ${server} send-proxy-v2 proxy-v2-options crc32c,unique-id check inter 200ms
`,
    );
    const child = new Deno.Command(HAPROXY!, {
      args: ["-f", `${dir}/haproxy.cfg`, "-db"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    const exited = child.status.then(({ code }) => Promise.reject(new Error(`exit code ${code}`)));
    exited.catch(() => {}); // only the wait for the first check looks at it
    try {
      // The first health check shows haproxy is up; it binds its frontends before checking.
      await within(
        10_000,
        "haproxy's first check",
        Promise.race([accept(upstream, "local"), exited]),
      );
      for (const version of [1, 2] as const) {
        const data = text(`hello over v${version}, ${"\r\n\0".repeat(50)}`);
        using client = await Deno.connect({ hostname: "127.0.0.1", port: ports[version] });
        await client.write(data);
        await client.closeWrite();
        const { conn, sent, header, rest } =
          (await within(10_000, "a client", accept(upstream, "proxy")))!;
        using _ = conn;
        const from = at("127.0.0.1", client.localAddr.port);
        assert.deepEqual(header, proxied(version, from, at("127.0.0.1", ports[version])));
        const received = [...rest];
        const buffer = new Uint8Array(1024);
        for (let n; (n = await within(10_000, "the client's bytes", conn.read(buffer))) !== null;) {
          received.push(...buffer.subarray(0, n));
        }
        assert.deepEqual(new Uint8Array(received), data);
        if (version === 2) {
          const tlvs = sent.slice(16 + 12); // after the TCP4 address block
          assert.deepEqual([tlvs[0], tlvs[1], tlvs[2]], [0x03, 0, 4], "no CRC32C TLV first");
          assert.ok(tlvs.includes(0x05), "haproxy sent no unique-id TLV");
        }
      }
    } catch (error) {
      child.kill("SIGKILL");
      throw new Error(`haproxy said: ${await stderr}`, { cause: error });
    } finally {
      try {
        child.kill("SIGTERM");
      } catch { /* exited already */ }
      await within(10_000, "haproxy to exit", child.status);
      await stderr;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
