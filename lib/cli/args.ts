/**
 * The command line: flags, their defaults, the help text, and usage errors.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { messageOf } from "../_util.ts";
import { type Address, parseAddress } from "../address.ts";
import { isLoopback } from "../ip.ts";
import { durationFlag, oneOfFlag } from "./_flag_values.ts";
import { EDGE_FLAGS, type EdgeFlags, parseEdgeFlags } from "./edge_flags.ts";
import { HTTP_FLAGS, type HttpFlags, parseHttpFlags, tcpOnly } from "./http_flags.ts";
import { LAYER_FLAGS, type LayerFlags, parseLayerFlags } from "./layer_flags.ts";
import { parsePoolFlags, POOL_FLAGS, type PoolFlags } from "./pool_flags.ts";

/** A mistake in the command line; the CLI prints its message and exits with code 2. */
export class UsageError extends Error {
  /**
   * @param message What is wrong and what would be accepted.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The log levels the CLI accepts. */
export const LOG_LEVELS = ["debug", "info", "warning", "error"] as const;
/** The log formats the CLI accepts. */
export const LOG_FORMATS = ["pretty", "json"] as const;

/** Everything the command line says, with defaults filled in. */
export interface CliOptions extends LayerFlags, PoolFlags, EdgeFlags, HttpFlags {
  /** Where to listen. */
  listen: Address;
  /** Idle timeout in milliseconds; 0 for none. */
  idleTimeout: number;
  /**
   * After SIGINT or SIGTERM, how long open connections may take to finish, in milliseconds; those
   * still open then are closed with reason `shutdown`. 0 closes them at once.
   */
  drainTimeout: number;
  /** The lowest level logged. */
  logLevel: typeof LOG_LEVELS[number];
  /** How log lines look. */
  logFormat: typeof LOG_FORMATS[number];
  /** `--access-log`: a file the access log goes to instead of standard error. */
  accessLog?: string;
  /** `--admin`: where the admin API (metrics, status, status page) listens; off if absent. */
  admin?: Address;
  /** `--admin-token`: the bearer token the admin API requires; needed beyond loopback. */
  adminToken?: string;
  /** How many Workers share the listening port; 1 runs the proxy on the main thread. */
  workers: number;
  /** `--config`: the config file to run, if any. */
  config: string | undefined;
  /** `--watch`: reload when the config file changes. */
  watch: boolean;
  /** The long names of the flags given, each once, in order. */
  given: string[];
  /** `-h, --help` was given. */
  help: boolean;
  /** `-V, --version` was given. */
  version: boolean;
}

/** The defaults, as the help text shows them. */
export const DEFAULTS = {
  listen: "127.0.0.1:8081",
  idleTimeout: 600_000,
  drainTimeout: 30_000,
  logLevel: "info",
  logFormat: "pretty",
  workers: 1,
} as const;

/** The most workers `--workers` accepts. */
export const MAX_WORKERS = 256;

/**
 * Parses the command line.
 *
 * @param args The arguments after the script name.
 * @returns The options, with defaults filled in.
 * @throws {UsageError} For an unknown flag, a missing value, or a malformed value.
 */
export function parseCliArgs(args: string[]): CliOptions {
  const { values, positionals, tokens } = parseFlags(args);
  if (positionals.length > 0) {
    throw new UsageError(`Unexpected argument "${positionals[0]}": options start with - or --`);
  }
  try {
    return {
      listen: parseAddress(values.listen ?? DEFAULTS.listen, {
        label: "--listen",
        allowPortZero: true,
      }),
      ...parsePoolFlags(values),
      idleTimeout: durationFlag(values, "idle-timeout", DEFAULTS.idleTimeout, true),
      drainTimeout: durationFlag(values, "drain-timeout", DEFAULTS.drainTimeout, true),
      logLevel: oneOfFlag(values, "log-level", LOG_LEVELS, DEFAULTS.logLevel),
      logFormat: oneOfFlag(values, "log-format", LOG_FORMATS, DEFAULTS.logFormat),
      ...(values["access-log"] === undefined
        ? {}
        : { accessLog: accessLogFlag(values["access-log"]) }),
      workers: workersFlag(values.workers),
      ...adminFlags(values.admin, values["admin-token"]),
      ...edgeAndHttpFlags(values, parseLayerFlags(values, tokens)),
      config: values.config,
      watch: values.watch ?? false,
      given: [...new Set(tokens.flatMap((token) => token.kind === "option" ? [token.name] : []))],
      help: values.help ?? false,
      version: values.version ?? false,
    };
  } catch (error) {
    throw error instanceof TypeError ? new UsageError(error.message) : error;
  }
}

function parseFlags(args: string[]) {
  // parseArgs splits "-hV" into -h -V in time that grows with the square of the group's length.
  const end = args.indexOf("--");
  const group = (end < 0 ? args : args.slice(0, end))
    .find((arg) => /^-[^lubwc-][^lubwc]{15}/.test(arg));
  if (group) {
    throw new UsageError(`Unknown option "${group}": expected one of the options in --help`);
  }
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      tokens: true,
      options: {
        ...LAYER_FLAGS,
        ...POOL_FLAGS,
        ...EDGE_FLAGS,
        ...HTTP_FLAGS,
        listen: { type: "string", short: "l" },
        "idle-timeout": { type: "string" },
        "drain-timeout": { type: "string" },
        "log-level": { type: "string" },
        "log-format": { type: "string" },
        "access-log": { type: "string" },
        admin: { type: "string" },
        "admin-token": { type: "string" },
        workers: { type: "string", short: "w" },
        config: { type: "string", short: "c" },
        watch: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        version: { type: "boolean", short: "V" },
      },
    });
  } catch (error) {
    throw new UsageError(describeParseError(error));
  }
}

