/**
 * The http-mode workload in the report: medians over the rounds for minginx with `--mode http`,
 * nginx's HTTP proxy and a direct connection, minginx over nginx, each proxy's rate over direct's,
 * and the Markdown section that shows them.
 *
 * @module
 */

import { cell, times } from "./format.ts";
import type { KeepAliveResult } from "./http_keepalive.ts";
import { HTTP_MODE_TARGETS, type HttpModeTarget, UPSTREAM_KEEPALIVE } from "./http_mode_proxies.ts";
import type { BenchReport } from "./report.ts";
import { keepAliveTable, warmup } from "./report_workloads.ts";
import { compare, type Ratio, type Spread } from "./stats.ts";
import { type KeepAliveSummary, summarizeKeepAlive } from "./summary.ts";

/** What the report shows of the http-mode workload. */
export interface HttpModeSummary {
  /** Each target's figures, as the keep-alive workload's. */
  byTarget: Partial<Record<HttpModeTarget, KeepAliveSummary>>;
  /** minginx over nginx, by figure; `null` where either has none. */
  minginxVsNginx: {
    requestsPerSecond: Ratio | null;
    cpuPerRequest: Ratio | null;
    p50Latency: Ratio | null;
    p99Latency: Ratio | null;
  };
  /** Each proxy's requests/s over a direct connection's; `null` where either has none. */
  requestsPerSecondVsDirect: { minginx: Ratio | null; nginx: Ratio | null };
}

/**
 * Summarizes the http-mode runs. Runs disturbed by other processes are left out of a target's
 * medians when it has at least one undisturbed run.
 *
 * @param runs Every http-mode run, of every target and round.
 * @returns Medians, ranges and ratios.
 */
export function summarizeHttpMode(runs: KeepAliveResult[]): HttpModeSummary {
  const ratio = (value: (r: KeepAliveResult) => number | null) =>
    compare(runs, value, "minginx", "nginx");
  const rate = (r: KeepAliveResult) => r.requestsPerSecond;
  return {
    byTarget: summarizeKeepAlive(runs) as HttpModeSummary["byTarget"],
    minginxVsNginx: {
      requestsPerSecond: ratio(rate),
      cpuPerRequest: ratio((r) => r.cpuUsPerRequest),
      p50Latency: ratio((r) => r.p50Us),
      p99Latency: ratio((r) => r.p99Us),
    },
    requestsPerSecondVsDirect: {
      minginx: compare(runs, rate, "minginx", "direct"),
      nginx: compare(runs, rate, "nginx", "direct"),
    },
  };
}

/**
 * The http-mode section: keep-alive requests through minginx in HTTP mode, nginx's HTTP proxy
 * and a direct connection, then minginx over nginx.
 *
 * @param report The report.
 * @returns Markdown lines; none if the workload did not run.
 */
export function httpModeSection({ options, httpMode }: BenchReport): string[] {
  const { byTarget, minginxVsNginx: ratios, requestsPerSecondVsDirect: vsDirect } =
    httpMode.summary;
  if (!HTTP_MODE_TARGETS.some((t) => byTarget[t])) return [];
  const lines = [
    `## HTTP mode: wrk -t1 -c${options.connections} -d${options.durationSeconds}s ` +
    `${warmup(options.warmupSeconds)}, 13-byte responses`,
    "",
    "Keep-alive HTTP requests through proxies that parse every request and response instead " +
    "of forwarding bytes: minginx with `--mode http` (its defaults otherwise: up to " +
    `${UPSTREAM_KEEPALIVE} idle upstream connections, the X-Forwarded-* fields set) and ` +
    "nginx's HTTP proxy (one worker, `access_log off`, `proxy_pass` to an `upstream` with " +
    `\`keepalive ${UPSTREAM_KEEPALIVE}\`, \`proxy_http_version 1.1\`, ` +
    '`proxy_set_header Connection ""`), in front of the same HTTP responder; direct is wrk ' +
    "straight to the responder. Proxy CPU is user + system time of the proxy's processes over " +
    "the measured run, divided by the requests wrk completed; softirq is interrupt time on the " +
    "proxy's core per request. wrk and the HTTP responder share the other core.",
    "",
    ...(options.connections > UPSTREAM_KEEPALIVE
      ? [
        `Both pools keep at most ${UPSTREAM_KEEPALIVE} idle upstream connections, fewer than ` +
        `wrk's ${options.connections}: a proxy that has more requests at the upstream at once ` +
        "closes the connections above that as they go idle and opens new ones for later " +
        "requests, and pays for it in CPU per request.",
        "",
      ]
      : []),
    ...keepAliveTable(byTarget),
  ];
  const [m, n] = [byTarget.minginx, byTarget.nginx];
  if (m && n) {
    const row = (what: string, ratio: Ratio | null, a: Spread | null, b: Spread | null, d = 0) =>
      `| ${what} | ${cell(a, d)} | ${cell(b, d)} | ${times(ratio)} |`;
    lines.push(
      "| figure | minginx | nginx | minginx / nginx |",
      "|---|--:|--:|--:|",
      row(
        "HTTP-mode requests/s",
        ratios.requestsPerSecond,
        m.requestsPerSecond,
        n.requestsPerSecond,
      ),
      row(
        "CPU per HTTP-mode request (µs)",
        ratios.cpuPerRequest,
        m.cpuUsPerRequest,
        n.cpuUsPerRequest,
        2,
      ),
      row("HTTP-mode p50 latency (µs)", ratios.p50Latency, m.p50Us, n.p50Us),
      row("HTTP-mode p99 latency (µs)", ratios.p99Latency, m.p99Us, n.p99Us),
      "",
    );
    if (options.rounds > 1) {
      lines.push(
        "Ratios are of the medians; in brackets, the range of the ratios within each round.",
        "",
      );
    }
  }
  const kept = (["minginx", "nginx"] as const)
    .filter((t) => vsDirect[t])
    .map((t) => `${t} ${times(vsDirect[t])}`);
  if (kept.length > 0) {
    lines.push(`Requests/s against a direct connection's: ${kept.join(", ")}.`, "");
  }
  return lines;
}
