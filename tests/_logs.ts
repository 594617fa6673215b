/** LogTape records collected in memory, for the tests of what minginx logs. */

import { configure, type LogRecord, reset } from "@logtape/logtape";

/** Runs `run` with LogTape sending every `minginx` record into `records`, then resets LogTape. */
export async function captureLogs(run: (records: LogRecord[]) => Promise<void>): Promise<void> {
  const records: LogRecord[] = [];
  await configure({
    sinks: { memory: (record) => records.push(record) },
    loggers: [
      { category: ["minginx"], lowestLevel: "debug", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  try {
    await run(records);
  } finally {
    await reset();
  }
}

/** The records of one category, such as `minginx.http`. */
export function recordsOf(records: LogRecord[], category = "minginx.http"): LogRecord[] {
  return records.filter((record) => record.category.join(".") === category);
}

/** The text of a record, its message parts joined. */
export function textOf(record: LogRecord): string {
  return record.message.join("");
}
