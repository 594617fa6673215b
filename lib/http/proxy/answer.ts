/**
 * From an upstream's answer to the client's response: the fields a hop must not pass on removed,
 * the body streamed as it comes, and a `101 Switching Protocols` turned into a byte pipe between
 * the client and the upstream.
 *
 * @module
 */

import type { ByteStream } from "../../byte_stream.ts";
import type { Connection } from "../../connection.ts";
import { pipe, PipeError } from "../../pipe.ts";
import { ConnectionError } from "../../report.ts";
import { messageOf } from "../../_util.ts";
import { writeAll } from "../h1/body_sink.ts";
import type { ResponseHead } from "../h1/head.ts";
import { upgradeResponse } from "../h1/upgrade.ts";
import type { Answer } from "./exchange.ts";
import type { UpstreamConn } from "./keepalive.ts";
import { ProxyError } from "./proxy_error.ts";
import { HOP_BY_HOP } from "./forwarded.ts";

const HOP = new Set(HOP_BY_HOP);

/**
 * The client's response for an answer.
 *
 * @param answer What the upstream answered.
 * @param upstream The connection it answered on.
 * @param upgrade Whether the request asked to switch protocols.
 * @param done Told once the exchange is over, and whether the connection can carry another.
 * @throws {ProxyError} 502 for a status a response cannot have, or a `101` nobody asked for.
 */
export function answerOf(
  answer: Answer,
  upstream: UpstreamConn,
  upgrade: boolean,
  done: (reusable: boolean) => void,
): Response {
  const { head, body } = answer;
  if (head.status === 101) {
    if (!upgrade) {
      done(false);
      throw new ProxyError(502, "The upstream switched protocols unasked");
    }
    return upgradeResponse(
      (client, preread, connection) =>
        splice(answer.raw!, client, preread, upstream, connection).finally(() => done(false)),
      () => done(false),
    );
  }
  if (head.status > 599) {
    done(false);
    throw new ProxyError(502, `The upstream answered with status ${head.status}`);
  }
  answer.reusable.then(done);
  const stream = body?.stream ?? null;
  let response: Response;
  try {
    response = new Response(stream, { status: head.status, statusText: head.reason });
  } catch {
    // A reason phrase the Fetch API refuses: the server writes the usual one.
    response = new Response(stream, { status: head.status });
  }
  copyHeaders(head, response.headers);
  return response;
}

/** Copies the answer's fields but hop-by-hop ones and those its `Connection` field names. */
function copyHeaders(head: ResponseHead, headers: Headers): void {
  const { names, values } = head;
  let listed: string[] | undefined;
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== "connection") continue;
    for (const name of values[i].toLowerCase().split(",")) (listed ??= []).push(name.trim());
  }
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (HOP.has(name) || listed?.includes(name)) continue;
    headers.append(name, values[i]);
  }
}

/**
 * Passes the `101` on, then copies bytes both ways until both directions end, passing each end
 * of stream on as a half-close; a failure on either side closes both.
 */
async function splice(
  raw: Uint8Array,
  client: ByteStream,
  preread: Uint8Array | undefined,
  upstream: UpstreamConn,
  connection: Connection,
): Promise<void> {
  const { conn, reader } = upstream;
  const fail = (from: "client" | "upstream") => (error: unknown) => {
    const to = from === "client" ? "upstream" : "client";
    const peer = error instanceof PipeError && error.side === "write" ? to : from;
    const message = `The ${peer} failed on an upgraded connection: ${messageOf(error)}`;
    connection.abort(new ConnectionError(`${peer}_reset`, message, { cause: error }));
    upstream.close();
  };
  const down = async () => {
    await writeAll(client, raw, connection.down);
    const early = reader.takeBuffered();
    if (early) await writeAll(client, early, connection.down);
    await pipe(conn, client, connection.down);
    await client.closeWrite();
  };
  const up = async () => {
    if (preread) await writeAll(conn, preread, connection.up);
    await pipe(client, conn, connection.up);
    await conn.closeWrite();
  };
  await Promise.all([down().catch(fail("upstream")), up().catch(fail("client"))]);
  upstream.close();
}
