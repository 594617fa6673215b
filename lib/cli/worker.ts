/**
 * The entry point of each worker that `--workers N` starts: it configures its own logging, runs
 * the CLI's proxy on the shared port, and answers the supervisor's messages (see workers.ts).
 *
 * @module
 */

import type { Seeds } from "./discovery_seeds.ts";
import { dispose, getLogger } from "@logtape/logtape";
import { messageOf } from "../_util.ts";
import { formatDuration } from "../duration.ts";
import { configureLogging, type LogLosses, reopenAccessLog } from "./logging.ts";
import { reloadCertificates } from "./proxy.ts";
import { Runtime } from "./runtime.ts";
import { modules } from "./optional_modules.ts";
import type { Config } from "../config/config.ts";
import { configFromFlags } from "./config_file.ts";
import { metricsFor } from "./on_main_thread.ts";
import { AdminError } from "../admin/backend.ts";
import type { FromWorker, ToWorker, WorkerStats } from "./worker_protocol.ts";

/** The worker's side of the channel: the global scope of a Web Worker. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
const log = getLogger(["minginx", "worker"]);
/** What the worker runs: the flags' one server, or a config's servers. */
let proxy: Runtime | undefined;
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
          open: proxy.connections,
        });
      } else {
        log.info("Worker {worker}: no new connections; {open} open get {drain} to finish", {
          worker: index,
          open: proxy.connections,
          drain: formatDuration(message.ms),
        });
      }
      draining = true;
      proxy.shutdown(message.ms);
      return;
    case "reload":
      // In turn with other reloads; a config that brings TLS in loads its modules first.
      reloading = reloading.then(() => reload(message.config, message.seeds));
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
    case "observe":
      if (!proxy?.admin) return;
      scope.postMessage({
        type: "observed",
        id: message.id,
        index,
        metrics: modules("metrics").snapshotOf(proxy.admin.metrics.registry),
        status: proxy.admin.status(),
      });
      return;
    case "upstream":
      changeUpstream(message);
      return;
  }
};

function stats(): WorkerStats {
  if (!proxy) return { index, accepted: 0, open: 0, closedByShutdown: 0 };
  return {
    index,
    accepted: proxy.accepted,
    open: proxy.connections,
    closedByShutdown: proxy.closedByShutdown,
  };
}

function changeUpstream({ id, pool, address, action }: ToWorker & { type: "upstream" }): void {
  try {
    if (!proxy?.admin) throw new AdminError(503, "This worker is not running yet");
    const upstream = proxy.admin.setUpstream(pool, address, action);
    scope.postMessage({ type: "upstream-changed", id, index, upstream });
  } catch (error) {
    const status = error instanceof AdminError ? error.status : 500;
    scope.postMessage({
      type: "upstream-changed",
      id,
      index,
      error: { status, message: messageOf(error) },
    });
  }
}

async function start(message: ToWorker & { type: "start" }): Promise<void> {
  const { index: n, count, options, config, seeds } = message;
  index = n;
  losses = await configureLogging(options.logLevel, options.logFormat, options.accessLog);
  const sharing = { reusePort: true, connectionIds: { first: n, step: count }, workers: count };
  try {
    const settings = config ?? configFromFlags(options);
    proxy = await Runtime.start(settings, sharing, await metricsFor(options), seeds);
  } catch (error) {
    await dispose();
    scope.postMessage({ type: "failed", message: messageOf(error) });
    return;
  }
  proxy.finished.then(finish);
  scope.postMessage({ type: "listening", address: proxy.addresses[0] });
}

let reloading = Promise.resolve();

async function reload(config: Config, seeds?: Seeds): Promise<void> {
  try {
    if (!proxy) throw new Error("this worker runs no config");
    const changes = await proxy.reload(config, seeds);
    scope.postMessage({ type: "reloaded", index, changes });
  } catch (error) {
    scope.postMessage({ type: "reloaded", index, error: messageOf(error) });
  }
}

async function finish(): Promise<void> {
  log.info("Worker {worker} stopped after {accepted} connections", {
    worker: index,
    accepted: proxy?.accepted ?? 0,
  });
  await dispose();
  scope.postMessage({ type: "finished", losses, stats: stats() });
  scope.close();
}
