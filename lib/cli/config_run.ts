/**
 * Running from a config file: the servers it describes, reloaded on SIGHUP or, with `--watch`,
 * when the file changes. A reload that is invalid, or needs a permission the process lacks, is
 * refused and logged, and the old config keeps running.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import type { Address } from "../address.ts";
import type { Config } from "../config/config.ts";
import { messageOf } from "../_util.ts";
import type { CliOptions } from "./args.ts";
import { loadConfig, withFlags } from "./config_file.ts";
import { netNeeds } from "./permissions.ts";
import { checkNetPermissions } from "./preflight.ts";
import { Runtime } from "./runtime.ts";
import type { Proxies, WorkerStats } from "./workers.ts";

const log = getLogger(["minginx", "reload"]);
/** Changes to the file within this long of each other make one reload. */
const WATCH_SETTLE_MS = 100;

/**
 * Checks that the process may listen and connect where `config` says.
 *
 * @param config The config.
 * @returns `undefined`, or one line naming what is missing and the flag that would grant it.
 */
export function checkConfigPermissions(config: Config): Promise<string | undefined> {
  return checkNetPermissions(netNeeds(config.servers));
}

/** The servers of a config file, as the CLI runs and reloads them. */
export class ConfigProxies implements Proxies {
  readonly #file: string;
  readonly #options: CliOptions;
  readonly #runtime: Runtime;
  #reloading: Promise<boolean> = Promise.resolve(true);
  #watcher: Deno.FsWatcher | undefined;
  #stopped = false;
  /** Reloads applied. */
  reloads = 0;
  /** Reloads refused: an invalid file, a missing permission, or a listener that could not open. */
  failedReloads = 0;

  /**
   * Starts the servers of an already checked config.
   *
   * @param file The config file, read again on every reload.
   * @param options The command line, whose flags override the file.
   * @param config The config to start with.
   * @throws {Error} If a listener cannot be opened.
   */
  constructor(file: string, options: CliOptions, config: Config) {
    this.#file = file;
    this.#options = options;
    this.#runtime = Runtime.start(config);
    if (options.watch) this.#watch();
  }

  /** The first listener's address. */
  get address(): Address {
    return this.#runtime.addresses[0];
  }

  /** Every listener's address. */
  get addresses(): Address[] {
    return this.#runtime.addresses;
  }

  /** Settles once a shutdown has finished. */
  get finished(): Promise<void> {
    return this.#runtime.finished;
  }

  /** Stops accepting on every listener; open connections get `ms` to finish. */
  shutdown(ms: number): void {
    this.#stopped = true;
    try {
      this.#watcher?.close();
    } catch { /* closed already */ }
    this.#runtime.shutdown(ms);
  }

  /** The counters, as one entry. */
  stats(): Promise<WorkerStats[]> {
    const runtime = this.#runtime;
    return Promise.resolve([{
      index: 1,
      accepted: runtime.accepted,
      open: runtime.connections,
      closedByShutdown: runtime.closedByShutdown,
    }]);
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
      const missing = await checkConfigPermissions(config);
      if (missing) throw new Error(missing);
      const { opened, removed } = this.#runtime.reload(config);
      this.reloads++;
      log.info(
        "Reloaded {file}: {servers} servers; listeners opened: {opened}; draining: {removed}",
        {
          file: this.#file,
          servers: config.servers.length,
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
