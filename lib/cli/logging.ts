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
import { writeAll } from "../byte_stream.ts";
import { LogFile } from "./log_file.ts";

/** What logging could not deliver while the CLI ran, for one line at exit. */
export interface LogLosses {
  /** Lines dropped because standard error did not drain in time. */
  dropped: number;
  /** Lines that failed to be formatted or written. */
  failed: number;
}

/**
 * Sends everything under the `minginx` category at `level` or above to standard error.
 * Needs no permission: no environment variable or file is read. With `accessLog`, the access
 * log's lines go to that file instead (appended; `--allow-write` for it), at every level.
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
 * @param accessLog A file for the access log (`--access-log`), if any.
 * @returns Counters of the lines lost so far.
 * @throws If the access log cannot be opened; the message names it.
 */
export async function configureLogging(
  level: CliOptions["logLevel"],
  format: CliOptions["logFormat"],
  accessLog?: string,
): Promise<LogLosses> {
  const losses: LogLosses = { dropped: 0, failed: 0 };
  const formatter = formatterFor(format);
  const sinks: Record<string, Sink> = { stderr: batched(formatter, losses, writeStderr) };
  const loggers: Parameters<typeof configure>[0]["loggers"] = [
    { category: ["minginx"], lowestLevel: level, sinks: ["stderr"] },
    { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
  ];
  accessFile = undefined;
  if (accessLog !== undefined) {
    const file = accessFile = new LogFile(accessLog);
    const plain = format === "json" ? jsonLinesFormatter : getTextFormatter(TEXT_OPTIONS);
    sinks.access = batched(plain, losses, (bytes) => file.write(bytes), () => file.close());
    loggers.push({
      category: ["minginx", "access"],
      lowestLevel: "info", // every connection's line, whatever --log-level says
      sinks: ["access"],
      parentSinks: "override",
    });
  }
  await configure({ reset: true, sinks, loggers });
  return losses;
}

let accessFile: LogFile | undefined;

/**
 * Opens the `--access-log` file again, as SIGUSR2 asks after a rotation; does nothing without
 * one.
 *
 * @returns Whether there was a file to reopen.
 * @throws The error of opening it; the old file then stays in use.
 */
export async function reopenAccessLog(): Promise<boolean> {
  if (!accessFile) return false;
  await accessFile.reopen();
  return true;
}

/** The most log lines that wait for standard error; about 2 MB of text. */
export const MAX_WAITING_LINES = 10_000;
const FLUSH_MS = 100;

/** A sink that writes what waited in one write every {@linkcode FLUSH_MS}, one write at a time. */
function batched(
  formatter: TextFormatter,
  losses: LogLosses,
  writeAll: (bytes: Uint8Array) => Promise<void>,
  close?: () => Promise<void>,
): Sink & AsyncDisposable {
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
      await close?.();
    },
  });
}

function writeStderr(bytes: Uint8Array): Promise<void> {
  return writeAll(Deno.stderr, bytes);
}

const TEXT_OPTIONS = { timestamp: "date-time-tz", category: ".", value: "bare" } as const;

function formatterFor(format: CliOptions["logFormat"]): TextFormatter {
  if (format === "json") return jsonLinesFormatter;
  return Deno.stderr.isTerminal()
    ? getAnsiColorFormatter(TEXT_OPTIONS)
    : getTextFormatter(TEXT_OPTIONS);
}
