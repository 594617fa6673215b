/**
 * Running from a config file: the servers it describes, reloaded on SIGHUP or, with `--watch`,
 * when the file changes. A reload that is invalid, or needs a permission the process lacks, is
 * refused and logged, and the old config keeps running.
 *
 * @module
 */

import { primeDiscovery, type Seeds } from "./discovery_seeds.ts";
import { getLogger } from "@logtape/logtape";
import { type Address, formatAddress } from "../address.ts";
import type { Config } from "../config/config.ts";
import { messageOf } from "../_util.ts";
import type { CliOptions } from "./args.ts";
import { loadConfig, withFlags } from "./config_file.ts";
import { fileNeeds, netNeeds } from "./permissions.ts";
import { checkNetPermissions, checkReadPermissions } from "./preflight.ts";
import { Runtime } from "./runtime.ts";
import { metricsFor, onMainThread, type Target } from "./on_main_thread.ts";
import type { Proxies } from "./proxies.ts";
import type { WorkerStats } from "./worker_protocol.ts";

const log = getLogger(["minginx", "reload"]);
/** Changes to the file within this long of each other make one reload. */
const WATCH_SETTLE_MS = 100;

/**
 * Checks that the process may listen and connect where `config` says.
 *
 * @param config The config.
 * @returns `undefined`, or one line naming what is missing and the flag that would grant it.
 */
export async function checkConfigPermissions(config: Config): Promise<string | undefined> {
  return await checkNetPermissions(netNeeds(config.servers, config.admin)) ??
    await checkReadPermissions(fileNeeds(config.servers));
}

/**
 * Workers each bind every listen address with SO_REUSEPORT, so the address must name its port.
 *
 * @param config The config.
 * @param options The command line.
 * @returns `undefined`, or what is wrong.
 */
export function portZero(config: Config, options: CliOptions): string | undefined {
  if (options.workers === 1) return undefined;
  const server = config.servers.find(({ listen }) => listen.some(({ port }) => port === 0));
  if (!server) return undefined;
  return `Server ${server.name} listens on port 0, which --workers cannot share: name the port`;
}

/** The servers of a config file, as the CLI runs and reloads them. */
export class ConfigProxies implements Proxies {
  readonly #file: string;
  readonly #options: CliOptions;
  readonly #target: Target;
  #config: Config;
  #reloading: Promise<boolean> = Promise.resolve(true);
  #watcher: Deno.FsWatcher | undefined;
  #stopped = false;
  /** Reloads applied. */
  reloads = 0;
  /** Reloads refused: an invalid file, a missing permission, or a listener that could not open. */
  failedReloads = 0;
  /** When the config in use was applied. */
  loadedAt: Date = new Date();

  private constructor(file: string, options: CliOptions, config: Config, target: Target) {
    this.#file = file;
    this.#options = options;
    this.#config = config;
    this.#target = target;
    if (options.watch) this.#watch();
  }

  /**
   * Starts the servers of an already checked config, on the main thread or, with `--workers`, in
   * every worker.
   *
   * @param file The config file, read again on every reload.
   * @param options The command line, whose flags override the file.
   * @param config The config to start with.
   * @returns The running servers.
   * @throws {Error} If a listener cannot be opened.
   */
  static async start(
    file: string,
    options: CliOptions,
    config: Config,
    seeds?: Seeds,
  ): Promise<ConfigProxies> {
    // Workers (and their modules) only when asked for.
    const target = options.workers > 1
      ? await (await import("./workers.ts")).WorkerGroup.start(options, config, seeds)
      : onMainThread(await Runtime.start(config, undefined, await metricsFor(options), seeds));
    return new ConfigProxies(file, options, config, target);
  }

  /** Each thread's metrics and status, when the admin API is on. */
  get observe(): Proxies["observe"] {
    return this.#target.observe;
  }

  /** Drains or enables an upstream in every thread, when the admin API is on. */
  get setUpstream(): Proxies["setUpstream"] {
    return this.#target.setUpstream;
  }

  /** The first listener's address. */
  get address(): Address {
    return this.#target.address;
  }

