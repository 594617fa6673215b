/**
 * The minginx command line: `deno run --allow-net=LISTEN,UPSTREAM main.ts [options]`.
 * Run it with `--help` for the options.
 *
 * @module
 */

import { primeDiscovery } from "./lib/cli/discovery_seeds.ts";
import { dispose, getLogger } from "@logtape/logtape";
import denoJson from "./deno.json" with { type: "json" };
import { messageOf } from "./lib/_util.ts";
import { type Address, formatAddress } from "./lib/address.ts";
import { type CliOptions, parseCliArgs, UsageError } from "./lib/cli/args.ts";
import { configureLogging, type LogLosses, reopenAccessLog } from "./lib/cli/logging.ts";
import {
  checkNetPermissions,
  checkReadPermissions,
  checkWorkerPermissions,
  checkWritePermission,
} from "./lib/cli/preflight.ts";
import { reloadCertificates } from "./lib/cli/proxy.ts";
import { Runtime } from "./lib/cli/runtime.ts";
import { metricsFor, onMainThread } from "./lib/cli/on_main_thread.ts";
import type { AdminServer } from "./lib/admin/server.ts";
import type { Proxies } from "./lib/cli/proxies.ts";
import type { WorkerGroup } from "./lib/cli/workers.ts";
import { Shutdown, SIGNALS } from "./lib/cli/shutdown.ts";
import { configFromFlags, loadConfig, withFlags } from "./lib/cli/config_file.ts";
import { ConfigProxies, portZero } from "./lib/cli/config_run.ts";
import { fileNeeds, netNeeds } from "./lib/cli/permissions.ts";
import type { Config } from "./lib/config/config.ts";

/** Hooks for programs that run the CLI in-process, such as the demo. */
export interface MainHooks {
  /** Called once the proxy listens, with its address. */
  onListening?: (address: Address) => void;
}

/**
 * Runs the proxy until SIGINT or SIGTERM, then drains it for `--drain-timeout`.
 *
 * @param args The command-line arguments.
 * @param hooks Called at points of the run.
 * @returns The exit code: 0 after a clean stop or `--help`, 1 if it cannot listen, 2 for a usage
 * or permission error.
 */
