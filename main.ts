/**
 * The minginx command line: `deno run --allow-net=LISTEN,UPSTREAM main.ts [options]`.
 * Run it with `--help` for the options.
 *
 * @module
 */

import { dispose, getLogger } from "@logtape/logtape";
import denoJson from "./deno.json" with { type: "json" };
import { messageOf } from "./lib/_util.ts";
import { type Address, formatAddress } from "./lib/address.ts";
import { helpText, parseCliArgs, UsageError } from "./lib/cli/args.ts";
import { configureLogging, type LogLosses } from "./lib/cli/logging.ts";
import { checkNetPermissions } from "./lib/cli/preflight.ts";
import type { Connection } from "./lib/connection.ts";
import { formatDuration } from "./lib/duration.ts";
import { forward } from "./lib/forward.ts";
import { accessLog } from "./lib/middleware/access_log.ts";
import { timeout } from "./lib/middleware/timeout.ts";
import type { ConnectionReport } from "./lib/report.ts";
import { serve } from "./lib/serve.ts";
import type { Server } from "./lib/server.ts";
import { ServiceBuilder } from "./lib/service.ts";

const DRAIN_MS = 10_000;
const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Hooks for programs that run the CLI in-process, such as the demo. */
export interface MainHooks {
  /** Called once the proxy listens, with its address. */
  onListening?: (address: Address) => void;
}

/**
 * Runs the proxy until SIGINT or SIGTERM, then drains it.
 *
 * @param args The command-line arguments.
 * @param hooks Called at points of the run.
 * @returns The exit code: 0 after a clean stop or `--help`, 1 if it cannot listen, 2 for a usage
 * or permission error.
 */
export async function main(args: string[], hooks: MainHooks = {}): Promise<number> {
  let options;
  try {
    options = parseCliArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    return 2;
  }
  if (options.help) {
    console.log(helpText(denoJson.version));
    return 0;
  }
  if (options.version) {
    console.log(`minginx ${denoJson.version}`);
    return 0;
  }
  const { listen, upstreams } = options;
  const missing = await checkNetPermissions([
    { address: listen, role: "listen" },
    ...upstreams.map((address) => ({ address, role: "upstream" as const })),
  ]);
  if (missing) {
    console.error(missing);
    return 2;
  }

  const losses = await configureLogging(options.logLevel, options.logFormat);
  let server: Server;
  try {
    server = serve({
      listen,
      drainTimeout: DRAIN_MS,
      service: new ServiceBuilder<Connection, ConnectionReport>()
        .layer(accessLog())
        .layer(timeout({ connect: options.connectTimeout, idle: options.idleTimeout }))
        .service(forward({ upstreams })),
    });
  } catch (error) {
    await dispose();
    console.error(messageOf(error));
    return 1;
  }
  const log = getLogger(["minginx"]);
  log.info("minginx {version} listening on {listen}, forwarding to {upstreams}", {
    version: denoJson.version,
    listen: formatAddress(server.address),
    upstreams: upstreams.map(formatAddress).join(", "),
  });
  hooks.onListening?.(server.address);

  let signals = 0;
  const onSignal = () => {
    if (++signals === 1) {
      log.info("Stopping: no new connections; {open} open get {drain} to finish", {
        open: server.connections,
        drain: formatDuration(DRAIN_MS),
      });
      server.shutdown(DRAIN_MS);
    } else {
      log.warning("Stopping now: closing {open} open connections", { open: server.connections });
      server.shutdown(0);
    }
  };
  for (const signal of SIGNALS) Deno.addSignalListener(signal, onSignal);
  await server.finished;
  for (const signal of SIGNALS) Deno.removeSignalListener(signal, onSignal);
  log.info("Stopped");
  await dispose();
  reportLosses(losses);
  return 0;
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
