/**
 * SNI routing without terminating TLS ("passthrough"): read the client's ClientHello, choose a
 * service by the server name it asks for, and hand it the connection with the bytes read so far.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { ConnectionError, type ConnectionReport } from "../report.ts";
import type { Service } from "../service.ts";
import { checkMs } from "../_util.ts";
import { deadline, readFailure } from "../_deadline.ts";
import { ClientHelloError, MAX_CLIENT_HELLO } from "./client_hello.ts";
import { readClientHello } from "./read_client_hello.ts";

type ConnectionService = Service<Connection, ConnectionReport>;

/**
 * Options for {@linkcode routeBySni}.
 *
 * @example Two names, a wildcard, a default and a fallback for plain text
 * ```ts
 * import { forward, type RouteBySniOptions } from "@minginx/minginx";
 *
 * const options: RouteBySniOptions = {
 *   routes: {
 *     "a.test": forward({ upstreams: ["10.0.0.1:443"] }),
 *     "*.example.com": forward({ upstreams: ["10.0.0.2:443"] }),
 *   },
 *   default: forward({ upstreams: ["10.0.0.3:443"] }),
 *   fallback: forward({ upstreams: ["10.0.0.4:80"] }),
 * };
 * ```
 */
export interface RouteBySniOptions {
  /**
   * Services by server name: an exact name such as `a.test`, or `*.example.com` for any name
   * under `example.com` (at any depth, not `example.com` itself). An exact name wins, then the
   * longest wildcard. Names are compared in lower case.
   */
  routes: Readonly<Record<string, ConnectionService>>;
  /** Where a ClientHello with no server name, or one no route names, goes. */
  default: ConnectionService;
  /** Where bytes that are not TLS go; without it they are closed with reason `not_tls`. */
  fallback?: ConnectionService;
  /**
   * Read the server name from the ClientHello. Set it to `false` when TLS is terminated by a
   * layer outside, which has set `connection.serverName` already.
   *
   * @default {true}
   */
  peek?: boolean;
  /**
   * The most bytes of TLS records the ClientHello may take.
   *
   * @default {MAX_CLIENT_HELLO}
   */
  maxBytes?: number;
  /**
   * How long the client has to send its whole ClientHello, in milliseconds.
   *
   * @default {10000}
   */
  timeout?: number;
}

/**
 * Creates a service that routes by the TLS server name (SNI). It reads the ClientHello from the
 * plain TCP connection (it may span several TLS records and TCP segments), keeps the server name
 * as `connection.serverName`, leaves every byte it read in `connection.preread` (so the chosen
 * service's `forward` sends them first, unchanged), and calls the service of the route.
 *
 * A ClientHello that is malformed, cut short or larger than `maxBytes` ends the connection with
 * reason `client_hello`; one that takes longer than `timeout`, with `handshake_timeout`; bytes
 * that are not TLS go to `fallback`, or end it with `not_tls`.
 *
 * @param options The routes, the default, the fallback, and the limits.
 * @returns The service.
 * @throws {RangeError} If `maxBytes` or `timeout` is out of range.
 *
 * @example Plain text, with no fallback, is closed
 * ```ts
 * import { forward, routeBySni, serve } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const service = routeBySni({ routes: {}, default: forward({ upstreams: [upstream.addr] }) });
 * await using proxy = serve({ listen: "127.0.0.1:0", service });
 * using client = await Deno.connect(proxy.address);
 * await client.write(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
 * assert.equal(await client.read(new Uint8Array(1)), null);
 * ```
 */
export function routeBySni(options: RouteBySniOptions): ConnectionService {
  const exact = new Map<string, ConnectionService>();
  const wildcards: [suffix: string, service: ConnectionService][] = [];
  for (const [name, service] of Object.entries(options.routes)) {
    const lower = name.toLowerCase();
    if (lower.startsWith("*.")) wildcards.push([lower.slice(1), service]);
    else exact.set(lower, service);
  }
  wildcards.sort(([a], [b]) => b.length - a.length);
  const { default: fallthrough, fallback, peek = true } = options;
  const maxBytes = options.maxBytes ?? MAX_CLIENT_HELLO;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 64) {
    throw new RangeError(
      `Cannot use ClientHello limit ${maxBytes}: expected whole bytes, at least 64`,
    );
  }
  const timeoutMs = checkMs(options.timeout ?? 10_000, "ClientHello timeout");
  const choose = (name: string | undefined): ConnectionService => {
    if (name === undefined) return fallthrough;
    const found = exact.get(name);
    if (found) return found;
    for (const [suffix, service] of wildcards) if (name.endsWith(suffix)) return service;
    return fallthrough;
  };
  return async function routeBySni(connection: Connection): Promise<ConnectionReport> {
    if (!peek) return choose(connection.serverName)(connection);
    try {
      const { hello, bytes } = await deadline(
        connection,
        timeoutMs,
        `No complete ClientHello within ${timeoutMs} ms`,
        readClientHello(connection.client, { maxBytes, initial: connection.preread }),
      );
      connection.preread = bytes;
      connection.serverName = hello.serverName;
      if (hello.alpn.length > 0) connection.alpn = hello.alpn.join(",");
    } catch (error) {
      if (error instanceof ClientHelloError && error.problem === "not_tls") {
        if (!fallback) {
          const reason = new ConnectionError("not_tls", error.message, { cause: error });
          return connection.end(reason);
        }
        connection.preread = error.bytes;
        return fallback(connection);
      }
      return connection.end(readFailure(error, "client_hello", ClientHelloError));
    }
    return choose(connection.serverName)(connection);
  };
}