export async function main(args: string[], hooks: MainHooks = {}): Promise<number> {
  const startedAt = new Date();
  // The commands, the admin API and TLS load only when used: a plain proxy stays small.
  if (args[0] !== undefined && !args[0].startsWith("-")) {
    const { COMMANDS } = await import("./lib/cli/commands.ts");
    const command = COMMANDS[args[0]];
    if (command) return await command(args.slice(1));
  }
  let options;
  try {
    options = parseCliArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    return 2;
  }
  if (options.help) {
    const { helpText } = await import("./lib/cli/help.ts");
    console.log(helpText(denoJson.version));
    return 0;
  }
  if (options.version) {
    console.log(`minginx ${denoJson.version}`);
    return 0;
  }
  if (options.config === undefined && options.watch) {
    console.error("Option --watch needs --config: add it, or drop --watch");
    return 2;
  }
  let config: Config | undefined;
  if (options.config !== undefined) {
    try {
      config = withFlags(await loadConfig(options.config), options);
      // The file's process settings, unless flags gave them (withFlags saw to that).
      const { logLevel, logFormat, workers, accessLog, admin, adminToken } = config;
      options = { ...options, logLevel, logFormat, workers, accessLog, admin, adminToken };
      const shared = portZero(config, options);
      if (shared) throw new UsageError(shared);
    } catch (error) {
      console.error(messageOf(error));
      return error instanceof UsageError ? 2 : 1;
    }
  }
  const { upstreams } = options;
  const { servers } = config ?? configFromFlags(options);
  const missing = await checkNetPermissions(netNeeds(servers, options.admin)) ??
    await checkReadPermissions(fileNeeds(servers)) ??
    await checkWritePermission(options.accessLog);
  if (missing) {
    console.error(missing);
    return 2;
  }

  const workersMissing = await checkWorkerPermissions(options.workers);
  if (workersMissing) {
    console.error(workersMissing);
    return 2;
  }

  let losses: LogLosses;
  try {
    losses = await configureLogging(options.logLevel, options.logFormat, options.accessLog);
  } catch (error) {
    console.error(messageOf(error));
    return 1;
  }
  // Discovery sources are asked once first, so pools start full; a denied one is a usage error.
  const { seeds, denied } = await primeDiscovery(servers);
  if (denied.length > 0) {
    console.error(denied.join("\n"));
    await dispose();
    return 2;
  }
  let proxies: Proxies;
  // Workers (and their modules) only when asked for, as with a config file's "workers".
  let workers: WorkerGroup | undefined;
  try {
    if (config) proxies = await ConfigProxies.start(options.config!, options, config, seeds);
    else if (options.workers > 1) {
      const { WorkerGroup } = await import("./lib/cli/workers.ts");
      proxies = workers = await WorkerGroup.start(options, undefined, seeds);
    } else {
      const settings = configFromFlags(options);
      const metrics = await metricsFor(options);
      proxies = onMainThread(await Runtime.start(settings, undefined, metrics, seeds));
    }
  } catch (error) {
    await dispose();
    console.error(messageOf(error));
    return 1;
  }
  const log = getLogger(["minginx"]);
  if (config) {
    log.info("minginx {version} running {file} with {workers}: {servers} on {listen}", {
      version: denoJson.version,
      file: options.config,
      servers: config.servers.map(({ name }) => name).join(", "),
      listen: (proxies as ConfigProxies).addresses.map(formatAddress).join(", "),
      workers: options.workers === 1 ? "1 thread" : `${options.workers} workers`,
    });
  } else {log.info(
      "minginx {version} listening on {listen} with {workers}, forwarding to {upstreams} " +
        "({balance}, health check: {healthCheck})",
      {
        version: denoJson.version,
        listen: formatAddress(proxies.address),
        workers: options.workers === 1 ? "1 thread" : `${options.workers} workers`,
        upstreams: [
          ...upstreams.map(describeUpstream),
          ...options.discover.map(({ text }) => text),
        ].join(", "),
        balance: options.balance,
        healthCheck: options.healthCheck ?? "none",
      },
    );}
  const faulty = (config?.servers ?? [options]).filter(({ faults }) => faults.length > 0);
  for (const { faults } of faulty) {
    log.warning("Fault injection is on, as asked: {faults}", { faults: JSON.stringify(faults) });
  }
  const running = proxies;
  const group = workers;
  const drain = running instanceof ConfigProxies
    ? () => running.drainTimeout
    : options.drainTimeout;
  const shutdown = new Shutdown(proxies, drain);
  let admin: AdminServer | undefined;
  if (options.admin) {
    try {
      const { startAdmin } = await import("./lib/cli/admin.ts");
      admin = startAdmin(options.admin, options.adminToken, proxies, {
        version: denoJson.version,
        workers: options.workers,
        draining: () => shutdown.draining,
        file: options.config,
        reloads: () =>
          running instanceof ConfigProxies
            ? {
              applied: running.reloads,
              failed: running.failedReloads,
              loadedAt: running.loadedAt,
            }
            : { applied: 0, failed: 0, loadedAt: startedAt },
      });
    } catch (error) {
      log.error("{error}", { error: messageOf(error) });
      proxies.shutdown(0);
      await proxies.finished;
      await dispose();
      return 1;
    }
  }
  hooks.onListening?.(proxies.address);

  for (const signal of SIGNALS) Deno.addSignalListener(signal, shutdown.onSignal);
  // Without a config file there is nothing to reload, but SIGHUP must not end the process.
  const reload = running instanceof ConfigProxies
    ? () => void running.reload()
    : group && options.tls.length > 0
    ? () => group.reloadCertificates()
    : () => reloadCertificates(running.reloadCertificates?.bind(running));
  Deno.addSignalListener("SIGHUP", reload);
  // SIGUSR2, not SIGUSR1: Deno takes SIGUSR1 for its inspector.
  const reopen = () => void reopenLogs(group, log);
  Deno.addSignalListener("SIGUSR2", reopen);
  await proxies.finished;
  await admin?.shutdown();
  for (const signal of SIGNALS) Deno.removeSignalListener(signal, shutdown.onSignal);
  Deno.removeSignalListener("SIGHUP", reload);
  Deno.removeSignalListener("SIGUSR2", reopen);
  await shutdown.finished();
  log.info("Stopped");
  await dispose();
  if (group) {
    losses.dropped += group.losses.dropped;
    losses.failed += group.losses.failed;
  }
  reportLosses(losses);
  return 0;
}

/** An upstream as the startup line shows it: `HOST:PORT`, with its weight and tier if set. */
function describeUpstream({ address, weight, backup }: CliOptions["upstreams"][number]): string {
  return formatAddress(address) + (weight === 1 ? "" : `,weight=${weight}`) +
    (backup ? ",backup" : "");
}

/** Opens the access log file again, here and in each worker, after a rotation. */
async function reopenLogs(
  workers: WorkerGroup | undefined,
  log: ReturnType<typeof getLogger>,
): Promise<void> {
  try {
    if (await reopenAccessLog()) log.info("Reopened the access log, as SIGUSR2 asks");
    else log.debug("SIGUSR2 reopens the --access-log file; there is none");
  } catch (error) {
    log.error("Cannot reopen the access log, the old file stays in use: {error}", {
      error: messageOf(error),
    });
  }
  workers?.reopenAccessLog();
}

/** Says, once logging has drained, how many lines it lost: a stuck log must not go unnoticed. */
function reportLosses({ dropped, failed }: LogLosses): void {
  if (dropped === 0 && failed === 0) return;
  try {
    console.error(
      `minginx lost ${dropped + failed} log lines: ${dropped} dropped because standard error ` +
        `did not keep up, ${failed} failed to write`,
    );
  } catch {
    // Standard error itself is gone: there is nowhere left to say it.
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
