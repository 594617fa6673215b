/** The CLI's access log, read back from JSON lines: reports, their reasons, and lines lost. */

import assert from "node:assert/strict";
import type { Address } from "../../mod.ts";
import type { CliProcess } from "../_cli.ts";
import { within } from "../_helpers.ts";

/** A connection's report as the CLI's access log wrote it (`--log-format json`). */
export interface LoggedReport {
  client: string;
  upstream: string | null;
  reason: string;
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
  error?: string;
}

const ACCESS = '"logger":"minginx.access"';

/** The access log lines so far, parsed. */
export function accessReports(lines: readonly string[]): LoggedReport[] {
  return lines.filter((line) => line.includes(ACCESS)).map((line) => JSON.parse(line).properties);
}

/**
 * Stops the CLI with SIGTERM and returns how many access log lines it lost: its logging drops
 * lines rather than block when standard error does not keep up, and says how many at exit.
 */
export async function stopAndCountLost(proxy: CliProcess): Promise<number> {
  proxy.child.kill("SIGTERM");
  const status = await within(10_000, "the CLI to stop", proxy.exit());
  assert.equal(status.code, 0, `the CLI exited with ${status.code}`);
  const lost = proxy.lines.map((line) => line.match(/lost (\d+) log lines/)).find(Boolean);
  return lost ? Number(lost[1]) : 0;
}

/** How many reports have each reason, such as `{ client_closed: 12, idle_timeout: 3 }`. */
export function tally(reports: readonly LoggedReport[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { reason } of reports) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}

/** The reports of connections forwarded to `upstream`. */
export function to(reports: readonly LoggedReport[], upstream: Address): LoggedReport[] {
  const address = `${upstream.hostname}:${upstream.port}`;
  return reports.filter((report) => report.upstream === address);
}
