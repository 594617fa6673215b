/**
 * The idle workload, memory per proxied connection: open many connections through a proxy to an
 * upstream that holds them, pass one small message each way on each so that every one is fully
 * proxied, then compare the proxy's resident memory with what it was before.
 *
 * @module
 */

import { HOST, readExactly, writeAll } from "./net.ts";
import { sampleTree } from "./proc.ts";
import { startProxy, type Target } from "./proxies.ts";
import { HELLO, type HoldingUpstream } from "./upstreams.ts";

/** How the idle-memory workload runs. */
export interface IdleOptions {
  /** The upstream that holds connections. */
  upstream: HoldingUpstream;
  /** How many connections to hold open at once. */
  connections: number;
  /** The CPUs the proxy is pinned to. */
  proxyCpus: string;
  /** How long to wait before each memory reading, in milliseconds. */
  settleMs: number;
  /** Which round of the benchmark this is, counted from 1; copied into the result. */
  round: number;
}

/** What the idle-memory workload measured for one proxy. */
export interface IdleResult {
  /** Which proxy. */
  target: Target;
  /** The round, counted from 1. */
  round: number;
  /** Connections held open when memory was read. */
  connections: number;
  /** The proxy's resident memory before opening them, in KiB. */
  rssBeforeKiB: number;
  /** The proxy's resident memory with all of them open, in KiB. */
  rssAfterKiB: number;
  /** (after - before) / connections, in KiB. */
  kibPerConnection: number;
}

const WARMUP_CONNECTIONS = 100;
const CONCURRENCY = 50;

/**
 * Starts a proxy in front of the holding upstream, opens and closes a few connections to warm it
 * up, reads its memory, opens `connections` more and reads its memory again, then closes
 * everything and stops it.
 *
 * @param target Which proxy; not `direct`.
 * @param options The upstream, the number of connections, CPUs, settle time.
 * @param progress Receives a line for each step.
 * @returns The figures.
 */
export async function measureIdleMemory(
  target: Target,
  options: IdleOptions,
  progress: (line: string) => void,
): Promise<IdleResult> {
  const { upstream, connections } = options;
  const proxy = await startProxy(target, {
    upstreamPort: upstream.port,
    cpus: options.proxyCpus,
    maxSockets: connections * 2 + 2 * WARMUP_CONNECTIONS + 100,
  });
  const clients: Deno.TcpConn[] = [];
  try {
    const pid = proxy.pid;
    if (pid === undefined) throw new Error("The idle-memory workload needs a proxy process");
    const warmupCount = Math.min(WARMUP_CONNECTIONS, connections);
    progress(`${target}: warming up with ${warmupCount} connections, opened and closed`);
    const warmup = await openProxied(proxy.port, warmupCount);
    closeAll(warmup);
    upstream.closeAll();
    await sleep(options.settleMs);
    const before = (await sampleTree(pid)).rssKiB;

    progress(`${target}: opening ${connections} connections`);
    const started = performance.now();
    clients.push(...await openProxied(proxy.port, connections));
    const openMs = performance.now() - started;
    await sleep(options.settleMs);
    const after = (await sampleTree(pid)).rssKiB;
    const result: IdleResult = {
      target,
      round: options.round,
      connections,
      rssBeforeKiB: before,
      rssAfterKiB: after,
      kibPerConnection: (after - before) / connections,
    };
    progress(
      `${target}: opened in ${Math.round(openMs)} ms; RSS ${before} KiB -> ${after} KiB, ` +
        `${result.kibPerConnection.toFixed(1)} KiB per connection`,
    );
    return result;
  } finally {
    closeAll(clients);
    upstream.closeAll();
    await proxy.stop();
  }
}

// Opens `count` connections, CONCURRENCY at a time, each with a round trip of HELLO through the
// proxy: the upstream reads it and writes it back, so both directions have carried data.
async function openProxied(port: number, count: number): Promise<Deno.TcpConn[]> {
  const opened: Deno.TcpConn[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const conn = await Deno.connect({ hostname: HOST, port });
      opened.push(conn);
      await writeAll(conn, HELLO);
      await readExactly(conn, HELLO.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, count) }, worker));
  } catch (error) {
    closeAll(opened);
    throw new Error(`Cannot open ${count} proxied connections (${opened.length} opened)`, {
      cause: error,
    });
  }
  return opened;
}

function closeAll(conns: Deno.TcpConn[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
  conns.length = 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
