/**
 * TLS termination as a layer: the client's TLS session ends at the proxy, and the layers inside
 * (and the upstream) see plaintext.
 *
 * @module
 */

import tls from "node:tls";
import type { Connection } from "../connection.ts";
import { ConnectionError, type ConnectionReport } from "../report.ts";
import type { Layer } from "../service.ts";
import { checkMs, messageOf } from "../_util.ts";
import { deadline } from "../_deadline.ts";
import type { TlsCertificates } from "./certificates.ts";
import { connDuplex } from "./conn_duplex.ts";
import { ReadGate, SocketStream } from "./socket_stream.ts";

/**
 * Options for {@linkcode terminateTls}.
 *
 * @example One certificate, HTTP/2 or HTTP/1.1 offered
 * ```ts
 * import { readCertificateFiles, type TerminateTlsOptions, TlsCertificates } from "@minginx/minginx";
 *
 * const files = [{ cert: "tests/fixtures/a.test.crt", key: "tests/fixtures/a.test.key" }];
 * const options: TerminateTlsOptions = {
 *   certificates: new TlsCertificates(readCertificateFiles(files)),
 *   alpn: ["h2", "http/1.1"],
 *   timeout: 5_000,
 * };
 * ```
 */
export interface TerminateTlsOptions {
  /** The certificates, chosen per server name. */
  certificates: TlsCertificates;
  /**
   * The application protocols to agree on (ALPN), in order of preference; none if empty.
   *
   * @default {[]}
   */
  alpn?: readonly string[];
  /**
   * How long the client has to complete the handshake, in milliseconds.
   *
   * @default {10000}
   */
  timeout?: number;
}

/**
 * Creates the layer that terminates TLS. Put it after the layers that should act before any
 * cryptography (access rules, rate and connection limits), so a client they turn away costs no
 * handshake. Each connection's handshake runs with the certificate for the server name it asks
 * for; a failed handshake ends it with reason `tls_handshake` and the TLS library's message, and
 * a slow one with `handshake_timeout`. The server name is kept as `connection.serverName`.
 *
 * The certificates are read when the layer is made: a reload builds a new layer, and new
 * connections get the new certificates while open ones keep theirs.
 *
 * @param options The certificates, ALPN protocols and handshake timeout.
 * @returns The layer.
 * @throws {RangeError} If the handshake timeout is not whole milliseconds.
 *
 * @example Terminating TLS in front of a plain upstream
 * ```ts
 * import {
 *   forward,
 *   readCertificateFiles,
 *   serve,
 *   ServiceBuilder,
 *   terminateTls,
 *   TlsCertificates,
 * } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const files = [{ cert: "tests/fixtures/a.test.crt", key: "tests/fixtures/a.test.key" }];
 * const certificates = new TlsCertificates(readCertificateFiles(files));
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const service = new ServiceBuilder()
 *   .layer(terminateTls({ certificates }))
 *   .service(forward({ upstreams: [upstream.addr] }));
 * await using proxy = serve({ listen: "127.0.0.1:0", service });
 *
 * const tcp = await Deno.connect(proxy.address);
 * const caCerts = [Deno.readTextFileSync("tests/fixtures/ca.crt")];
 * using client = await Deno.startTls(tcp, { hostname: "a.test", caCerts });
 * await client.write(new TextEncoder().encode("hi"));
 * using accepted = await upstream.accept();
 * const received = new Uint8Array(2);
 * assert.equal(await accepted.read(received), 2); // plaintext
 * assert.equal(new TextDecoder().decode(received), "hi");
 * ```
 */
export function terminateTls(options: TerminateTlsOptions): Layer<Connection, ConnectionReport> {
  const { certificates } = options;
  const timeoutMs = checkMs(options.timeout ?? 10_000, "TLS handshake timeout");
  const ALPNProtocols = options.alpn?.length ? [...options.alpn] : undefined;
  const SNICallback = (
    name: string,
    done: (error: Error | null, context: tls.SecureContext) => void,
  ) => done(null, certificates.select(name));
  return (inner) =>
    async function terminateTls(connection: Connection): Promise<ConnectionReport> {
      const plain = connection.client;
      const gate = new ReadGate();
      const session = new tls.TLSSocket(connDuplex(plain, connection.preread, gate), {
        isServer: true,
        secureContext: certificates.select(undefined),
        SNICallback,
        ALPNProtocols,
      });
      connection.preread = undefined;
      connection.replaceClient(new SocketStream(session, plain, gate));
      try {
        const late = `No TLS handshake within ${timeoutMs} ms`;
        await deadline(connection, timeoutMs, late, secured(session));
      } catch (error) {
        // An abort meanwhile (the deadline, a shutdown) has given the reason already.
        const reason = `TLS handshake failed: ${messageOf(error)}`;
        return connection.end(new ConnectionError("tls_handshake", reason, { cause: error }));
      }
      connection.serverName = (session as { servername?: string | false }).servername || undefined;
      connection.alpn = session.alpnProtocol || undefined;
      return inner(connection);
    };
}

/**
 * Settles when the session's handshake does: resolves once secure, rejects on a TLS error or
 * when the socket closes first (the client left, or the connection was aborted, which closes it).
 */
function secured(session: tls.TLSSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      session.off("secure", onSecure).off("error", settle).off("close", onClose);
      if (error) reject(error);
      else resolve();
    };
    const onSecure = () => settle();
    const onClose = () => settle(new Error("the client closed the connection"));
    session.once("secure", onSecure).once("error", settle).once("close", onClose);
  });
}
