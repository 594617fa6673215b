/**
 * Several cores: `--workers N` runs N Web Workers in this process, each with its own listener on
 * the same port (SO_REUSEPORT, so the kernel spreads connections over them) and its own event
 * loop. The main thread only supervises, over one message channel per worker:
 *
 * - it starts worker 1, then the others on the port worker 1 bound (so port 0 works);
 * - a signal becomes a `drain` message to every worker, with the same drain time for each; a
 *   config reload will be one more message sent the same way;
 * - `stats` asks every worker for its counters, which add up to the process's figures; a worker
 *   that has finished sent its last counters with `finished`;
 * - a worker that crashes is logged and started again, unless the process is stopping.
 *
 * @module
 */

import type { Seeds } from "./discovery_seeds.ts";
import { getLogger } from "@logtape/logtape";
import { messageOf } from "../_util.ts";
import type { Address } from "../address.ts";
import type { UpstreamAction } from "../admin/backend.ts";
import type { UpstreamStatus } from "../admin/status_types.ts";
import type { Observation, Proxies } from "./proxies.ts";
import type { CliOptions } from "./args.ts";
import type { LogLosses } from "./logging.ts";
import type { ReloadChanges } from "./runtime.ts";
import type { Config } from "../config/config.ts";
import type { FromWorker, ToWorker, WorkerStats } from "./worker_protocol.ts";
import { gather, WorkerRequests } from "./worker_requests.ts";

const START_TIMEOUT_MS = 10_000;
const STATS_TIMEOUT_MS = 1_000;
const RESPAWN_DELAY_MS = 1_000;
const log = getLogger(["minginx", "workers"]);

/** N workers sharing one port. Create it with {@linkcode WorkerGroup.start}. */
export class WorkerGroup implements Proxies {
  readonly address: Address;
  /** Log lines the workers lost, added up as they finish. */
  readonly losses: LogLosses = { dropped: 0, failed: 0 };
  readonly #options: CliOptions;
  #config: Config | undefined;
  readonly #workers: (Worker | undefined)[];
  readonly #reloadWaiters = new Set<(reply: FromWorker & { type: "reloaded" }) => void>();
  readonly #finished = Promise.withResolvers<void>();
  #running: number;
  #drainMs: number | undefined;
  readonly #statsWaiters = new Set<(stats: WorkerStats) => void>();
  /** The last counters of each worker that has finished, by index. */
  readonly #final = new Map<number, WorkerStats>();
  readonly #requests = new WorkerRequests();

