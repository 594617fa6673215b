/**
 * Real peers for interop tests: nginx and HAProxy in the foreground with a configuration written
 * into a temporary directory, and an in-process HTTP/1.1 server, plain or over TLS, that says who
 * answered and what it was sent. Everything listens on 127.0.0.1 and is stopped on dispose.
 */

import { waitForAccept } from "../bench/net.ts";
import { nginxStreamModule, unavailableReason } from "../bench/proxies.ts";
import { type Child, hasProgram, makeTempDir, removeTempDir, spawn } from "../bench/resources.ts";
import { closeQuietly, randomBytes, sha256, writeAll } from "./_helpers.ts";

/** A program running in the foreground, with its directory. */
export interface Peer extends AsyncDisposable {
  /** The process. */
  child: Child;
  /** Its temporary directory: configuration, pid file and logs. */
  dir: string;
}

/**
 * Whether a program is on the PATH.
 *
 * @param program Its name, such as `haproxy`.
 * @returns `true` if the shell finds it.
 */
export function has(program: string): Promise<boolean> {
  return hasProgram(program);
}

/**
 * Why a test that runs these programs cannot run here: the first that is missing, named, with
 * the package to install; nginx without its stream module counts as missing.
 *
 * @param programs Such as `["nginx", "curl"]`.
 * @returns `undefined` if all are there, otherwise the message for the test's name.
 */
export async function missing(...programs: string[]): Promise<string | undefined> {
  for (const program of programs) {
    if (program === "nginx" || program === "haproxy") {
      const reason = await unavailableReason(program);
      if (reason) return reason;
    } else if (!await hasProgram(program)) {
      return `${program} is not installed (apt-get install ${program})`;
    }
  }
  return undefined;
}

/**
 * A test's name, saying why it is ignored when it is: Deno prints only the name of an ignored
 * test, so the reason goes in it.
 *
 * @param name What the test proves.
 * @param reason What {@linkcode missing} said.
 * @returns The name to give `Deno.test`.
 */
export function testName(name: string, reason: string | undefined): string {
  return reason === undefined ? name : `${name}: IGNORED, ${reason}`;
}

/**
 * Runs nginx in the foreground (`-g 'daemon off;'`) with a configuration of its `stream` (or
 * other) blocks; this adds the main context: the stream module, one worker, and pid file and
 * error log in a temporary directory, so it runs without root.
 *
 * @param conf The blocks, e.g. `stream { server { listen 127.0.0.1:PORT; ... } }`; an `events`
 *   block is added if there is none.
 * @param port Where it listens: this resolves once that port accepts.
 * @returns The running nginx; disposing of it stops it and removes the directory.
 * @throws {Error} If nginx exits or does not accept within 15 s; the message holds its output.
 */
export async function startNginx(conf: string, port: number): Promise<Peer> {
  const module = await nginxStreamModule();
  const dir = await makeTempDir("minginx-nginx-");
  const file = `${dir}/nginx.conf`;
  await Deno.writeTextFile(
    file,
    `${module ? `load_module ${module};\n` : ""}worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
${/^\s*events\s*\{/m.test(conf) ? "" : "events { worker_connections 256; }\n"}${conf}
`,
  );
  return await run(
    dir,
    () =>
      spawn("nginx", "nginx", [
        "-p",
        dir,
        "-e",
        `${dir}/error.log`,
        "-c",
        file,
        "-g",
        "daemon off;",
      ]),
    [port],
  );
}

/**
 * Runs HAProxy in the foreground (`-db`) with a configuration.
 *
 * @param conf The whole configuration.
 * @param ports Where it listens: this resolves once each accepts.
 * @returns The running HAProxy; disposing of it stops it and removes the directory.
 * @throws {Error} If HAProxy exits or does not accept within 15 s; the message holds its output.
 */
export async function startHaproxy(conf: string, ports: number | number[]): Promise<Peer> {
  const dir = await makeTempDir("minginx-haproxy-");
  const file = `${dir}/haproxy.cfg`;
  await Deno.writeTextFile(file, conf);
  return await run(dir, () => spawn("haproxy", "haproxy", ["-db", "-f", file]), [ports].flat());
}

