/**
 * What a server knows about a request that the `Request` itself does not carry: who sent it, over
 * what, since when, and how to give up on it. Servers attach it; layers read it.
 *
 * @module
 */

import type { Address } from "../address.ts";
import type { Connection } from "../connection.ts";
import { clientKey } from "../ip.ts";

/**
 * What a server passes to {@linkcode RequestInfo}'s constructor.
 *
 * @example A request from a loopback client
 * ```ts
 * import type { RequestInfoInit } from "@minginx/minginx/http";
 *
 * const init: RequestInfoInit = { client: { hostname: "127.0.0.1", port: 50000 }, secure: false };
 * ```
 */
export interface RequestInfoInit {
  /** The client's address: the socket's peer, or what a trusted PROXY header carried. */
  client: Address;
  /** Whether the request came over TLS. @default {false} */
  secure?: boolean;
  /** The TCP connection it came on, when minginx's own HTTP/1.1 server accepted it. */
  connection?: Connection;
  /**
   * Aborted when the client goes away, such as `Request.signal` of `Deno.serve`; a server that
   * knows when instead calls {@linkcode RequestInfo.prototype.abort}.
   */
  signal?: AbortSignal;
}

/**
 * Told once the response has been sent, or has failed: bytes of body sent, why it failed, and
 * the response the server sent (which a layer outside may have put in place of another).
 */
export type SentListener = (bytes: number, error?: unknown, response?: Response) => void;

/**
 * The server's side of one request. {@linkcode RequestInfo.prototype.signal} is what the inner
 * services watch: it aborts when the client goes away or when a layer gives up on the request
 * with {@linkcode RequestInfo.prototype.abort}, so an upstream request in flight is cancelled.
 *
 * @example Who sent a request
 * ```ts
 * import { RequestInfo, requestInfo } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * const request = new Request("http://example.com/");
 * RequestInfo.attach(request, new RequestInfo({ client: { hostname: "::ffff:10.0.0.1", port: 1 } }));
 * assert.equal(requestInfo(request).clientKey, "10.0.0.1");
 * ```
 */
export class RequestInfo {
  /** The client's address. */
  readonly client: Address;
  /** Whether the request came over TLS. */
  readonly secure: boolean;
  /** The TCP connection it came on, with minginx's own HTTP/1.1 server. */
  readonly connection: Connection | undefined;
  /** When the server had read the request's head, from `performance.now()`. */
  readonly startedAt: number = performance.now();
  /**
   * Why a layer or the proxy answered the request itself (a 403, 404, 429, 502 or 504), when one
   * did: what a logger gives as the line's `error`.
   */
  refusal: Error | undefined;
  #outer: AbortSignal | undefined;
  #controller: AbortController | undefined;
  #clientKey: string | undefined;
  #sent: SentListener[] | undefined;

  /**
   * @param init What the server knows.
   */
  constructor(init: RequestInfoInit) {
    this.client = init.client;
    this.secure = init.secure ?? false;
    this.connection = init.connection;
    this.#outer = init.signal;
  }

  /** Attaches the info to a request, for every layer after; replaces any attached before. */
  static attach(request: Request, info: RequestInfo): void {
    infos.set(request, info);
  }

  /** The client's address as layers count clients ({@linkcode clientKey}), worked out once. */
  get clientKey(): string {
    return this.#clientKey ??= clientKey(this.client.hostname);
  }

  /** Aborts when the client goes away or a layer gives up on the request; `reason` says why. */
  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = this.#controller = new AbortController();
    const outer = this.#outer;
    if (outer?.aborted) controller.abort(outer.reason);
    else outer?.addEventListener("abort", () => controller.abort(outer.reason), { once: true });
    return controller.signal;
  }

  /**
   * Why the request was given up on (the reason of {@linkcode RequestInfo.prototype.signal}),
   * or undefined while it was not; reading it makes no signal.
   */
  get abortReason(): unknown {
    const signal = this.#controller?.signal ?? this.#outer;
    return signal?.aborted ? signal.reason : undefined;
  }

  /**
   * Gives up on the request: aborts {@linkcode RequestInfo.prototype.signal} with `reason`,
   * unless it has aborted already.
   *
   * @param reason Why, such as the timeout layer's error.
   */
  abort(reason: unknown): void {
    const signal = this.signal;
    if (!signal.aborted) this.#controller!.abort(reason);
  }

  /**
   * Asks to be told once the response has been sent (or has failed), with the bytes of body
   * sent: what a logger logs. The server calls the listeners in the order added.
   *
   * @param listener Called once.
   */
  onSent(listener: SentListener): void {
    (this.#sent ??= []).push(listener);
  }

  /** Whether any listener waits for {@linkcode RequestInfo.prototype.sent}. */
  get watched(): boolean {
    return this.#sent !== undefined;
  }

  /**
   * Called by the server once the response has been sent, or has failed; calls each listener
   * once. Later calls do nothing.
   *
   * @param bytes Bytes of body sent.
   * @param error Why sending failed, if it did.
   * @param response The response sent, if one was.
   */
  sent(bytes: number, error?: unknown, response?: Response): void {
    const listeners = this.#sent;
    if (!listeners) return;
    this.#sent = [];
    for (const listener of listeners) listener(bytes, error, response);
  }
}

const infos = new WeakMap<Request, RequestInfo>();
const UNKNOWN: Address = Object.freeze({ hostname: "", port: 0 });

/**
 * The info a server attached to a request. A request no server attached info to (one a test
 * built, or one a layer made anew) gets info with an unknown client (`""`) and the request's own
 * signal, attached on first use.
 *
 * @param request The request.
 * @returns Its info.
 *
 * @example A request built by hand has an unknown client
 * ```ts
 * import { requestInfo } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * const info = requestInfo(new Request("http://example.com/"));
 * assert.equal(info.client.hostname, "");
 * assert.equal(info.signal.aborted, false);
 * ```
 */
export function requestInfo(request: Request): RequestInfo {
  let info = infos.get(request);
  if (info === undefined) {
    info = new RequestInfo({ client: UNKNOWN, signal: request.signal });
    infos.set(request, info);
  }
  return info;
}
