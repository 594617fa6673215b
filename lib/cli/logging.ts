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

/** What logging could not deliver while the CLI ran, for one line at exit. */
export interface LogLosses {
  /** Lines dropped because standard error did not drain in time. */
  dropped: number;
  /** Lines that failed to be formatted or written. */
  failed: number;
}

/**
 * Sends everything under the `minginx` category at `level` or above to standard error.
 * Needs no permission: no environment variable or file is read.
 *
 * Lines are buffered and written every 100 ms, off the connection path. If standard error stops
 * draining, at most 2,000 lines wait and the oldest are dropped: a stuck log reader never stalls
 * forwarding or grows memory without bound; what is lost is counted, for the CLI to report.
 *
 * @param level The lowest level logged.
 * @param format `pretty` for lines a person reads (coloured on a terminal), `json` for one JSON
 * object a line.
 * @returns Counters of the lines lost so far.
 */
export async function configureLogging(
  level: CliOptions["logLevel"],
  format: CliOptions["logFormat"],
): Promise<LogLosses> {
  const losses: LogLosses = { dropped: 0, failed: 0 };
  await configure({
    reset: true,
    sinks: {
      stderr: getStreamSink(Deno.stderr.writable, {
        formatter: formatterFor(format),
        closeStream: false, // standard error outlives logging: the CLI may still print to it
        nonBlocking: {
          bufferSize: 1_000,
          flushInterval: 100,
          onDrop: ({ count }) => losses.dropped += count,
          onError: () => losses.failed++,
        },
      }),
    },
    loggers: [
      { category: ["minginx"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
  return losses;
}

function formatterFor(format: CliOptions["logFormat"]): TextFormatter {
  if (format === "json") return jsonLinesFormatter;
  const options = { timestamp: "date-time-tz", category: ".", value: "bare" } as const;
  return Deno.stderr.isTerminal() ? getAnsiColorFormatter(options) : getTextFormatter(options);
}
