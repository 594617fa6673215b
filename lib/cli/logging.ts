/**
 * Logging for the CLI: LogTape to standard error, as readable lines or as one JSON object a line.
 * The library only ever calls `getLogger`; configuring sinks is the application's job.
 *
 * @module
 */

import {
  configure,
  getAnsiColorFormatter,
  getStreamSink,
  getTextFormatter,
  jsonLinesFormatter,
  type TextFormatter,
} from "@logtape/logtape";
import type { CliOptions } from "./args.ts";

/**
 * Sends everything under the `minginx` category at `level` or above to standard error.
 * Needs no permission: no environment variable or file is read.
 *
 * Lines are buffered and written every 100 ms, off the connection path. If standard error stops
 * draining, at most 2,000 lines wait and the oldest are dropped: a stuck log reader never stalls
 * forwarding or grows memory without bound.
 *
 * @param level The lowest level logged.
 * @param format `pretty` for lines a person reads (coloured on a terminal), `json` for one JSON
 * object a line.
 */
export async function configureLogging(
  level: CliOptions["logLevel"],
  format: CliOptions["logFormat"],
): Promise<void> {
  await configure({
    reset: true,
    sinks: {
      stderr: getStreamSink(Deno.stderr.writable, {
        formatter: formatterFor(format),
        closeStream: false, // standard error outlives logging: the CLI may still print to it
        nonBlocking: { bufferSize: 1_000, flushInterval: 100 },
      }),
    },
    loggers: [
      { category: ["minginx"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}

function formatterFor(format: CliOptions["logFormat"]): TextFormatter {
  if (format === "json") return jsonLinesFormatter;
  const options = { timestamp: "date-time-tz", category: ".", value: "bare" } as const;
  return Deno.stderr.isTerminal() ? getAnsiColorFormatter(options) : getTextFormatter(options);
}
