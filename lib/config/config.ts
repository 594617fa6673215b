/**
 * What a config file says, as plain data: the same shapes the command line's flags parse into,
 * so one code path starts a server from either.
 *
 * @module
 */

import type { Address } from "../address.ts";
import type { LOG_FORMATS, LOG_LEVELS } from "../cli/args.ts";
import type { EdgeFlags } from "../cli/edge_flags.ts";
import type { HttpFlags } from "../cli/http_flags.ts";
import type { LayerFlags } from "../cli/layer_flags.ts";
import type { PoolFlags } from "../cli/pool_flags.ts";

/**
 * What happens to the open connections of an upstream that a reload removes from a server.
 *
 * @example Drain for 30 seconds, then close what is left
 * ```ts
 * import type { UpstreamRemoval } from "@minginx/minginx";
 *
 * const removal: UpstreamRemoval = { action: "drain", after: 30_000 };
 * ```
 */
export interface UpstreamRemoval {
  /**
   * `"drain"` lets its connections finish, closing those still open after `after` (if above 0).
   * `"close"` closes them at once, or with `after` above 0, drains first and closes the rest then.
   *
   * @default {"drain"}
   */
  action: "drain" | "close";
  /**
   * The deadline in milliseconds; 0 means none for `"drain"` and at once for `"close"`.
   *
   * @default {0}
   */
  after: number;
}

/**
 * One server in a config file: where it listens, and everything the command line's pool and
 * layer flags would say, with their defaults filled in.
 *
 * @example A server as the config file describes it
 * ```ts
 * import { validateConfig } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const { servers: [web] } = validateConfig({
 *   servers: [{ name: "web", listen: "127.0.0.1:8081", upstreams: ["10.0.0.1:80"] }],
 * });
 * assert.deepEqual(web.listen, [{ hostname: "127.0.0.1", port: 8081 }]);
 * assert.equal(web.balance, "round-robin");
 * assert.deepEqual(web.onUpstreamRemoved, { action: "drain", after: 0 });
 * ```
 */
export interface ServerConfig extends LayerFlags, PoolFlags, EdgeFlags, HttpFlags {
  /** Its name in logs and reloads; `server-<index>` unless the file gives one. */
  name: string;
  /** Where it listens: one address or more. */
  listen: Address[];
  /** Idle timeout in milliseconds; 0 for none. */
  idleTimeout: number;
  /** What happens to the connections of an upstream a reload removes. */
  onUpstreamRemoved: UpstreamRemoval;
}

/**
 * A whole config file, with defaults filled in.
 *
 * @example The smallest config
 * ```ts
 * import { validateConfig } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const config = validateConfig({
 *   servers: [{ listen: "127.0.0.1:8081", upstreams: ["127.0.0.1:8080"] }],
 * });
 * assert.equal(config.drainTimeout, 30_000);
 * assert.equal(config.servers[0].name, "server-0");
 * ```
 */
export interface Config {
  /**
   * After SIGINT or SIGTERM, how long open connections may take to finish, in milliseconds.
   *
   * @default {30_000}
   */
  drainTimeout: number;
  /** The lowest log level logged; read at startup only. */
  logLevel: typeof LOG_LEVELS[number];
  /** How log lines look; read at startup only. */
  logFormat: typeof LOG_FORMATS[number];
  /** A file the access log goes to instead of standard error; read at startup only. */
  accessLog?: string;
  /** Where the admin API listens; read at startup only. */
  admin?: Address;
  /** The token the admin API requires; read at startup only. */
  adminToken?: string;
  /** How many workers share the ports; read at startup only. */
  workers: number;
  /** The servers, one or more. */
  servers: ServerConfig[];
}

/**
 * Every mistake in a config file, each on a line of its own as `PATH: what is wrong`, such as
 * `servers[0].balanse: unknown key; did you mean "balance"?`. A reload that meets one keeps the
 * config it has.
 *
 * @example Catching every mistake at once
 * ```ts
 * import { ConfigError, validateConfig } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.throws(() => validateConfig({ servers: [{ listen: "127.0.0.1:8081" }], x: 1 }), (error) => {
 *   assert.ok(error instanceof ConfigError);
 *   assert.deepEqual(error.issues, [
 *     'x: unknown key; expected "$schema", "drainTimeout", "logLevel", "logFormat", ' +
 *       '"accessLog", "admin", "adminToken", "workers" or "servers"',
 *     'servers[0]: missing "upstreams"',
 *   ]);
 *   return true;
 * });
 * ```
 */
export class ConfigError extends Error {
  /** Each mistake, as `PATH: what is wrong`, in the order they were found. */
  readonly issues: readonly string[];
  /** The file, if known; it starts each line of the message. */
  readonly file?: string;

  /**
   * Creates the error; its message is the issues, a line each.
   *
   * @param issues Each mistake, as `PATH: what is wrong`.
   * @param file The file, if known.
   */
  constructor(issues: readonly string[], file?: string) {
    super(issues.map((issue) => file === undefined ? issue : `${file}: ${issue}`).join("\n"));
    this.name = "ConfigError";
    this.issues = issues;
    this.file = file;
  }
}
