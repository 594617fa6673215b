/**
 * Helpers for testing a layer on its own, as tower-test does: connections from any client
 * address without opening sockets, and a mock inner service that records what reaches it and
 * holds each connection until the test lets it go.
 */

import { Connection, type ConnectionReport, type Service } from "../mod.ts";

/**
 * A connection from `hostname` that has no socket behind it: for unit tests of layers that look
 * at the client's address, where a real socket cannot have thousands of distinct addresses.
 */
export function fakeConnection(hostname: string, id = 1, port = 40_000): Connection {
  const client = {
    remoteAddr: { transport: "tcp", hostname, port },
    localAddr: { transport: "tcp", hostname: "127.0.0.1", port: 8081 },
    close() {},
  } as unknown as Deno.TcpConn;
  return new Connection(id, client);
}

/** The address of the i-th of many distinct clients: 10.0.0.0, 10.0.0.1, ... */
export function manyClients(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
}

/** The inner service of a unit test: records every connection, and holds it until released. */
export interface MockService {
  service: Service<Connection, ConnectionReport>;
  /** Connections that reached the service, in order. */
  calls: Connection[];
  /** Connections that reached it and are still held. */
  readonly held: number;
  /** Lets the oldest held connection end with its own report; false if none is held. */
  release(): boolean;
}

/**
 * A mock inner service. With `hold`, each connection stays inside until `release()` (or until it
 * is aborted), so a test can fill a concurrency limit; without, each ends at once.
 */
export function mockService(options: { hold?: boolean } = {}): MockService {
  const calls: Connection[] = [];
  const waiting: (() => void)[] = [];
  return {
    calls,
    get held() {
      return waiting.length;
    },
    release() {
      const next = waiting.shift();
      next?.();
      return next !== undefined;
    },
    service: async (connection) => {
      calls.push(connection);
      if (options.hold) {
        const { promise, resolve } = Promise.withResolvers<void>();
        waiting.push(resolve);
        const aborted = () => {
          const index = waiting.indexOf(resolve);
          if (index >= 0) waiting.splice(index, 1);
          resolve();
        };
        connection.signal.addEventListener("abort", aborted, { once: true });
        await promise;
        connection.signal.removeEventListener("abort", aborted);
      }
      return connection.end();
    },
  };
}
