/** Shorthands for the ipFilter() tests: rules, and what a denied connection's report holds. */

import assert from "node:assert/strict";
import type { ConnectionReport, IpRule } from "../mod.ts";

/** An allow rule. */
export const allow = (cidr: string): IpRule => ({ action: "allow", cidr });
/** A deny rule. */
export const deny = (cidr: string): IpRule => ({ action: "deny", cidr });

/** The report of a connection denied before any upstream, with `message` as its error. */
export function assertDenied(report: ConnectionReport | undefined, message: string): void {
  assert.ok(report);
  assert.equal(report.reason, "denied");
  assert.equal(report.error, message);
  assert.equal(report.upstream, null);
}