  private constructor(
    options: CliOptions,
    config: Config | undefined,
    address: Address,
    workers: Worker[],
  ) {
    this.#options = options;
    this.#config = config;
    this.address = address;
    this.#workers = workers;
    this.#running = workers.length;
    workers.forEach((worker, i) => this.#supervise(worker, i + 1));
  }

  /**
   * Starts `options.workers` workers and waits until every one listens.
   *
   * @param options The parsed flags.
   * @param config The config file's servers, which then replace the flags' one server; its
   * listen addresses must name their ports (not 0), which every worker binds.
   * @returns The group.
   * @throws {Error} If a worker cannot listen; the workers already started are stopped.
   */
  static async start(options: CliOptions, config?: Config, seeds?: Seeds): Promise<WorkerGroup> {
    const count = options.workers;
    const workers: Worker[] = [];
    try {
      workers.push(spawn());
      const first = { type: "start", index: 1, count, options, config, seeds } as const;
      const address = await listening(workers[0], first);
      for (let index = 2; index <= count; index++) workers.push(spawn());
      const shared = { ...options, listen: address };
      await Promise.all(
        workers.slice(1).map((worker, i) =>
          listening(worker, { type: "start", index: i + 2, count, options: shared, config, seeds })
        ),
      );
      return new WorkerGroup(shared, config, address, workers);
    } catch (error) {
      for (const worker of workers) worker.terminate();
      throw error;
    }
  }

  get finished(): Promise<void> {
    return this.#finished.promise;
  }

  shutdown(ms: number): void {
    this.#drainMs = ms;
    for (const worker of this.#workers) worker?.postMessage({ type: "drain", ms });
  }

  /**
   * Applies a config in every worker: worker 1 first, and the others only if it succeeded.
   *
   * @param config The new config, already checked.
   * @returns What changed, as worker 1 saw it.
   * @throws {Error} If worker 1 refused it (the old config keeps running everywhere), or another
   * worker did (the message names it).
   */
  async reload(config: Config, seeds?: Seeds): Promise<ReloadChanges> {
    const live = this.#workers.filter((worker) => worker !== undefined);
    const [first, ...rest] = live;
    const changes = await this.#reloadOne(first, config, seeds);
    const failures = (await Promise.allSettled(rest.map((w) => this.#reloadOne(w, config, seeds))))
      .flatMap((result) => result.status === "rejected" ? [messageOf(result.reason)] : []);
    this.#config = config;
    if (failures.length > 0) throw new Error(failures.join("; "));
    return changes;
  }

  #reloadOne(worker: Worker, config: Config, seeds?: Seeds): Promise<ReloadChanges> {
    const index = this.#workers.indexOf(worker) + 1;
    const { promise, resolve, reject } = Promise.withResolvers<ReloadChanges>();
    const waiter = (reply: FromWorker & { type: "reloaded" }) => {
      if (reply.index !== index) return;
      this.#reloadWaiters.delete(waiter);
      if (reply.error === undefined) resolve(reply.changes!);
      else reject(new Error(`Worker ${index}: ${reply.error}`));
    };
    this.#reloadWaiters.add(waiter);
    worker.postMessage({ type: "reload", config, seeds });
    return promise;
  }

  /** Each worker's metrics and status, for the admin API; workers that do not answer in time are left out. */
  observe(): Promise<Observation> {
    return this.#requests.observe(this.#live());
  }

  /** Drains or enables an upstream in every worker, for the admin API. */
  setUpstream(pool: string, address: string, action: UpstreamAction): Promise<UpstreamStatus> {
    return this.#requests.setUpstream(this.#live(), { pool, address, action });
  }

  #live(): Worker[] {
    return this.#workers.filter((worker) => worker !== undefined);
  }

  /** Has each worker open the `--access-log` file again; each logs how that went. */
  reopenAccessLog(): void {
    for (const worker of this.#workers) worker?.postMessage({ type: "reopen-log" });
  }

  /** Has each worker read the `--tls-cert` files again; each logs how that went. */
  reloadCertificates(): void {
    for (const worker of this.#workers) worker?.postMessage({ type: "reload-tls" });
  }

  async stats(): Promise<WorkerStats[]> {
    const live = this.#live();
    // A worker that finishes before it answers sends its last counters with "finished" instead.
    const replies = await gather<WorkerStats>(
      live.length,
      STATS_TIMEOUT_MS,
      "report their counters",
      (add) => {
        this.#statsWaiters.add(add);
        for (const worker of live) worker.postMessage({ type: "stats" });
        return () => this.#statsWaiters.delete(add);
      },
    );
    for (const [index, stats] of this.#final) if (!replies.has(index)) replies.set(index, stats);
    return [...replies.values()].sort((a, b) => a.index - b.index);
  }

  #supervise(worker: Worker, index: number): void {
    worker.onmessage = ({ data }: MessageEvent<FromWorker>) => {
      this.#requests.answered(data);
      // "listening" and "failed" only answer "start", which listening() handles.
      if (data.type === "stats") { for (const waiter of this.#statsWaiters) waiter(data); }
      if (data.type === "reloaded") { for (const waiter of this.#reloadWaiters) waiter(data); }
      if (data.type !== "finished") return;
      this.#final.set(index, data.stats);
      for (const waiter of this.#statsWaiters) waiter(data.stats);
      this.losses.dropped += data.losses.dropped;
      this.losses.failed += data.losses.failed;
      this.#exited(worker, index);
    };
    worker.onerror = (event) => {
      event.preventDefault(); // a worker's crash must not take the process with it
      log.error("Worker {index} crashed: {error}", { index, error: event.message });
      this.#exited(worker, index);
      if (this.#drainMs === undefined) setTimeout(() => this.#respawn(index), RESPAWN_DELAY_MS);
    };
  }

  #exited(worker: Worker, index: number): void {
    worker.terminate();
    if (this.#workers[index - 1] !== worker) return;
    this.#workers[index - 1] = undefined;
    if (--this.#running === 0 && this.#drainMs !== undefined) this.#finished.resolve();
  }

  async #respawn(index: number): Promise<void> {
    if (this.#drainMs !== undefined) return;
    const worker = spawn();
    this.#workers[index - 1] = worker;
    this.#running++;
    const count = this.#workers.length;
    try {
      const config = this.#config;
      await listening(worker, { type: "start", index, count, options: this.#options, config });
      log.info("Worker {index} started again", { index });
      this.#supervise(worker, index);
      if (this.#drainMs !== undefined) worker.postMessage({ type: "drain", ms: this.#drainMs });
    } catch (error) {
      log.error("Worker {index} cannot start again: {error}", { index, error: String(error) });
      this.#exited(worker, index);
      setTimeout(() => this.#respawn(index), RESPAWN_DELAY_MS);
    }
  }
}

function spawn(): Worker {
  return new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
}

/** Sends `start` and waits for the worker to listen; rejects with its error otherwise. */
function listening(worker: Worker, start: ToWorker): Promise<Address> {
  const { promise, resolve, reject } = Promise.withResolvers<Address>();
  const timer = setTimeout(
    () => reject(new Error(`A worker did not start listening within ${START_TIMEOUT_MS} ms`)),
    START_TIMEOUT_MS,
  );
  worker.onmessage = ({ data }: MessageEvent<FromWorker>) => {
    if (data.type === "listening") resolve(data.address);
    if (data.type === "failed") reject(new Error(data.message));
  };
  worker.onerror = (event) => {
    event.preventDefault();
    reject(new Error(`A worker failed to start: ${event.message}`));
  };
  worker.postMessage(start);
  return promise.finally(() => clearTimeout(timer));
}