async function run(dir: string, start: () => Child, ports: number[]): Promise<Peer> {
  let child: Child | undefined;
  try {
    child = start();
    for (const port of ports) await waitForAccept(port, child);
  } catch (error) {
    await child?.stop();
    await removeTempDir(dir);
    throw error;
  }
  const running = child;
  return {
    child: running,
    dir,
    async [Symbol.asyncDispose]() {
      await running.stop();
      await removeTempDir(dir);
    },
  };
}

/** An in-process HTTP server for interop tests. */
export interface HttpPeer extends AsyncDisposable {
  /** The port it listens on, on 127.0.0.1. */
  port: number;
  /** Every request received, head and body, byte for byte, in order. */
  requests: Uint8Array[];
}

/**
 * The body an {@linkcode HttpPeer} answers a request with: its name, the request line, and the
 * length and SHA-256 of the request's body.
 *
 * @param name The peer's name.
 * @param requestLine Such as `GET / HTTP/1.1`.
 * @param body The request's body.
 * @returns The response body.
 */
export function peerAnswer(name: string, requestLine: string, body: Uint8Array): string {
  return `${name} answered ${requestLine}: ${body.length} bytes, sha256 ${sha256(body)}\n`;
}

/**
 * Starts an HTTP/1.1 server that answers one request a connection and closes it. A `GET` of
 * `/bytes/N` gets `randomBytes(N, N)`; any other request gets {@linkcode peerAnswer}. Requests
 * may have a body of `Content-Length` bytes.
 *
 * @param name How it names itself in its answers.
 * @param tls A certificate and key to serve TLS with; plain TCP without.
 * @returns The server; disposing of it closes the listener and every connection.
 */
export function startHttpPeer(name: string, tls?: { cert: string; key: string }): HttpPeer {
  const listener = tls
    ? Deno.listenTls({ hostname: "127.0.0.1", port: 0, ...tls })
    : Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const requests: Uint8Array[] = [];
  const loop = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (error instanceof Deno.errors.BadResource) return;
        continue;
      }
      open.add(conn);
      answer(conn, name, requests).catch(() => {}).finally(() => {
        open.delete(conn);
        closeQuietly(conn);
      });
    }
  })();
  return {
    port: listener.addr.port,
    requests,
    async [Symbol.asyncDispose]() {
      listener.close();
      await loop;
      for (const conn of open) closeQuietly(conn);
    },
  };
}

const HEAD_END = new TextEncoder().encode("\r\n\r\n");

async function answer(conn: Deno.Conn, name: string, requests: Uint8Array[]): Promise<void> {
  let received = new Uint8Array(0);
  const buffer = new Uint8Array(64 * 1024);
  const append = async () => {
    const n = await conn.read(buffer);
    if (n === null) throw new Error("The client closed mid-request");
    const more = new Uint8Array(received.length + n);
    more.set(received);
    more.set(buffer.subarray(0, n), received.length);
    received = more;
  };
  let end: number;
  while ((end = indexOf(received, HEAD_END)) < 0) await append();
  const head = new TextDecoder().decode(received.subarray(0, end));
  const length = Number(head.match(/^content-length:\s*(\d+)/im)?.[1] ?? 0);
  while (received.length < end + 4 + length) await append();
  requests.push(received);
  const requestLine = head.split("\r\n")[0];
  const bytes = requestLine.match(/^GET \/bytes\/(\d+) /);
  const body = bytes
    ? randomBytes(Number(bytes[1]), Number(bytes[1]))
    : new TextEncoder().encode(peerAnswer(name, requestLine, received.subarray(end + 4)));
  const response = new TextEncoder().encode(
    `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
  );
  await writeAll(conn, response);
  await writeAll(conn, body);
}

function indexOf(bytes: Uint8Array, part: Uint8Array): number {
  outer: for (let i = 0; i + part.length <= bytes.length; i++) {
    for (let j = 0; j < part.length; j++) if (bytes[i + j] !== part[j]) continue outer;
    return i;
  }
  return -1;
}
