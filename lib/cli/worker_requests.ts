/**
 * Questions the main thread asks every worker at once, for the admin API: each carries an id, and
 * the answers are gathered by it, within a time limit.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { AdminError } from "../admin/backend.ts";
import type { UpstreamStatus } from "../admin/status_types.ts";
import type { FromWorker, ToWorker } from "./worker_protocol.ts";
import type { Observation } from "./proxies.ts";

/** How long the workers get to answer a question. */
const ANSWER_TIMEOUT_MS = 2_000;
const log = getLogger(["minginx", "workers"]);

type Answer = FromWorker & { type: "observed" | "upstream-changed" };

/** The questions in flight, and the answers that come back for them. */
export class WorkerRequests {
  #nextId = 1;
  readonly #waiting = new Map<number, (answer: Answer) => void>();

  /**
   * Hands an answer to the question it answers; the group calls it for each message.
   *
   * @param message A message from a worker.
   */
  answered(message: FromWorker): void {
    if (message.type === "observed" || message.type === "upstream-changed") {
      this.#waiting.get(message.id)?.(message);
    }
  }

  /**
   * Asks each worker for its metrics and status.
   *
   * @param workers The workers running.
   * @returns What each that answered in time counted, in worker order.
   */
  async observe(workers: readonly Worker[]): Promise<Observation> {
    const answers = (await this.#ask(workers, (id) => ({ type: "observe", id })))
      .filter((answer) => answer.type === "observed");
    return {
      metrics: answers.map(({ metrics }) => metrics),
      statuses: answers.map(({ status }) => status),
    };
  }

  /**
   * Drains or enables an upstream in each worker.
   *
   * @param workers The workers running.
   * @param change What to change.
   * @returns The upstream's status in the first worker that changed it.
   * @throws {AdminError} What the first worker refused with, if none changed it.
   */
  async setUpstream(
    workers: readonly Worker[],
    change: Omit<ToWorker & { type: "upstream" }, "type" | "id">,
  ): Promise<UpstreamStatus> {
    const answers = (await this.#ask(workers, (id) => ({ type: "upstream", id, ...change })))
      .filter((answer) => answer.type === "upstream-changed");
    const changed = answers.find(({ upstream }) => upstream !== undefined);
    if (changed) return changed.upstream!;
    const refusal = answers.find(({ error }) => error !== undefined)?.error;
    throw new AdminError(refusal?.status ?? 503, refusal?.message ?? "No worker answered in time");
  }

  async #ask(workers: readonly Worker[], question: (id: number) => ToWorker): Promise<Answer[]> {
    const id = this.#nextId++;
    const answers = await gather<Answer>(
      workers.length,
      ANSWER_TIMEOUT_MS,
      "answer the admin API",
      (add) => {
        this.#waiting.set(id, add);
        for (const worker of workers) worker.postMessage(question(id));
        return () => this.#waiting.delete(id);
      },
    );
    return [...answers.values()].sort((a, b) => a.index - b.index);
  }
}

/**
 * Gathers one answer from each of `count` workers, waiting at most `ms`, and warns about the
 * workers that did not answer in time.
 *
 * @param count How many workers were asked.
 * @param ms How long they get.
 * @param what What they did not do, for the warning: `"answer the admin API"`.
 * @param ask Starts taking answers with `add`, asks the workers, and returns how to stop taking.
 * @returns The answers by worker index; a worker's later answer replaces its earlier one.
 */
export async function gather<T extends { index: number }>(
  count: number,
  ms: number,
  what: string,
  ask: (add: (answer: T) => void) => () => void,
): Promise<Map<number, T>> {
  const answers = new Map<number, T>();
  const { promise, resolve } = Promise.withResolvers<void>();
  const timer = setTimeout(resolve, ms);
  const stop = ask((answer) => {
    if (answers.set(answer.index, answer).size >= count) resolve();
  });
  if (count === 0) resolve();
  await promise;
  clearTimeout(timer);
  stop();
  if (answers.size < count) {
    log.warning("{missing} of {count} workers did not {what} within {ms} ms", {
      missing: count - answers.size,
      count,
      what,
      ms,
    });
  }
  return answers;
}
