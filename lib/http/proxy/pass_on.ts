/**
 * Passing one request on: walk the route's candidates, reuse or open a connection to each, send,
 * and turn the answer into the client's response, or into the proxy's own 502 or 504.
 *
 * @module
 */

import { formatDuration } from "../../duration.ts";
import { formatAddress } from "../../address.ts";
import { type Balancer, connectUpstream } from "../../connect.ts";
import { messageOf } from "../../_util.ts";
import type { BodyLength } from "../h1/body_source.ts";
import { formatHead } from "../h1/write_head.ts";
import { contentLength } from "../h1/_bytes.ts";
import type { RequestInfo } from "../request_info.ts";
import { type Answer, exchange, StaleConnectionError } from "./exchange.ts";
import { type KeepAlivePool, UpstreamConn } from "./keepalive.ts";
import { ProxyError } from "./proxy_error.ts";
import { answerOf } from "./answer.ts";
import type { Sweeper, Timed } from "../../_sweeper.ts";

/** What every request of one proxy shares. */
export interface Passing {
  keepAlive: KeepAlivePool;
  tries: number;
  connectMs: number;
  responseMs: number;
  /** Fires the response timeout; none when it is 0, for no limit. */
  late: Sweeper | undefined;
  maxHeaderBytes: number;
}

/** Methods whose request may be sent twice (RFC 9110 9.2.2). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/**
 * Sends `request` to the first of the balancer's candidates that answers.
 *
 * @throws {ProxyError} 502 when none answered, 504 when one was too slow.
 */
export async function passOn(
  request: Request,
  target: string,
  balancer: Balancer,
  info: RequestInfo,
  upgrade: boolean,
  passing: Passing,
): Promise<Response> {
  const { method, body } = request;
  const length: BodyLength | null = body === null
    ? null
    : contentLength(request.headers.get("content-length")) ?? "chunked";
  const head = formatHead(
    `${method} ${target} HTTP/1.1`,
    request.headers,
    length,
    upgrade ? "upgrade" : undefined,
  );
  const retryable = body === null && IDEMPOTENT.has(method);
  const failures: string[] = [];
  let tries = 0;
  for (const address of balancer.pick(info.connection)) {
    if (tries++ >= passing.tries) break;
    let upstream = upgrade ? undefined : passing.keepAlive.take(address);
    let connectMs: number | undefined;
    for (;;) {
      if (upstream === undefined) {
        try {
          const connected = await connectUpstream([address], info.signal, {
            tries: 1,
            timeout: passing.connectMs,
            onFailure: balancer.onConnectFailure?.bind(balancer),
          });
          upstream = new UpstreamConn(connected.conn);
          connectMs = connected.connectMs;
        } catch (error) {
          if (info.signal.aborted) throw info.signal.reason;
          failures.push(messageOf(error));
          break;
        }
      }
      // What the pool counts and a drain may abort: this request, not the client's connection.
      const release = balancer.onConnect?.(address, {
        abort: (cause) => info.abort(cause),
        connectMs,
      });
      let answer: Answer;
      try {
        answer = await answered(upstream, info, passing, {
          head,
          method,
          body,
          length,
          maxHeaderBytes: passing.maxHeaderBytes,
        });
      } catch (error) {
        release?.();
        upstream.close();
        if (error instanceof StaleConnectionError && (body === null || error.beforeBody)) {
          upstream = undefined; // a kept-alive connection the upstream had closed: open another
          continue;
        }
        if (info.signal.aborted) throw info.signal.reason; // given up on: the reason tells why
        if (error instanceof ProxyError) throw error;
        const why = `The upstream ${formatAddress(address)} failed: ${messageOf(error)}`;
        if (!retryable) throw new ProxyError(502, why, { cause: error });
        failures.push(why);
        break;
      }
      const used = upstream;
      return answerOf(answer, used, upgrade, (reusable) => {
        release?.();
        if (reusable) passing.keepAlive.put(address, used);
        else used.close();
      });
    }
  }
  const why = failures.length ? `: ${failures.join("; ")}` : "";
  throw new ProxyError(502, `No upstream answered${why}`);
}

/** The exchange, cut short by the response timeout (504) or by the request's signal. */
async function answered(
  upstream: UpstreamConn,
  info: RequestInfo,
  passing: Passing,
  outgoing: Parameters<typeof exchange>[1],
): Promise<Answer> {
  let late = false;
  const cut = () => upstream.close();
  const timer: Timed = {
    expires: 0,
    fire: () => {
      late = true;
      cut();
    },
  };
  passing.late?.add(timer);
  const signal = info.signal;
  signal.addEventListener("abort", cut);
  try {
    return await exchange(upstream, outgoing);
  } catch (error) {
    if (!late) throw error;
    const why = `The upstream did not answer within ${formatDuration(passing.responseMs)}`;
    throw new ProxyError(504, why, { cause: error });
  } finally {
    passing.late?.delete(timer);
    signal.removeEventListener("abort", cut);
  }
}