function describeParseError(error: unknown): string {
  const message = messageOf(error);
  const code = (error as { code?: string }).code;
  const flag = message.match(/^Unknown option '([\s\S]*)'\. To specify/)?.[1] ??
    message.match(/'(-[^'\s]*)/)?.[1] ?? message;
  const long = message.match(/--[a-z-]+/)?.[0] ?? flag;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    return `Unknown option "${flag}": expected one of the options in --help`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    return message.includes("argument missing") || message.includes("argument is ambiguous")
      ? `Option "${long}" needs a value: see --help`
      : `Option "${long}" takes no value: expected "${long}" alone`;
  }
  return message;
}

/** The layer, edge and HTTP flags, which must go together: HTTP mode cannot use them all. */
function edgeAndHttpFlags(
  values: Parameters<typeof parseEdgeFlags>[0],
  layers: LayerFlags,
): LayerFlags & EdgeFlags & HttpFlags {
  const edge = parseEdgeFlags(values);
  const http = parseHttpFlags(values);
  const [conflict] = http.mode === "http" ? tcpOnly({ ...edge, ...layers }) : [];
  if (conflict) {
    throw new UsageError(`Option ${conflict.flag} does not go with --mode http: ${conflict.why}`);
  }
  return { ...layers, ...edge, ...http };
}

function workersFlag(text: string | undefined): number {
  if (text === undefined) return DEFAULTS.workers;
  if (text === "auto") return Math.min(navigator.hardwareConcurrency, MAX_WORKERS);
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_WORKERS) {
    throw new UsageError(
      `Cannot parse --workers "${text}": expected a whole number from 1 to ${MAX_WORKERS}, or auto`,
    );
  }
  return n;
}

function accessLogFlag(path: string): string {
  if (path === "") throw new UsageError('Cannot parse --access-log "": expected a file path');
  return path;
}

function adminFlags(
  admin: string | undefined,
  token: string | undefined,
): Pick<CliOptions, "admin" | "adminToken"> {
  if (admin === undefined) {
    if (token !== undefined) throw new UsageError("Option --admin-token needs --admin: add it");
    return {};
  }
  const address = parseAddress(admin, { label: "--admin", allowPortZero: true });
  if (token === "") throw new UsageError('Cannot parse --admin-token "": expected a token');
  const problem = adminProblem(address, token, "--admin-token");
  if (problem) throw new UsageError(`Option --admin ${admin} ${problem}`);
  return token === undefined ? { admin: address } : { admin: address, adminToken: token };
}

/**
 * What is wrong with an admin address and token: an address beyond loopback needs a token.
 *
 * @param admin The address.
 * @param token The token, if any.
 * @param tokenName How the token is set, for the message: a flag or a config key.
 * @returns `undefined`, or the end of a sentence that names the address.
 */
export function adminProblem(
  admin: Address,
  token: string | undefined,
  tokenName: string,
): string | undefined {
  if (token !== undefined || isLoopback(admin.hostname)) return undefined;
  return `listens beyond loopback, which needs a token: add ${tokenName}, or listen on 127.0.0.1`;
}
