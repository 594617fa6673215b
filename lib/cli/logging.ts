/**
 * Logging for the CLI: LogTape to standard error, as readable lines or as one JSON object a line.
 * The library only ever calls `getLogger`; configuring sinks is the application's job.
 *
 * @module
 */

import {
  configure,
  getAnsiColorFormatter,
  getTextFormatter,
  jsonLinesFormatter,
  type LogRecord,
  type Sink,
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
 * Lines are buffered and written every 100 ms, off the connection path, all waiting lines in one
 * write (a write per line cannot keep up with thousands of connections ending at once). If
 * standard error stops draining, at most {@linkcode MAX_WAITING_LINES} lines wait and the oldest
 * are dropped: a stuck log reader never stalls forwarding or grows memory without bound; what is
 * lost is counted, for the CLI to report.
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
      stderr: batchedStderr(formatterFor(format), losses),
    },
    loggers: [
      { category: ["minginx"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
  return losses;
}

/** The most log lines that wait for standard error; about 2 MB of text. */
export const MAX_WAITING_LINES = 10_000;
const FLUSH_MS = 100;

/** A sink that writes what waited in one write every {@linkcode FLUSH_MS}, one write at a time. */
function batchedStderr(formatter: TextFormatter, losses: LogLosses): Sink & AsyncDisposable {
  const encoder = new TextEncoder();
  let waiting: string[] = [];
  let writing: Promise<void> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const schedule = () => {
    if (timer !== undefined || writing !== undefined) return;
    timer = setTimeout(flush, FLUSH_MS);
    Deno.unrefTimer(timer); // logging alone keeps no process alive; dispose() flushes at exit
  };
  const flush = () => {
    timer = undefined;
    if (waiting.length === 0 || writing !== undefined) return;
    const bytes = encoder.encode(waiting.join(""));
    waiting = [];
    writing = writeAll(bytes).catch(() => void losses.failed++).finally(() => {
      writing = undefined;
      if (waiting.length > 0) schedule();
    });
  };
  const sink = (record: LogRecord) => {
    try {
      waiting.push(formatter(record));
    } catch {
      losses.failed++;
      return;
    }
    if (waiting.length > MAX_WAITING_LINES) {
      losses.dropped += waiting.length - MAX_WAITING_LINES;
      waiting = waiting.slice(-MAX_WAITING_LINES);
    }
    schedule();
  };
  return Object.assign(sink, {
    async [Symbol.asyncDispose]() {
      clearTimeout(timer);
      await writing;
      flush();
      await writing;
    },
  });
}

async function writeAll(bytes: Uint8Array): Promise<void> {
  for (let written = 0; written < bytes.length;) {
    written += await Deno.stderr.write(bytes.subarray(written));
  }
}

function formatterFor(format: CliOptions["logFormat"]): TextFormatter {
  if (format === "json") return jsonLinesFormatter;
  const options = { timestamp: "date-time-tz", category: ".", value: "bare" } as const;
  return Deno.stderr.isTerminal() ? getAnsiColorFormatter(options) : getTextFormatter(options);
}
