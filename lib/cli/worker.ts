/**
 * The entry point of each worker that `--workers N` starts: it configures its own logging, runs
 * the CLI's proxy on the shared port, and answers the supervisor's messages (see workers.ts).
 *
 * @module
 */

import { dispose, getLogger } from "@logtape/logtape";
import { messageOf } from "../_util.ts";
import { formatDuration } from "../duration.ts";
import { configureLogging, type LogLosses } from "./logging.ts";
import { type CliProxy, startProxy } from "./proxy.ts";
import type { FromWorker, ToWorker, WorkerStats } from "./workers.ts";

/** The worker's side of the channel: the global scope of a Web Worker. */
interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
const log = getLogger(["minginx", "worker"]);
let proxy: CliProxy | undefined;
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
          open: proxy.server.connections,
        });
      } else {
        log.info("Worker {worker}: no new connections; {open} open get {drain} to finish", {
          worker: index,
          open: proxy.server.connections,
          drain: formatDuration(message.ms),
        });
      }
      draining = true;
      proxy.server.shutdown(message.ms);
      return;
    case "stats":
      scope.postMessage({ type: "stats", ...stats() });
      return;
  }
};

function stats(): WorkerStats {
  return { index, ...(proxy?.counters() ?? { accepted: 0, open: 0, closedByShutdown: 0 }) };
}

async function start({ index: n, count, options }: ToWorker & { type: "start" }): Promise<void> {
  index = n;
  losses = await configureLogging(options.logLevel, options.logFormat);
  try {
    proxy = startProxy(options, {
      reusePort: true,
      connectionIds: { first: n, step: count },
      workers: count,
    });
  } catch (error) {
    await dispose();
    scope.postMessage({ type: "failed", message: messageOf(error) });
    return;
  }
  proxy.server.finished.then(finish);
  scope.postMessage({ type: "listening", address: proxy.server.address });
}

async function finish(): Promise<void> {
  log.info("Worker {worker} stopped after {accepted} connections", {
    worker: index,
    accepted: proxy?.server.accepted ?? 0,
  });
  await dispose();
  scope.postMessage({ type: "finished", losses, stats: stats() });
  scope.close();
}
