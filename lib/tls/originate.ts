/**
 * TLS origination: the proxy speaks TLS to the upstream, over the TCP connection it opened.
 *
 * @module
 */

import { type Address, formatAddress } from "../address.ts";
import { ConnectionError } from "../report.ts";
import { messageOf } from "../_util.ts";

/**
 * How to speak TLS to upstreams.
 *
 * @example Verify against a private CA, as `api.internal`, offering HTTP/1.1
 * ```ts
 * import type { UpstreamTlsOptions } from "@minginx/minginx";
 *
 * const tls: UpstreamTlsOptions = {
 *   caCerts: ["-----BEGIN CERTIFICATE-----\n..."],
 *   serverName: "api.internal",
 *   alpn: ["http/1.1"],
 * };
 * ```
 */
export interface UpstreamTlsOptions {
  /**
   * Certificates to trust besides the system's roots, in PEM.
   *
   * @default {[]}
   */
  caCerts?: readonly string[];
  /**
   * The name to send (SNI) and to verify the upstream's certificate against.
   *
   * @default {the upstream's host}
   */
  serverName?: string;
  /**
   * The application protocols to offer (ALPN); none if empty.
   *
   * @default {[]}
   */
  alpn?: readonly string[];
}

/**
 * Starts TLS over a connected upstream socket and completes the handshake. The socket is
 * consumed: use the returned session instead.
 *
 * @param conn The connected TCP socket.
 * @param address The upstream's address, for its host name and for messages.
 * @param options What to verify and offer.
 * @param timeoutMs How long the handshake may take; the socket is closed after that.
 * @returns The session, handshake done.
 * @throws {ConnectionError} With reason `upstream_tls` and the TLS library's message when the
 * handshake fails or takes too long; the socket is closed.
 *
 * @example TLS to an upstream that does not speak it fails with `upstream_tls`
 * ```ts
 * import { ConnectionError, originateTls } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const accepting = listener.accept().then(async (conn) => {
 *   await conn.write(new TextEncoder().encode("SSH-2.0-not-tls\r\n"));
 *   return conn;
 * });
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * await assert.rejects(
 *   originateTls(conn, listener.addr, {}, 1_000),
 *   (error) => error instanceof ConnectionError && error.reason === "upstream_tls",
 * );
 * (await accepting).close();
 * ```
 */
export async function originateTls(
  conn: Deno.TcpConn,
  address: Address,
  options: UpstreamTlsOptions,
  timeoutMs: number,
): Promise<Deno.TlsConn> {
  const hostname = options.serverName ?? address.hostname;
  let session: Deno.TlsConn | undefined;
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    (session ?? conn).close();
  }, timeoutMs);
  try {
    session = await Deno.startTls(conn, {
      hostname,
      caCerts: options.caCerts ? [...options.caCerts] : undefined,
      alpnProtocols: options.alpn?.length ? [...options.alpn] : undefined,
    });
    await session.handshake();
    return session;
  } catch (error) {
    try {
      (session ?? conn).close();
    } catch {
      // Closed by the timer, or by the failure itself.
    }
    const why = late ? `no handshake within ${timeoutMs} ms` : messageOf(error);
    throw new ConnectionError(
      "upstream_tls",
      `TLS handshake with ${formatAddress(address)} as "${hostname}" failed: ${why}`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
}
