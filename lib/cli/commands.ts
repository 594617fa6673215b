/**
 * The subcommands: `main.ts check --config FILE` validates a config and summarizes it, as
 * `nginx -t` does, and `main.ts permissions` prints the least `--allow-net` a config or a set of
 * flags needs, with command lines ready to run.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { messageOf } from "../_util.ts";
import type { Config, ServerConfig } from "../config/config.ts";
import { type CliOptions, parseCliArgs, UsageError } from "./args.ts";
import { configFromFlags, describeConfig, loadConfig, withFlags } from "./config_file.ts";
import { fileNeeds, netNeeds, permissionsText } from "./permissions.ts";
import { checkReadPermissions } from "./preflight.ts";
import { readCertificateFiles, readPemFile, TlsCertificates } from "../tls/certificates.ts";

/** The subcommands, by name: each takes the arguments after its name and returns an exit code. */
export const COMMANDS: Record<string, (args: string[]) => Promise<number>> = { check, permissions };

/**
 * `main.ts check --config FILE [flags]`: prints the listeners and pools and exits 0, or prints
 * every mistake and exits 1. TLS certificates and keys are loaded too, as a start would; reading
 * them needs `--allow-read` for each (exit 2 names it).
 */
async function check(args: string[]): Promise<number> {
  const options = parse(args);
  if (options === undefined) return 2;
  if (options.config === undefined) {
    console.error("Command check needs --config FILE: the config file to check");
    return 2;
  }
  const config = await load(options);
  if (typeof config === "number") return config;
  const missing = await checkReadPermissions(fileNeeds(config.servers));
  if (missing) {
    console.error(missing);
    return 2;
  }
  const broken = config.servers.flatMap((server) => tlsProblems(server));
  if (broken.length > 0) {
    console.error(broken.map((problem) => `${options.config}: ${problem}`).join("\n"));
    return 1;
  }
  console.log(describeConfig(options.config, config).trimEnd());
  return 0;
}

/** What is wrong with a server's TLS files, as loading them for real finds it. */
function tlsProblems(server: ServerConfig): string[] {
  const problems: string[] = [];
  const attempt = (load: () => unknown) => {
    try {
      load();
    } catch (error) {
      problems.push(`${server.name}: ${messageOf(error)}`);
    }
  };
  if (server.tls.length) attempt(() => new TlsCertificates(readCertificateFiles(server.tls)));
  const ca = server.upstreamTls?.ca;
  if (ca !== undefined) attempt(() => readPemFile(ca, "CA file"));
  return problems;
}

/**
 * `main.ts permissions [--config FILE] [flags]`: prints the minimal `--allow-net` and the
 * `deno run` and `deno compile` lines for that config or those flags.
 */
async function permissions(args: string[]): Promise<number> {
  const options = parse(args);
  if (options === undefined) return 2;
  const config = options.config === undefined ? configFromFlags(options) : await load(options);
  if (typeof config === "number") return config;
  const text = permissionsText({
    needs: netNeeds(config.servers, config.admin),
    configFile: options.config,
    files: fileNeeds(config.servers),
    accessLog: config.accessLog,
    args,
    workers: options.workers,
    codeDir: fileURLToPath(new URL("../", import.meta.url)).replace(/\/$/, ""),
    discovery: {
      sources: config.servers.flatMap(({ discover }) =>
        discover.flatMap(({ kind, text }) => kind === "file" ? [] : [text])
      ),
      systemResolver: config.servers.some(({ discover, resolver }) =>
        !resolver && discover.some(({ kind }) => kind !== "file")
      ),
    },
  });
  console.log(text.trimEnd());
  return 0;
}

function parse(args: string[]): CliOptions | undefined {
  try {
    return parseCliArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    return undefined;
  }
}

/** The config file with the flags over it, or the exit code after printing why not. */
async function load(options: CliOptions & { config?: string }): Promise<Config | number> {
  try {
    return withFlags(await loadConfig(options.config!), options);
  } catch (error) {
    console.error(messageOf(error));
    return error instanceof UsageError ? 2 : 1;
  }
}
