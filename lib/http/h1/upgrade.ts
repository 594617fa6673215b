/**
 * Handing a connection over: a service that switched protocols (a proxied WebSocket, or any
 * other `Upgrade`) returns a stand-in response that carries what to do with the client's bytes
 * from then on, and the HTTP/1.1 server gives it the connection instead of writing a response.
 *
 * @module
 */

import type { ByteStream } from "../../byte_stream.ts";
import type { Connection } from "../../connection.ts";

/**
 * Takes over a client connection after an upgrade: it writes the `101` head itself, then moves
 * bytes both ways. It resolves once both directions have ended.
 *
 * @param client The client's stream.
 * @param preread Bytes the client already sent after the request's head.
 * @param connection The client's connection, whose meters and signal it may use.
 *
 * @example A handler that answers 101 and then says one line
 * ```ts
 * import type { UpgradeHandler } from "@minginx/minginx/http";
 *
 * const hello: UpgradeHandler = async (client) => {
 *   const bytes = new TextEncoder().encode(
 *     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: hello\r\nConnection: upgrade\r\n\r\nhi\n",
 *   );
 *   for (let n = 0; n < bytes.length;) n += await client.write(bytes.subarray(n));
 *   await client.closeWrite();
 * };
 * ```
 */
export type UpgradeHandler = (
  client: ByteStream,
  preread: Uint8Array | undefined,
  connection: Connection,
) => Promise<void>;

const handlers = new WeakMap<Response, { handler: UpgradeHandler; decline?: () => void }>();

/**
 * A stand-in response that hands the connection to `handler`. Only minginx's HTTP/1.1 server
 * knows it; `Deno.serve` (through {@linkcode toHandler}) answers it with 501. When it is not
 * used (that 501, or a layer outside that answered instead), `decline` runs, to let go of what
 * the handler would have used, such as the upstream connection of a proxied upgrade.
 *
 * @param handler Takes the connection over.
 * @param decline Called instead of `handler` when nothing will call that.
 * @returns The stand-in response.
 *
 * @example Switch to a protocol that says one line
 * ```ts
 * import { serve } from "@minginx/minginx";
 * import { httpServer, serviceFn, upgradeResponse } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * const service = serviceFn(() =>
 *   upgradeResponse(async (client) => {
 *     const head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: hello\r\nConnection: upgrade\r\n\r\n";
 *     await client.write(new TextEncoder().encode(head));
 *     await client.closeWrite();
 *   })
 * );
 * await using server = serve({ listen: "127.0.0.1:0", service: httpServer(service) });
 * using conn = await Deno.connect(server.address);
 * const ask = "GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: hello\r\n\r\n";
 * await conn.write(new TextEncoder().encode(ask));
 * const buffer = new Uint8Array(1024);
 * const n = await conn.read(buffer);
 * assert.match(new TextDecoder().decode(buffer.subarray(0, n!)), /^HTTP\/1\.1 101 /);
 * ```
 */
export function upgradeResponse(handler: UpgradeHandler, decline?: () => void): Response {
  const response = new Response(null, { status: 200 });
  handlers.set(response, { handler, decline });
  return response;
}

/** The handler a stand-in response carries, if it is one. */
export function upgradeOf(response: Response): UpgradeHandler | undefined {
  return handlers.get(response)?.handler;
}

/**
 * Lets go of a response that will not be sent (a late one, or one another replaced): cancels its
 * body, or declines the upgrade it stands in for.
 *
 * @param response The response.
 */
export function discardResponse(response: Response): void {
  const upgrade = handlers.get(response);
  if (upgrade) {
    handlers.delete(response);
    upgrade.decline?.();
  }
  response.body?.cancel().catch(() => {}); // nobody will read it
}

/** Whether a request asks to switch protocols: `Connection: upgrade` and an `Upgrade` field. */
export function wantsUpgrade(request: Request): boolean {
  const upgrade = request.headers.get("upgrade");
  if (upgrade === null) return false;
  const connection = request.headers.get("connection");
  return connection !== null && /(?:^|,)\s*upgrade\s*(?:,|$)/i.test(connection);
}
