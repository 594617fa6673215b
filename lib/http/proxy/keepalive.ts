/**
 * Keeping upstream connections alive between requests: idle connections per upstream, most
 * recently used first, each with a read in flight that notices the upstream closing it.
 *
 * @module
 */

import { type Address, formatAddress } from "../../address.ts";
import { checkMs, checkWhole } from "../../_util.ts";
import { closeQuietly } from "../../byte_stream.ts";
import { Upstream } from "../../pool/upstream.ts";
import { HttpReader } from "../h1/reader.ts";

/**
 * Options for the keep-alive pool of an HTTP proxy.
 *
 * @example Up to 64 idle connections per upstream, for 30 s
 * ```ts
 * import type { KeepAliveOptions } from "@minginx/minginx/http";
 *
 * const options: KeepAliveOptions = { maxIdle: 64, idleTimeout: 30_000 };
 * ```
 */
export interface KeepAliveOptions {
  /** The most idle connections kept per upstream; 0 closes each after its request. @default {32} */
  maxIdle?: number;
  /** Milliseconds an idle connection is kept. @default {60000} */
  idleTimeout?: number;
}

/** A connection to an upstream, and the reader that holds what it sent. */
export class UpstreamConn {
  /** The socket. */
  readonly conn: Deno.TcpConn;
  /** Reads responses from it. */
  readonly reader: HttpReader;
  /** Set once closed, or once the upstream closed or wrote while it was idle. */
  closed = false;
  /** When it went idle, from `performance.now()`; 0 while in use. */
  idleSince = 0;
  /** How many times it went idle. */
  rounds = 0;

  /** @param conn The connected socket. */
  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.reader = new HttpReader(conn);
  }

  /** Whether it came from the idle pool, rather than a connect for this request. */
  get reused(): boolean {
    return this.rounds > 0;
  }

  /** Closes it, once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeQuietly(this.conn);
  }
}

/** Idle upstream connections, by upstream. */
export class KeepAlivePool {
  readonly #maxIdle: number;
  readonly #idleMs: number;
  readonly #idle = new Map<string, UpstreamConn[]>();
  #sweeper: ReturnType<typeof setInterval> | undefined;

  /**
   * @param options How many to keep, and for how long.
   * @throws {RangeError} If `maxIdle` is not a whole number or `idleTimeout` not whole
   * milliseconds.
   */
  constructor(options: KeepAliveOptions = {}) {
    this.#maxIdle = checkWhole(options.maxIdle ?? 32, "keep-alive max idle", 0);
    this.#idleMs = checkMs(options.idleTimeout ?? 60_000, "keep-alive idle timeout");
  }

  /** An idle connection to `address` that is still open, the most recently used; or none. */
  take(address: Address): UpstreamConn | undefined {
    const idle = this.#idle.get(key(address));
    while (idle?.length) {
      const upstream = idle.pop()!;
      if (upstream.closed) continue;
      upstream.idleSince = 0;
      return upstream;
    }
    return undefined;
  }

  /**
   * Keeps a connection whose exchange ended cleanly, or closes it when the pool is full. While
   * idle, a read in flight closes it as soon as the upstream closes it or sends anything.
   */
  put(address: Address, upstream: UpstreamConn): void {
    if (upstream.closed) return;
    const name = key(address);
    const idle = this.#idle.get(name) ?? [];
    if (idle.length >= this.#maxIdle || upstream.reader.buffered > 0) return upstream.close();
    this.#idle.set(name, idle);
    upstream.idleSince = performance.now();
    idle.push(upstream);
    const round = ++upstream.rounds;
    const woke = () => {
      // Still idle in the same round: the upstream closed the connection, or spoke out of turn.
      if (upstream.idleSince !== 0 && upstream.rounds === round) upstream.close();
    };
    upstream.reader.prefetch().then(woke, woke);
    this.#sweeper ??= this.#startSweeper();
  }

  /** Closes every idle connection; later ones are closed as they come back. */
  close(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const idle of this.#idle.values()) for (const upstream of idle) upstream.close();
    this.#idle.clear();
  }

  #startSweeper(): ReturnType<typeof setInterval> {
    const timer = setInterval(() => {
      const oldest = performance.now() - this.#idleMs;
      for (const [name, idle] of this.#idle) {
        for (const upstream of idle) if (upstream.idleSince < oldest) upstream.close();
        const open = idle.filter((upstream) => !upstream.closed);
        if (open.length > 0) this.#idle.set(name, open);
        else this.#idle.delete(name);
      }
      if (this.#idle.size === 0) {
        clearInterval(this.#sweeper);
        this.#sweeper = undefined;
      }
    }, Math.min(1_000, Math.max(10, this.#idleMs / 2)));
    Deno.unrefTimer(timer);
    return timer;
  }
}

/** A pool's upstreams carry their name; other addresses are formatted. */
function key(address: Address): string {
  return address instanceof Upstream ? address.name : formatAddress(address);
}
