/**
 * Private helpers shared by the library's files; not exported from mod.ts.
 *
 * @module
 */

/**
 * The message of anything thrown: an `Error`'s message, or the value as text.
 *
 * @param error What was thrown.
 * @returns Text for a log line or a report.
 */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
