/**
 * parseClientHello() and readClientHello() on real ClientHellos: node:tls, curl and openssl each
 * connect to a plain TCP listener, which keeps the first TLS record they send and hangs up.
 */

import assert from "node:assert/strict";
import tls from "node:tls";
import type { Source } from "../lib/pipe.ts";
import { parseClientHello } from "../lib/tls/client_hello.ts";
import { readClientHello } from "../lib/tls/read_client_hello.ts";
import { within } from "./_helpers.ts";

/** Starts a client that connects to `port`; returns what stops it. */
type Client = (port: number) => () => Promise<void> | void;

/** The first TLS record a client sends to a listener that never answers. */
async function capture(client: Client): Promise<Uint8Array> {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const stop = client(listener.addr.port);
  try {
    using conn = await within(5_000, "the client's connect", listener.accept());
    const buffer = new Uint8Array(64 * 1024);
    let length = 0;
    while (length < 5 || length < 5 + ((buffer[3] << 8) | buffer[4])) {
      const n = await within(5_000, "the ClientHello", conn.read(buffer.subarray(length)));
      assert.ok(n !== null, `the client hung up after ${length} bytes`);
      length += n;
    }
    return buffer.slice(0, length);
  } finally {
    await stop();
  }
}

function nodeTls(options: tls.ConnectionOptions): Client {
  return (port) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ...options });
    socket.on("error", () => {}); // the listener hangs up mid-handshake
    return () => void socket.destroy();
  };
}

function command(program: string, args: (port: number) => string[]): Client {
  return (port) => {
    const options = { args: args(port), stdin: "null", stdout: "null", stderr: "null" } as const;
    const child = new Deno.Command(program, options).spawn();
    return async () => {
      try {
        child.kill();
      } catch { /* it exited when the listener hung up */ }
      await child.status;
    };
  };
}

/** Whether `program` runs; if not, says which test is skipped. */
function has(program: string, arg: string): boolean {
  let ok = false;
  try {
    ok = new Deno.Command(program, { args: [arg], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch { /* not on PATH */ }
  if (!ok) console.warn(`SKIP the ${program} ClientHello test: ${program} is not on PATH`);
  return ok;
}

const HAS_CURL = has("curl", "--version");
const HAS_OPENSSL = has("openssl", "version");
const EXPECTED = { serverName: "a.test", alpn: ["h2", "http/1.1"] };
let captured: Promise<Uint8Array> | undefined;
/** A node:tls ClientHello for a.test with ALPN h2 and http/1.1, captured once. */
const nodeHello = () =>
  captured ??= capture(nodeTls({ servername: "a.test", ALPNProtocols: ["h2", "http/1.1"] }));

/** A source that hands out `bytes`, at most `chunk` a read. */
function sourceOf(bytes: Uint8Array, chunk: number): Source {
  let handed = 0;
  return {
    read(buffer) {
      const n = Math.min(chunk, buffer.length, bytes.length - handed);
      if (n === 0) return Promise.resolve(null);
      buffer.set(bytes.subarray(handed, handed += n));
      return Promise.resolve(n);
    },
  };
}

/** The handshake message of a one-record ClientHello, in records of `size` bytes. */
function reframe(hello: Uint8Array, size: number): Uint8Array {
  const message = hello.subarray(5, 5 + ((hello[3] << 8) | hello[4]));
  const records: number[] = [];
  for (let at = 0; at < message.length;) {
    const piece = message.subarray(at, at += size);
    records.push(22, 3, 1, piece.length >> 8, piece.length & 255, ...piece);
  }
  return new Uint8Array(records);
}

Deno.test("parseClientHello() reads SNI and ALPN from a node:tls ClientHello", async () => {
  assert.deepEqual(parseClientHello(await nodeHello()), EXPECTED);
});

Deno.test("readClientHello() reads a node:tls ClientHello in records of 1 to 300 bytes, 1 to 64 bytes a read", async () => {
  const hello = await nodeHello();
  for (const size of [1, 2, 50, 300]) {
    for (const chunk of [1, 7, 64]) {
      const records = reframe(hello, size);
      const read = await readClientHello(sourceOf(records, chunk));
      assert.deepEqual(read.hello, EXPECTED, `records of ${size} bytes, ${chunk} a read`);
      assert.deepEqual(read.bytes, records);
    }
  }
});

Deno.test({
  name: "parseClientHello() reads SNI and ALPN from a curl ClientHello" +
    (HAS_CURL ? "" : ": IGNORED, curl is not on PATH"),
  ignore: !HAS_CURL,
  async fn() {
    const args = (
      port: number,
    ) => [
      "-s",
      "--max-time",
      "5",
      "--resolve",
      `a.test:${port}:127.0.0.1`,
      `https://a.test:${port}/`,
    ];
    const { serverName, alpn } = parseClientHello(await capture(command("curl", args)))!;
    assert.equal(serverName, "a.test");
    assert.ok(alpn.includes("http/1.1"), `ALPN ${alpn}`);
  },
});

Deno.test({
  name: "parseClientHello() reads SNI and ALPN from an openssl s_client ClientHello" +
    (HAS_OPENSSL ? "" : ": IGNORED, openssl is not on PATH"),
  ignore: !HAS_OPENSSL,
  async fn() {
    const args = (
      port: number,
    ) => ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "b.test", "-alpn", "h2"];
    const hello = await capture(command("openssl", args));
    assert.deepEqual(parseClientHello(hello), { serverName: "b.test", alpn: ["h2"] });
  },
});

Deno.test("parseClientHello() gives no server name for a ClientHello to an IP address", async () => {
  const hello = await capture(nodeTls({}));
  assert.deepEqual(parseClientHello(hello), { serverName: undefined, alpn: [] });
});
