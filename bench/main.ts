/**
 * The benchmark: `deno task bench [options]` (see `--help`). Measures minginx against nginx's
 * stream proxy, HAProxy in TCP mode and a direct connection in one run, and minginx's HTTP mode
 * against nginx's HTTP proxy, prints a Markdown report, and writes it with the raw figures to
 * `bench/results/latest.md` and `latest.json`.
 *
 * @module
 */

import { measureBulk } from "./bulk_throughput.ts";
import { measureConnectRate } from "./connect_rate.ts";
import { describeEnvironment } from "./environment.ts";
import { type KeepAliveResult, measureKeepAlive } from "./http_keepalive.ts";
import { measureHttpModeRounds } from "./http_mode.ts";
import { measureIdleMemory } from "./idle_memory.ts";
import { freePort } from "./net.ts";
import { type BenchOptions, HELP, parseOptions, type Workload } from "./options.ts";
import { initClockTicks, openFileLimit } from "./proc.ts";
import { type Target, unavailableReason } from "./proxies.ts";
import { type BenchReport, renderMarkdown, writeReport } from "./report.ts";
import { summarizeHttpMode } from "./report_http_mode.ts";
import { summarizeTls } from "./report_tls.ts";
import { cleanupAll, hasProgram } from "./resources.ts";
import { type Failure, measureRounds } from "./rounds.ts";
import { summarize } from "./summary.ts";
import { measureTlsRounds, type TlsResult } from "./tls.ts";
import { HoldingUpstream, startHttpResponder } from "./upstreams.ts";

const PROXY_CPUS = "0";
const CLIENT_CPUS = navigator.hardwareConcurrency > 1 ? "1" : "0";
// Sockets needed besides two per held connection: the benchmark's listeners, pipes and stdio,
// and HAProxy's own margin (it asks for 2 x maxconn + about 300 descriptors).
const FD_MARGIN = 600;
// The load generators each workload needs (their Debian packages have the same names), and the
// workload in words.
const GENERATORS: Partial<Record<Workload, { programs: string[]; name: string }>> = {
  http: { programs: ["wrk"], name: "the keep-alive HTTP workload" },
  connect: { programs: ["wrk"], name: "the new-connection workload" },
  tls: { programs: ["wrk", "openssl"], name: "the TLS workload" },
  "http-mode": { programs: ["wrk"], name: "the HTTP-mode workload" },
  bulk: { programs: ["iperf3"], name: "the bulk workload" },
};

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
  const skippedWorkloads: BenchReport["skippedWorkloads"] = [];
  const workloads: Workload[] = [];
  for (const workload of options.workloads) {
    const generator = GENERATORS[workload];
    let absent: string | undefined;
    for (const program of generator?.programs ?? []) {
      if (!await hasProgram(program)) {
        absent = program;
        break;
      }
    }
    if (generator && absent !== undefined) {
      const reason = `${absent} is not installed (apt-get install ${absent})`;
      progress(`Skipping ${generator.name}: ${reason}`);
      skippedWorkloads.push({ workload, reason });
    } else workloads.push(workload);
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
  const environment = await describeEnvironment(targets, workloads);
  progress(
    `${options.quick ? "Quick smoke test. " : ""}Targets: ${targets.join(", ") || "none"}; ` +
      `workloads: ${workloads.join(", ") || "none"}`,
  );

  const failures: Failure[] = [];
  const rounds = (title: string, workload: Workload, only = targets) => ({
    title,
    workload,
    targets: only,
    rounds: options.rounds,
    failures,
    progress,
  });
  const cpus = { proxyCpus: PROXY_CPUS, clientCpus: CLIENT_CPUS };
  const wrkLoad = {
    connections: options.connections,
    seconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    ...cpus,
  };

  let keepAlive: BenchReport["keepAlive"] = [];
  let connect: BenchReport["connect"] = [];
  let tls: TlsResult[] = [];
  let httpMode: KeepAliveResult[] = [];
  if ((["http", "connect", "tls", "http-mode"] as const).some((w) => workloads.includes(w))) {
    const upstreamPort = freePort();
    progress(`Starting the HTTP responder on CPU ${CLIENT_CPUS}`);
    const responder = await startHttpResponder(upstreamPort, CLIENT_CPUS);
    try {
      if (workloads.includes("http")) {
        keepAlive = await measureRounds(
          rounds("Keep-alive HTTP", "http"),
          (target, round, log) =>
            measureKeepAlive(target, { upstreamPort, ...wrkLoad, round }, log),
        );
      }
      if (workloads.includes("connect")) {
        connect = await measureRounds(
          rounds("New connections", "connect"),
          (target, round, log) =>
            measureConnectRate(target, { upstreamPort, ...wrkLoad, round }, log),
        );
      }
      if (workloads.includes("tls")) {
        tls = await measureTlsRounds(rounds("TLS", "tls"), { upstreamPort, ...wrkLoad });
      }
      if (workloads.includes("http-mode")) {
        httpMode = await measureHttpModeRounds(rounds("HTTP mode", "http-mode"), {
          upstreamPort,
          ...wrkLoad,
        });
      }
    } finally {
      await responder.stop();
    }
  }

  const bulk = !workloads.includes("bulk") ? [] : await measureRounds(
    rounds("Bulk", "bulk"),
    (target, round, log) =>
      measureBulk(target, {
        seconds: options.bulkSeconds,
        warmupSeconds: options.bulkWarmupSeconds,
        ...cpus,
        round,
      }, log),
  );

  const proxies = targets.filter((target) => target !== "direct");
  if (workloads.includes("idle") && targets.includes("direct")) {
    progress("Idle memory: direct has no proxy to measure");
  }
  let idle: BenchReport["idle"] = [];
  if (workloads.includes("idle") && proxies.length > 0) {
    const upstream = new HoldingUpstream();
    try {
      idle = await measureRounds(
        rounds("Idle memory", "idle", proxies),
        (target, round, log) =>
          measureIdleMemory(target, {
            upstream,
            connections: idleConnections,
            proxyCpus: PROXY_CPUS,
            settleMs: options.settleMs,
            round,
          }, log),
      );
    } finally {
      upstream.close();
    }
  }

  const { help: _help, outDir, ...used } = options;
  const measurements = { keepAlive, connect, bulk, idle };
  const report: BenchReport = {
    startedAt: date,
    elapsedSeconds: Math.round((performance.now() - startedAt) / 100) / 10,
    environment,
    options: { ...used, targets, workloads, idleConnections },
    skipped,
    skippedWorkloads,
    failures,
    ...measurements,
    summary: summarize(measurements, options),
    tls: { runs: tls, summary: summarizeTls(tls) },
    httpMode: { runs: httpMode, summary: summarizeHttpMode(httpMode) },
  };
  console.log(`\n${renderMarkdown(report)}`);
  for (const path of await writeReport(outDir, report)) progress(`Wrote ${path}`);
  progress(
    failures.length > 0
      ? `Done: ${failures.length} measurement${failures.length === 1 ? "" : "s"} failed`
      : "Done: every measurement ran",
  );
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
