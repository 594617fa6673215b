/**
 * The benchmark: `deno task bench [options]` (see `--help`). Measures minginx against nginx's
 * stream proxy, HAProxy in TCP mode and a direct connection in one run, prints a Markdown
 * report, and writes it with the raw figures to `bench/results/latest.md` and `latest.json`.
 *
 * @module
 */

import { describeEnvironment } from "./environment.ts";
import { type KeepAliveResult, measureKeepAlive } from "./http_keepalive.ts";
import { type IdleResult, measureIdleMemory } from "./idle_memory.ts";
import { freePort } from "./net.ts";
import { type BenchOptions, HELP, parseOptions } from "./options.ts";
import { initClockTicks, openFileLimit } from "./proc.ts";
import { type Target, unavailableReason } from "./proxies.ts";
import { type BenchReport, renderMarkdown, writeReport } from "./report.ts";
import { cleanupAll, hasProgram } from "./resources.ts";
import { summarize } from "./summary.ts";
import { HoldingUpstream, startHttpResponder } from "./upstreams.ts";

const PROXY_CPUS = "0";
const CLIENT_CPUS = navigator.hardwareConcurrency > 1 ? "1" : "0";
// Sockets the benchmark process needs besides the held connections: listeners, pipes, stdio.
const FD_MARGIN = 200;

const startedAt = performance.now();

/**
 * Prints one progress line, prefixed with the seconds since the benchmark started.
 *
 * @param line What is happening.
 */
export function progress(line: string): void {
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1).padStart(5);
  console.log(`[${seconds}s] ${line}`);
}

/**
 * Runs the workloads the options ask for against every available target and reports.
 *
 * @param options The parsed command line.
 * @returns The exit code: 0 if every measurement ran, 1 if any failed.
 */
export async function runBenchmark(options: BenchOptions): Promise<number> {
  const date = new Date().toISOString();
  if (CLIENT_CPUS === PROXY_CPUS) {
    progress("Only one CPU: the proxies share it with wrk, so figures are not comparable");
  }
  if (!await hasProgram("taskset")) {
    throw new Error("taskset is not installed (apt-get install util-linux): cannot pin to cores");
  }
  await initClockTicks();

  const skipped: BenchReport["skipped"] = [];
  const targets: Target[] = [];
  for (const target of options.targets) {
    const reason = await unavailableReason(target);
    if (reason === undefined) targets.push(target);
    else {
      progress(`Skipping ${target}: ${reason}`);
      skipped.push({ target, reason });
    }
  }
  const workloads = [...options.workloads];
  if (workloads.includes("http") && !await hasProgram("wrk")) {
    progress("Skipping the keep-alive HTTP workload: wrk is not installed (apt-get install wrk)");
    workloads.splice(workloads.indexOf("http"), 1);
  }
  const limit = await openFileLimit();
  let idleConnections = options.idleConnections;
  if (limit !== undefined && 2 * idleConnections + FD_MARGIN > limit) {
    idleConnections = Math.floor((limit - FD_MARGIN) / 2);
    progress(
      `--idle ${options.idleConnections} needs ${2 * options.idleConnections + FD_MARGIN} ` +
        `open files but ulimit -n is ${limit}: holding ${idleConnections} connections instead`,
    );
  }
  const environment = await describeEnvironment(targets);
  progress(`Targets: ${targets.join(", ") || "none"}; workloads: ${workloads.join(", ")}`);

  const failures: BenchReport["failures"] = [];
  const attempt = async <T>(target: Target, workload: string, run: () => Promise<T>) => {
    try {
      return await run();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      progress(`${target}: FAILED (${workload}): ${message}`);
      failures.push({ target, workload, error: message });
      return undefined;
    }
  };
  const roundLabel = (round: number) =>
    options.rounds > 1 ? ` round ${round}/${options.rounds}:` : "";

  const keepAlive: KeepAliveResult[] = [];
  if (workloads.includes("http")) {
    const upstreamPort = freePort();
    progress(`Keep-alive HTTP: starting the HTTP responder on CPU ${CLIENT_CPUS}`);
    const responder = await startHttpResponder(upstreamPort, CLIENT_CPUS);
    try {
      for (let round = 1; round <= options.rounds; round++) {
        for (const target of targets) {
          const result = await attempt(target, "http", () =>
            measureKeepAlive(target, {
              upstreamPort,
              connections: options.connections,
              seconds: options.durationSeconds,
              warmupSeconds: options.warmupSeconds,
              proxyCpus: PROXY_CPUS,
              clientCpus: CLIENT_CPUS,
              round,
            }, (line) => progress(`Keep-alive HTTP:${roundLabel(round)} ${line}`)));
          if (result) keepAlive.push(result);
        }
      }
    } finally {
      await responder.stop();
    }
  }

  const idle: IdleResult[] = [];
  const proxies = targets.filter((target) => target !== "direct");
  if (workloads.includes("idle") && targets.includes("direct")) {
    progress("Idle memory: direct has no proxy to measure");
  }
  if (workloads.includes("idle") && proxies.length > 0) {
    const upstream = new HoldingUpstream();
    try {
      for (let round = 1; round <= options.rounds; round++) {
        for (const target of proxies) {
          const result = await attempt(target, "idle", () =>
            measureIdleMemory(target, {
              upstream,
              connections: idleConnections,
              proxyCpus: PROXY_CPUS,
              settleMs: options.settleMs,
            }, (line) => progress(`Idle memory:${roundLabel(round)} ${line}`)));
          if (result) idle.push(result);
        }
      }
    } finally {
      upstream.close();
    }
  }

  const { help: _help, outDir, ...used } = options;
  const report: BenchReport = {
    startedAt: date,
    elapsedSeconds: Math.round((performance.now() - startedAt) / 100) / 10,
    environment,
    options: { ...used, targets, workloads, idleConnections },
    skipped,
    failures,
    keepAlive,
    idle,
    summary: summarize(keepAlive, idle),
  };
  console.log(`\n${renderMarkdown(report)}`);
  for (const path of await writeReport(outDir, report)) progress(`Wrote ${path}`);
  return failures.length > 0 ? 1 : 0;
}

if (import.meta.main) {
  let options: BenchOptions;
  try {
    options = parseOptions(Deno.args);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${HELP}`);
    Deno.exit(2);
  }
  if (options.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  let interrupted = false;
  const onSignal = async () => {
    // `deno task` passes on the terminal's SIGINT, so it can arrive twice: clean up once.
    if (interrupted) return;
    interrupted = true;
    console.error("\nInterrupted: stopping every process and removing temporary directories");
    await cleanupAll();
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let code = 1;
  try {
    code = await runBenchmark(options);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
  } finally {
    await cleanupAll();
  }
  Deno.exit(code);
}
