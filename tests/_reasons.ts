/**
 * What tests/access_log_reasons_test.ts shares: the CLI running a config file with its access
 * log in a JSON file, the check of one record's envelope and fields, and upstreams that end a
 * connection in a given way.
 */

import assert from "node:assert/strict";
import net from "node:net";
import type { CloseReason } from "../mod.ts";
import { CliProcess } from "./_cli.ts";
import { delay, startServer, type TestServer, within, writeAll } from "./_helpers.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
/** The fixtures: a CA, and the certificate and key of `a.test`. */
export const TLS_FILES = {
  ca: Deno.readTextFileSync(`${FIXTURES}ca.crt`),
  cert: `${FIXTURES}a.test.crt`,
  key: `${FIXTURES}a.test.key`,
};

/** One line of a `--log-format json` log, as LogTape's jsonLinesFormatter writes it. */
export type JsonRecord = Record<string, unknown> & { properties: Record<string, unknown> };

/** The access-log file, read again on every look: one JSON object a line. */
export function accessLogAt(path: string) {
  const read = (): JsonRecord[] => {
    let text = "";
    try {
      text = Deno.readTextFileSync(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
  };
  const find = async (client: string, listener: string): Promise<JsonRecord> => {
    const match = ({ properties: p }: JsonRecord) => p.client === client && p.listener === listener;
    for (;;) {
      const found = read().find(match);
      if (found) return found;
      await delay(20);
    }
  };
  return {
    read,
    /** The record of the connection from `client` to `listener`, once written (at most 5 s). */
    find: (client: string, listener: string) =>
      within(5_000, `the record of ${client} on ${listener}`, find(client, listener)),
  };
}

/** A config file's servers by name, each without its name and listen address. */
export type Servers = Record<string, Record<string, unknown>>;

/**
 * The CLI running the servers of a config file, server `name` on 127.0.0.1:`ports[name]`, with
 * `--log-format json`, the access log in `dir`/access.log and `--drain-timeout 300ms`.
 */
export async function startConfigCli(
  dir: string,
  ports: Record<string, number>,
  servers: Servers,
  allowNet: string,
) {
  const config = `${dir}/minginx.jsonc`;
  const accessLog = `${dir}/access.log`;
  /** Writes the file whole, as an editor saving by rename does. */
  const write = (servers: Servers) => {
    const list = Object.entries(servers)
      .map(([name, server]) => ({ name, listen: `127.0.0.1:${ports[name]}`, ...server }));
    const text = `// written by access_log_reasons_test.ts\n${JSON.stringify({ servers: list })}`;
    Deno.writeTextFileSync(`${config}.tmp`, text);
    Deno.renameSync(`${config}.tmp`, config);
  };
  write(servers);
  const args = ["--config", config, "--log-format", "json", "--access-log", accessLog];
  const proxy = new CliProcess([...args, "--drain-timeout", "300ms"], allowNet, [
    `--allow-read=${dir},${FIXTURES}`,
    `--allow-write=${dir}`,
  ]);
  try {
    await proxy.waitFor(/running /);
  } catch (error) {
    await proxy[Symbol.asyncDispose]();
    throw error;
  }
  return {
    proxy,
    log: accessLogAt(accessLog),
    write,
    listener: (name: string) => `127.0.0.1:${ports[name]}`,
    connect: (name: string) => Deno.connect({ hostname: "127.0.0.1", port: ports[name] }),
    [Symbol.asyncDispose]: () => proxy[Symbol.asyncDispose](),
  };
}

/** The reasons logged as warnings (README.md's table); `error` is an error, the rest info. */
const WARNINGS = ("upstream_reset no_upstream dns_failed connect_timeout over_limit rate_limited " +
  "proxy_header upstream_tls").split(" ");
const levelOf = (reason: CloseReason) =>
  reason === "error" ? "ERROR" : WARNINGS.includes(reason) ? "WARN" : "INFO";

/** A count that is known exactly, or only within `[lowest, highest]`. */
export type Count = number | readonly [number, number];

/** What one connection's record must say. */
export interface Expected {
  reason: CloseReason;
  listener: string;
  client: string;
  /** The upstream connected to, and its pool's name; `null` when none was connected. */
  upstream: { address: string; pool: string } | null;
  bytesUp: Count;
  bytesDown: Count;
  /** The values closedFirst may take: one, or more where the kernel decides (a reset). */
  closedFirst: readonly ("client" | "upstream" | null)[];
  connectAttempts: number;
  /** What the error says; absent for client_closed and upstream_closed, which have none. */
  error?: RegExp;
  serverName?: string;
  alpn?: string;
  /** The shortest duration possible, for endings that wait for a timer. */
  minDurationMs?: number;
}

function assertCount(actual: unknown, expected: Count, what: string): void {
  assert.equal(typeof actual, "number", what);
  if (typeof expected === "number") return assert.equal(actual, expected, what);
  const n = actual as number;
  assert.ok(n >= expected[0] && n <= expected[1], `${what}: ${n} not in ${expected}`);
}

/** Checks a record's LogTape envelope and every field of its report, present or absent. */
export function assertRecord(record: JsonRecord, want: Expected, since: number): void {
  const p = record.properties;
  const context = JSON.stringify(record);
  const envelope = ["@timestamp", "level", "logger", "message", "properties"];
  assert.deepEqual(Object.keys(record).sort(), envelope, context);
  assert.equal(record.logger, "minginx.access", context);
  assert.equal(record.level, levelOf(want.reason), context);
  const at = Date.parse(record["@timestamp"] as string);
  assert.ok(at >= since - 1_000 && at <= Date.now() + 1_000, `@timestamp: ${context}`);
  assert.equal(p.reason, want.reason, context);
  const keys = ["id", "listener", "client", "upstream", "bytesUp", "bytesDown", "durationMs"];
  keys.push("reason", "closedFirst", "connectAttempts");
  if (want.upstream) keys.push("pool", "connectMs");
  for (const key of ["error", "serverName", "alpn"] as const) if (want[key]) keys.push(key);
  assert.deepEqual(Object.keys(p).sort(), keys.sort(), `the fields of ${context}`);
  assert.ok(Number.isSafeInteger(p.id) && (p.id as number) >= 1, `id: ${context}`);
  assert.equal(p.listener, want.listener, context);
  assert.equal(p.client, want.client, context);
  assert.equal(p.upstream, want.upstream?.address ?? null, context);
  assertCount(p.bytesUp, want.bytesUp, `bytesUp of ${context}`);
  assertCount(p.bytesDown, want.bytesDown, `bytesDown of ${context}`);
  assert.ok(Number.isSafeInteger(p.durationMs), `durationMs: ${context}`);
  const duration = p.durationMs as number;
  assert.ok(duration >= (want.minDurationMs ?? 0), `durationMs: ${context}`);
  assert.ok(want.closedFirst.includes(p.closedFirst as null), `closedFirst: ${context}`);
  assert.equal(p.connectAttempts, want.connectAttempts, `connectAttempts: ${context}`);
  if (want.upstream) {
    assert.equal(p.pool, want.upstream.pool, `pool: ${context}`);
    assert.equal(typeof p.connectMs, "number", `connectMs: ${context}`);
    const connectMs = p.connectMs as number;
    assert.ok(connectMs >= 0 && connectMs <= duration + 1, `connectMs: ${context}`);
  }
  if (want.error) assert.match(p.error as string, want.error, `error: ${context}`);
  assert.equal(p.serverName, want.serverName, context);
  assert.equal(p.alpn, want.alpn, context);
  // The message is the access line, with its values as JSON; "-> UPSTREAM" only with one or SNI.
  const to = p.upstream === null && p.serverName === undefined
    ? ""
    : ` -> ${JSON.stringify(p.upstream)}`;
  let line = `${JSON.stringify(p.client)}${to} "${p.reason}" ` +
    `up=${p.bytesUp}B down=${p.bytesDown}B ${duration}ms`;
  if (p.serverName !== undefined) line += ` sni=${JSON.stringify(p.serverName)}`;
  if (p.error !== undefined) line += `: ${JSON.stringify(p.error)}`;
  assert.equal(record.message, line, context);
}

/** The `HOST:PORT` of a connection's own end, as the proxy sees its client. */
export const clientOf = (conn: Deno.Conn) => `127.0.0.1:${(conn.localAddr as Deno.NetAddr).port}`;

/** Resolves once the proxy has closed `conn`: an end of stream, or a reset (at most 5 s). */
export async function closedByProxy(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(4096);
  const closed = async () => {
    try {
      while (await conn.read(buffer) !== null) { /* what was on its way */ }
    } catch { /* a reset */ }
  };
  await within(5_000, "the proxy to close the client", closed());
}

/** An upstream that sends `text`, ends its sending first, and waits for the proxy's end. */
export function startGreeter(text: string): TestServer {
  return startServer(async (conn) => {
    await writeAll(conn, new TextEncoder().encode(text));
    await conn.closeWrite();
    while (await conn.read(new Uint8Array(64)) !== null) { /* until the end */ }
  });
}

/**
 * An upstream that resets each connection as soon as bytes come: SO_LINGER 0 sends a reset alone.
 * (Closing a Deno.Conn shuts its writing down first, so a FIN goes before the reset, and the proxy
 * may take the FIN for a clean end before the reset comes.)
 */
export async function startResetter() {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {}).on("close", () => sockets.delete(socket));
    socket.once("data", () => socket.resetAndDestroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    [Symbol.asyncDispose]: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Connects with node:net, sends `bytes` zero bytes, and resets the connection as soon as the echo
 * starts coming back, as {@linkcode startResetter} does.
 *
 * @returns The client's address, once the socket has closed (at most 5 s).
 */
export function resetOnEcho(port: number, bytes: number): Promise<string> {
  const closed = new Promise<string>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("connect", () => socket.write(new Uint8Array(bytes)));
    socket.once("data", () => socket.resetAndDestroy());
    socket.on("error", () => {});
    const client = () => `127.0.0.1:${socket.localPort}`;
    let address = "";
    socket.on("connect", () => address = client());
    socket.on("close", () => resolve(address));
  });
  return within(5_000, "the reset client to close", closed);
}