  /** Every listener's address (workers take the ports the config names). */
  get addresses(): Address[] {
    return this.#target.addresses ?? this.#config.servers.flatMap((server) => server.listen);
  }

  /** Settles once a shutdown has finished. */
  get finished(): Promise<void> {
    return this.#target.finished;
  }

  /** The drain timeout of the config running now, which a reload may have changed. */
  get drainTimeout(): number {
    return this.#config.drainTimeout;
  }

  /** Stops accepting on every listener; open connections get `ms` to finish. */
  shutdown(ms: number): void {
    this.#stopped = true;
    try {
      this.#watcher?.close();
    } catch { /* closed already */ }
    this.#target.shutdown(ms);
  }

  /** The counters, one entry per worker. */
  stats(): Promise<WorkerStats[]> {
    return this.#target.stats();
  }

  /**
   * Reads the file again and applies it, one reload at a time.
   *
   * @returns Whether the new config is running.
   */
  reload(): Promise<boolean> {
    this.#reloading = this.#reloading.then(() => this.#reload());
    return this.#reloading;
  }

  async #reload(): Promise<boolean> {
    let config: Config;
    try {
      config = withFlags(await loadConfig(this.#file), this.#options);
      const missing = await checkConfigPermissions(config) ?? portZero(config, this.#options);
      if (missing) throw new Error(missing);
      // New sources start full; a source that fails now keeps the set it had.
      const { seeds, denied } = await primeDiscovery(config.servers);
      if (denied.length > 0) throw new Error(denied.join("; "));
      const { opened, removed } = await this.#target.reload(config, seeds);
      const running = this.#config;
      const later = (["logLevel", "logFormat", "workers", "admin", "adminToken"] as const)
        .filter((key) => String(startup(config[key])) !== String(startup(running[key])));
      // What the process was started with stays as it was.
      config = {
        ...config,
        logLevel: running.logLevel,
        logFormat: running.logFormat,
        workers: running.workers,
        admin: running.admin,
        adminToken: running.adminToken,
      };
      if (config.admin === undefined) delete config.admin;
      if (config.adminToken === undefined) delete config.adminToken;
      this.#config = config;
      if (later.length > 0) {
        log.warning("{keys} in {file} changed: that takes a restart", {
          keys: later.join(", "),
          file: this.#file,
        });
      }
      this.reloads++;
      this.loadedAt = new Date();
      log.info(
        "Reloaded {file}: {servers}; listeners opened: {opened}; draining: {removed}",
        {
          file: this.#file,
          servers: config.servers.length === 1 ? "1 server" : `${config.servers.length} servers`,
          opened: opened.join(", ") || "none",
          removed: removed.join(", ") || "none",
          reloads: this.reloads,
        },
      );
      return true;
    } catch (error) {
      this.failedReloads++;
      log.error("Reload of {file} refused, the running config stays:\n{error}", {
        file: this.#file,
        error: messageOf(error),
        failedReloads: this.failedReloads,
      });
      return false;
    }
  }

  /**
   * Reloads when the file changes. An editor that saves by writing a new file and renaming it
   * over the old one ends the watch on the old one, so the watch starts again on the new file.
   */
  async #watch(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const settle = () => {
      clearTimeout(timer);
      timer = setTimeout(() => this.reload(), WATCH_SETTLE_MS);
    };
    try {
      while (this.#options.watch && !this.#stopped) {
        this.#watcher = Deno.watchFs(this.#file);
        for await (const event of this.#watcher) {
          if (event.kind === "access") continue;
          settle();
          if (event.kind === "remove" || event.kind === "rename") break;
        }
        this.#watcher.close();
        await new Promise((resolve) => setTimeout(resolve, WATCH_SETTLE_MS));
      }
    } catch (error) {
      if (!this.#stopped) {
        log.error("Cannot watch {file}: {error}", { file: this.#file, error: messageOf(error) });
      }
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A setting read at startup only, in a form to compare. */
function startup(value: Config[keyof Config]): unknown {
  return typeof value === "object" && value !== null && "port" in value
    ? formatAddress(value)
    : value;
}
