/**
 * The servers a config describes, kept running across reloads: a listener that stays keeps its
 * socket and hands new connections to the new stack, open connections stay with the stack they
 * started with, removed listeners drain, and upstreams removed from a pool drain or are closed as
 * the config says.
 *
 * @module
 */

import { getLogger } from "@logtape/logtape";
import { type Address, formatAddress } from "../address.ts";
import type { ProxyMetrics } from "../metrics/proxy_metrics.ts";
import { serve } from "../serve.ts";
import type { Server } from "../server.ts";
import type { Config, ServerConfig } from "../config/config.ts";
import type { Sharing } from "./proxy.ts";
import { buildStack, type Stack } from "./stack.ts";
import { LayerReuse } from "./layer_flags.ts";
import { loadModules, modules } from "./optional_modules.ts";
import type { RuntimeAdmin } from "./runtime_admin.ts";
import { retire } from "./retire.ts";
import type { DiscoveredUpstream } from "../discovery/discovery.ts";
import type { Seeds } from "./discovery_seeds.ts";

const log = getLogger(["minginx", "reload"]);

/** The part of a config the runtime runs: the servers, and their drain timeout. */
export type RuntimeConfig = Pick<Config, "drainTimeout" | "servers">;

/** What a reload changed: the listeners it opened and the ones now draining, as `HOST:PORT`. */
export interface ReloadChanges {
  /** Listeners opened. */
  opened: string[];
  /** Listeners that stopped accepting and drain. */
  removed: string[];
}

interface Running {
  settings: ServerConfig;
  stack: Stack;
}

/** The running servers of a config, which a reload changes in place. */
export class Runtime {
  #config: RuntimeConfig;
  #running = new Map<string, Running>();
  #layers = new Map<string, LayerReuse>();
  #listeners = new Map<string, Server>();
  readonly #retiring = new Set<Server>();
  readonly #finished = Promise.withResolvers<void>();
  #stopped = false;
  readonly #shutdowns = { count: 0 };
  readonly #sharing: Sharing | undefined;
  /** Each discovery source's last set, which the stacks of a reload start with. */
  readonly #seeds = new Map<string, readonly DiscoveredUpstream[]>();
  /** What the admin API reads and changes; present when the runtime counts metrics. */
  readonly admin: RuntimeAdmin | undefined;

