/**
 * The entry point of each worker that `--workers N` starts: it configures its own logging, runs
 * the CLI's proxy on the shared port, and answers the supervisor's messages (see workers.ts).
 *
 * @module
 */

import { dispose, getLogger } from "@logtape/logtape";
import { messageOf } from "../_util.ts";
import { formatDuration } from "../duration.ts";
import { configureLogging, type LogLosses, reopenAccessLog } from "./logging.ts";
import { type CliProxy, type ProxyCounters, reloadCertificates, startProxy } from "./proxy.ts";
import { type ReloadChanges, Runtime } from "./runtime.ts";
import type { Config } from "../config/config.ts";
import type { Address } from "../address.ts";
import type { FromWorker, ToWorker, WorkerStats } from "./worker_protocol.ts";

/** The worker's side of the channel: the global scope of a Web Worker. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
const log = getLogger(["minginx", "worker"]);
/** What a worker runs: the flags' one server, or a config's servers. */
interface WorkerProxy {
  readonly address: Address;
  readonly finished: Promise<void>;
  readonly open: number;
  shutdown(ms: number): void;
  counters(): ProxyCounters;
  reload?(config: Config): ReloadChanges;
  reloadCertificates?(): void;
}

let proxy: WorkerProxy | undefined;
let draining = false;
let losses: LogLosses = { dropped: 0, failed: 0 };
let index = 0;
let started: Promise<void> | undefined;

scope.onmessage = async ({ data: message }) => {
  if (message.type === "start") {
    started ??= start(message);
    return;
  }
  await started; // a message sent right after start waits until the proxy listens
  switch (message.type) {
    case "drain":
      if (!proxy) return;
      if (draining || message.ms === 0) {
        log.info("Worker {worker}: closing {open} open connections at once", {
          worker: index,
          open: proxy.open,
        });
      } else {
        log.info("Worker {worker}: no new connections; {open} open get {drain} to finish", {
          worker: index,
          open: proxy.open,
          drain: formatDuration(message.ms),
        });
      }
      draining = true;
      proxy.shutdown(message.ms);
      return;
    case "reload":
      reload(message.config);
      return;
    case "reopen-log":
      reopenAccessLog().catch((error) =>
        log.error("Worker {worker}: cannot reopen the access log: {error}", {
          worker: index,
          error: messageOf(error),
        })
      );
      return;
    case "reload-tls":
      reloadCertificates(proxy?.reloadCertificates, `Worker ${index}: `);
      return;
    case "stats":
      scope.postMessage({ type: "stats", ...stats() });
      return;
  }
};

function stats(): WorkerStats {
  return { index, ...(proxy?.counters() ?? { accepted: 0, open: 0, closedByShutdown: 0 }) };
}

async function start(message: ToWorker & { type: "start" }): Promise<void> {
  const { index: n, count, options, config } = message;
  index = n;
  losses = await configureLogging(options.logLevel, options.logFormat, options.accessLog);
  const sharing = { reusePort: true, connectionIds: { first: n, step: count }, workers: count };
  try {
    proxy = config
      ? fromRuntime(Runtime.start(config, sharing))
      : fromCli(startProxy(options, sharing));
  } catch (error) {
    await dispose();
    scope.postMessage({ type: "failed", message: messageOf(error) });
    return;
  }
  proxy.finished.then(finish);
  scope.postMessage({ type: "listening", address: proxy.address });
}

function fromCli({ server, counters, reloadCertificates }: CliProxy): WorkerProxy {
  return {
    reloadCertificates,
    address: server.address,
    finished: server.finished,
    get open() {
      return server.connections;
    },
    shutdown: (ms) => void server.shutdown(ms),
    counters,
  };
}

function fromRuntime(runtime: Runtime): WorkerProxy {
  return {
    address: runtime.addresses[0],
    finished: runtime.finished,
    get open() {
      return runtime.connections;
    },
    shutdown: (ms) => void runtime.shutdown(ms),
    counters: () => ({
      accepted: runtime.accepted,
      open: runtime.connections,
      closedByShutdown: runtime.closedByShutdown,
    }),
    reload: (config) => runtime.reload(config),
  };
}

function reload(config: Config): void {
  try {
    if (!proxy?.reload) throw new Error("this worker runs no config");
    const changes = proxy.reload(config);
    scope.postMessage({ type: "reloaded", index, changes });
  } catch (error) {
    scope.postMessage({ type: "reloaded", index, error: messageOf(error) });
  }
}

async function finish(): Promise<void> {
  log.info("Worker {worker} stopped after {accepted} connections", {
    worker: index,
    accepted: proxy?.counters().accepted ?? 0,
  });
  await dispose();
  scope.postMessage({ type: "finished", losses, stats: stats() });
  scope.close();
}
