/**
 * What happens between connecting to an upstream and piping: the PROXY protocol header, TLS to
 * the upstream, and the bytes a layer already read from the client.
 *
 * @module
 */

import type { Address } from "./address.ts";
import { type ByteStream, writeAll } from "./byte_stream.ts";
import type { Connection } from "./connection.ts";
import { encodeProxyHeader } from "./proxy_protocol/encode.ts";
import { ConnectionError } from "./report.ts";
import { originateTls, type UpstreamTlsOptions } from "./tls/originate.ts";
import { messageOf } from "./_util.ts";

/**
 * What to send an upstream before the client's bytes.
 *
 * @example PROXY protocol v2, then TLS verified as `api.internal`
 * ```ts
 * import type { HandoverOptions } from "@minginx/minginx";
 *
 * const handover: HandoverOptions = { proxyProtocol: 2, tls: { serverName: "api.internal" } };
 * ```
 */
export interface HandoverOptions {
  /** Send a PROXY protocol header of this version first, with the client's address. */
  proxyProtocol?: 1 | 2;
  /** Speak TLS to the upstream, after the PROXY header if there is one. */
  tls?: UpstreamTlsOptions;
  /**
   * How long TLS to the upstream may take to start, in milliseconds.
   *
   * @default {10000}
   */
  tlsTimeout?: number;
}

/**
 * Gets a connected upstream ready for the pipe: sends the PROXY header (v2 names the server name
 * the client asked for, when a layer read it), starts TLS, then sends
 * `connection.preread` through the upstream direction's hooks, counted in `connection.up`.
 *
 * @param connection The connection, with the upstream socket attached.
 * @param socket The attached TCP socket.
 * @param address The upstream's address.
 * @param options What to send.
 * @returns What the pipe should use as the upstream: the socket, or the TLS session over it.
 * @throws {ConnectionError} `upstream_tls` if TLS fails, `upstream_reset` if a write fails.
 *
 * @example Nothing to send: the socket is used as it is
 * ```ts
 * import { Connection, handover } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * using client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * using accepted = await listener.accept();
 * const connection = new Connection(1, accepted);
 * assert.equal(await handover(connection, client, listener.addr, {}), client);
 * ```
 */
export async function handover(
  connection: Connection,
  socket: Deno.TcpConn,
  address: Address,
  options: HandoverOptions,
): Promise<ByteStream> {
  let upstream: ByteStream = socket;
  if (options.proxyProtocol) {
    const header = encodeProxyHeader(
      options.proxyProtocol,
      connection.clientAddress,
      connection.localAddress,
      // A server name is at most 253 bytes, but one a TLS library passed on is not checked here.
      {
        authority: (connection.serverName?.length ?? 0) <= 255 ? connection.serverName : undefined,
      },
    );
    await writeOrFail(socket, header, "the PROXY header");
  }
  if (options.tls) {
    const session = await originateTls(socket, address, options.tls, options.tlsTimeout ?? 10_000);
    connection.upstream = upstream = session;
    if (connection.signal.aborted) {
      session.close();
      throw connection.signal.reason;
    }
  }
  const preread = connection.preread;
  if (preread?.length) {
    connection.preread = undefined;
    await writeOrFail(connection.sinkFor("up", upstream), preread, "the client's first bytes");
    connection.up.bytes += preread.length;
  }
  return upstream;
}

async function writeOrFail(sink: Pick<ByteStream, "write">, bytes: Uint8Array, what: string) {
  try {
    await writeAll(sink, bytes);
  } catch (error) {
    throw new ConnectionError(
      "upstream_reset",
      `Cannot send ${what} upstream: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
}