  private constructor(
    config: RuntimeConfig,
    sharing: Sharing | undefined,
    metrics: ProxyMetrics | undefined,
  ) {
    this.#config = config;
    this.#sharing = sharing;
    const view = { running: () => this.#running.values(), listeners: () => this.#listeners };
    this.admin = metrics && new (modules("metrics").RuntimeAdmin)(view, metrics);
  }

  /**
   * Starts every server of `config`, once the modules of the features they use have loaded.
   *
   * @param config The config.
   * @param sharing Set when several workers share the ports.
   * @param metrics Where to count connections, for the admin API.
   * @param seeds Each discovery source's first set, by `sourceKey`, if it was asked already.
   * @returns The runtime.
   * @throws {Error} If a listener cannot be opened; whatever was opened is closed again.
   */
  static async start(
    config: RuntimeConfig,
    sharing?: Sharing,
    metrics?: ProxyMetrics,
    seeds?: Seeds,
  ): Promise<Runtime> {
    await loadModules(config.servers, metrics !== undefined);
    const runtime = new Runtime(config, sharing, metrics);
    runtime.#seed(seeds);
    runtime.#apply(config);
    return runtime;
  }

  /**
   * Reads every server's TLS certificate files again, for new connections; `undefined` when no
   * server terminates TLS. It throws, and changes nothing for that server, if one cannot be read.
   */
  get reloadCertificates(): (() => void) | undefined {
    const reloads = [...this.#running.values()].flatMap(({ stack }) =>
      stack.reloadCertificates ? [stack.reloadCertificates] : []
    );
    if (reloads.length === 0) return undefined;
    return () => {
      for (const reload of reloads) reload();
    };
  }

  /** Every address listened on, in config order. */
  get addresses(): Address[] {
    return [...this.#listeners.values()].map((server) => server.address);
  }

  /** Open connections, on current and retiring listeners. */
  get connections(): number {
    let open = 0;
    for (const server of [...this.#listeners.values(), ...this.#retiring]) {
      open += server.connections;
    }
    return open;
  }

  /** Connections that a shutdown closed (reason `shutdown`). */
  get closedByShutdown(): number {
    return this.#shutdowns.count;
  }

  /** Settles once a shutdown has finished. */
  get finished(): Promise<void> {
    return this.#finished.promise;
  }

  /** Connections accepted so far by the current listeners. */
  get accepted(): number {
    let accepted = 0;
    for (const server of this.#listeners.values()) accepted += server.accepted;
    return accepted;
  }

  /**
   * Applies a new config atomically, once the modules of the features it uses have loaded:
   * either all of it, or (if a new listener cannot be opened) none of it.
   *
   * @param config The new config, already validated.
   * @param seeds Discovery sets just asked for, newer than those kept, by `sourceKey`.
   * @returns The listeners opened and the ones now draining, as `HOST:PORT`.
   * @throws {Error} If a new listener cannot be opened; the old config keeps running.
   */
  async reload(config: RuntimeConfig, seeds?: Seeds): Promise<ReloadChanges> {
    await loadModules(config.servers);
    if (this.#stopped) throw new Error("Cannot reload: the proxy is stopping");
    this.#seed(seeds);
    const changes = this.#apply(config);
    this.#config = config;
    return changes;
  }

  /**
   * Stops every listener and lets open connections finish for `drainTimeout` ms.
   *
   * @param drainTimeout How long they get; the config's drain timeout if absent.
   * @returns Resolves once every server has finished.
   */
  shutdown(drainTimeout = this.#config.drainTimeout): Promise<void> {
    this.#stopped = true;
    for (const { stack } of this.#running.values()) stack.stopDiscovery();
    const servers = [...this.#listeners.values(), ...this.#retiring];
    Promise.all(servers.map((server) => server.shutdown(drainTimeout)))
      .then(() =>
        Promise.all(
          [...this.#running.values()].flatMap(({ stack }) => [
            ...stack.pools.map((pool) => pool.close()),
            stack.closeIdle?.(),
          ]),
        )
      )
      .then(() => this.#finished.resolve());
    return this.#finished.promise;
  }

  #seed(seeds: Seeds | undefined): void {
    for (const [key, set] of Object.entries(seeds ?? {})) this.#seeds.set(key, set);
  }

  #apply(config: RuntimeConfig): ReloadChanges {
    const stacks = new Map<string, Running>();
    const opened = new Map<string, Server>();
    const layers = new Map<string, LayerReuse>();
    try {
      for (const settings of config.servers) {
        const reuse = new LayerReuse(this.#layers.get(settings.name)?.used);
        layers.set(settings.name, reuse);
        const stack = buildStack(settings, {
          workers: this.#sharing?.workers,
          reuse,
          shutdowns: this.#shutdowns,
          metrics: this.admin?.metrics,
          seeds: this.#seeds,
        });
        const running = { settings, stack };
        stacks.set(settings.name, running);
        for (const address of settings.listen) {
          const key = formatAddress(address);
          if (this.#listeners.has(key)) continue;
          opened.set(
            key,
            serve({
              listen: address,
              drainTimeout: config.drainTimeout,
              service: running.stack.service,
              reusePort: this.#sharing?.reusePort,
              connectionIds: this.#sharing?.connectionIds,
            }),
          );
        }
      }
    } catch (error) {
      for (const server of opened.values()) server.shutdown(0);
      for (const { stack } of stacks.values()) {
        stack.stopDiscovery();
        stack.closeIdle?.();
        for (const pool of stack.pools) {
          this.admin?.metrics.forget(pool);
          pool.close();
        }
      }
      throw error;
    }
    // Nothing can fail from here on: the switch is all or nothing.
    const listeners = new Map<string, Server>();
    for (const { settings, stack } of stacks.values()) {
      for (const address of settings.listen) {
        const key = formatAddress(address);
        const server = opened.get(key) ?? this.#listeners.get(key)!;
        server.replaceService(stack.service);
        listeners.set(key, server);
      }
    }
    const removed: string[] = [];
    for (const [key, server] of this.#listeners) {
      if (listeners.has(key)) continue;
      removed.push(key);
      log.info("Listener {listen} was removed: it stops accepting and drains", { listen: key });
      this.#retiring.add(server);
      server.shutdown(config.drainTimeout).then(() => this.#retiring.delete(server));
    }
    for (const [name, old] of this.#running) {
      for (const pool of old.stack.pools) this.admin?.metrics.forget(pool);
      retire(old, stacks.get(name));
    }
    for (const { stack } of stacks.values()) this.admin?.reapply(stack.pools);
    this.#listeners = listeners;
    this.#running = stacks;
    this.#layers = layers;
    return { opened: [...opened.keys()], removed };
  }
}
