/**
 * The tls workload in the report: medians over the rounds for each proxy, minginx over nginx,
 * and the Markdown section that shows them.
 *
 * @module
 */

import { cell, fmt, share, times } from "./format.ts";
import type { BenchReport } from "./report.ts";
import { compare, type Ratio, type Spread, spreadOf, usedRuns } from "./stats.ts";
import type { RunCount } from "./summary.ts";
import { HANDSHAKE_CLIENTS, type TlsResult } from "./tls.ts";
import { TLS_TARGETS, type TlsTarget } from "./tls_proxies.ts";

// Above this share of their core busy, the clients (s_time or wrk, with the HTTP responder) may
// be what limits the rate: an OpenSSL client spends about what an OpenSSL server does on a full
// handshake, so on two cores nginx's handshake rate is often the clients'.
const CLIENTS_BUSY = 0.9;

/** The tls figures of one proxy, over the rounds. */
export interface TlsTargetSummary extends RunCount {
  /** Full handshakes per second, one request each. */
  handshakesPerSecond: Spread;
  /** The proxy's CPU time per handshake, in microseconds. */
  cpuUsPerHandshake: Spread | null;
  /** The kernel part of it. */
  systemUsPerHandshake: Spread | null;
  /** The share of its core the proxy used during the handshakes, 0 to 1. */
  handshakeCoreShare: Spread | null;
  /** The share of the clients' core that was busy during the handshakes, 0 to 1. */
  handshakeClientCoreBusy: Spread;
  /** Keep-alive requests per second over TLS. */
  requestsPerSecond: Spread;
  /** 99th percentile latency of those requests, in microseconds. */
  p99Us: Spread;
  /** The proxy's CPU time per keep-alive request, in microseconds. */
  cpuUsPerRequest: Spread | null;
  /** The kernel part of it. */
  systemUsPerRequest: Spread | null;
  /** The share of its core the proxy used during the keep-alive run, 0 to 1. */
  requestCoreShare: Spread | null;
  /** The share of wrk's core that was busy during the keep-alive run, 0 to 1. */
  keepAliveClientCoreBusy: Spread;
  /** wrk errors, summed over the runs used. */
  errors: number;
}

/** What the report shows of the tls workload. */
export interface TlsSummary {
  /** Each proxy's figures. */
  byTarget: Partial<Record<TlsTarget, TlsTargetSummary>>;
  /** minginx over nginx, by figure; `null` where either has none. */
  minginxVsNginx: {
    handshakesPerSecond: Ratio | null;
    cpuPerHandshake: Ratio | null;
    requestsPerSecond: Ratio | null;
    cpuPerRequest: Ratio | null;
  };
}

/**
 * Summarizes the tls runs. Runs disturbed by other processes are left out of a proxy's medians
 * when it has at least one undisturbed run.
 *
 * @param runs Every tls run, of every proxy and round.
 * @returns Medians, ranges and ratios.
 */
export function summarizeTls(runs: TlsResult[]): TlsSummary {
  const byTarget: TlsSummary["byTarget"] = {};
  for (const target of TLS_TARGETS) {
    const all = runs.filter((r) => r.target === target);
    if (all.length === 0) continue;
    const pick = (value: (r: TlsResult) => number | null) => spreadOf(runs, target, value);
    byTarget[target] = {
      runs: all.length,
      noisyRuns: all.filter((r) => r.noisy).length,
      handshakesPerSecond: pick((r) => r.handshakesPerSecond)!,
      cpuUsPerHandshake: pick((r) => r.cpuUsPerHandshake),
      systemUsPerHandshake: pick((r) => r.systemUsPerHandshake),
      handshakeCoreShare: pick((r) => r.handshakeCoreShare),
      handshakeClientCoreBusy: pick((r) => r.handshakeMachine.clientCoreBusy)!,
      requestsPerSecond: pick((r) => r.requestsPerSecond)!,
      p99Us: pick((r) => r.p99Us)!,
      cpuUsPerRequest: pick((r) => r.cpuUsPerRequest),
      systemUsPerRequest: pick((r) => r.systemUsPerRequest),
      requestCoreShare: pick((r) => r.requestCoreShare),
      keepAliveClientCoreBusy: pick((r) => r.keepAliveMachine.clientCoreBusy)!,
      errors: usedRuns(runs, target).reduce((sum, r) => sum + r.errors, 0),
    };
  }
  const ratio = (value: (r: TlsResult) => number | null) =>
    compare(runs, value, "minginx", "nginx");
  return {
    byTarget,
    minginxVsNginx: {
      handshakesPerSecond: ratio((r) => r.handshakesPerSecond),
      cpuPerHandshake: ratio((r) => r.cpuUsPerHandshake),
      requestsPerSecond: ratio((r) => r.requestsPerSecond),
      cpuPerRequest: ratio((r) => r.cpuUsPerRequest),
    },
  };
}

/**
 * The tls section: full handshakes and keep-alive requests through each TLS-terminating proxy,
 * and minginx over nginx.
 *
 * @param report The report.
 * @returns Markdown lines; none if the workload did not run.
 */
export function tlsSection({ options, tls }: BenchReport): string[] {
  const { byTarget, minginxVsNginx: ratios } = tls.summary;
  const targets = TLS_TARGETS.filter((t) => byTarget[t]);
  if (targets.length === 0) return [];
  const warmup = options.warmupSeconds > 0
    ? `after a ${options.warmupSeconds}s warm-up each`
    : "without warm-up";
  const lines = [
    `## TLS termination: ${options.durationSeconds}s of full handshakes, then ` +
    `${options.durationSeconds}s of keep-alive HTTPS, ${warmup}`,
    "",
    "minginx (`--tls-cert`, `--tls-key`) and nginx's stream proxy (`listen ... ssl`, TLS 1.2 " +
    "and 1.3) terminate TLS with the same EC P-256 certificate, made by openssl for the run, " +
    `in front of the HTTP responder. Handshakes: ${HANDSHAKE_CLIENTS} \`openssl s_time -new\` ` +
    "processes open one connection after another, each a full handshake (no session " +
    "resumption, which wrk would use) with one request and its response. Keep-alive: " +
    `wrk -t1 -c${options.connections} over HTTPS. Proxy CPU is user + system time of the ` +
    "proxy's processes per handshake or per request; the clients and the responder share the " +
    "other core.",
    "",
    "| target | handshakes/s | proxy CPU per handshake | of it in the kernel | " +
    "proxy core busy | s_time core busy | HTTPS requests/s | proxy CPU per request | " +
    "of it in the kernel | proxy core busy | wrk core busy |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const target of targets) {
    const s = byTarget[target]!;
    lines.push(
      `| ${target} | ${fmt(s.handshakesPerSecond, 0)} | ${cell(s.cpuUsPerHandshake, 1, "µs")} | ` +
        `${cell(s.systemUsPerHandshake, 1, "µs")} | ${share(s.handshakeCoreShare)} | ` +
        `${share(s.handshakeClientCoreBusy)} | ${fmt(s.requestsPerSecond, 0)} | ` +
        `${cell(s.cpuUsPerRequest, 2, "µs")} | ${cell(s.systemUsPerRequest, 2, "µs")} | ` +
        `${share(s.requestCoreShare)} | ${share(s.keepAliveClientCoreBusy)} |` +
        (s.errors > 0 ? ` **${s.errors} errors**` : ""),
    );
  }
  lines.push("");
  const notes: string[] = [];
  for (const target of targets) {
    const { runs, noisyRuns } = byTarget[target]!;
    if (noisyRuns === 0) continue;
    notes.push(
      `- ${target}: ${noisyRuns} of ${runs} runs were disturbed by other processes or the ` +
        `hypervisor; ${noisyRuns === runs ? "**all were used: treat with care**" : "left out"}`,
    );
  }
  const saturated = targets.filter((t) =>
    byTarget[t]!.handshakeClientCoreBusy.median >= CLIENTS_BUSY ||
    byTarget[t]!.keepAliveClientCoreBusy.median >= CLIENTS_BUSY
  );
  if (saturated.length > 0) {
    notes.push(
      `- The clients' core was over ${CLIENTS_BUSY * 100}% busy for ${saturated.join(", ")}: ` +
        "there the clients, not the proxy, may have set the rate, and a ratio of rates says " +
        "little. CPU per handshake and per request are still the proxy's own.",
    );
  }
  if (notes.length > 0) lines.push(...notes, "");
  if (byTarget.minginx && byTarget.nginx) {
    const row = (what: string, ratio: Ratio | null, a: Spread | null, b: Spread | null, d = 0) =>
      `| ${what} | ${cell(a, d)} | ${cell(b, d)} | ${times(ratio)} |`;
    const [m, n] = [byTarget.minginx, byTarget.nginx];
    lines.push(
      "| figure | minginx | nginx | minginx / nginx |",
      "|---|--:|--:|--:|",
      row(
        "TLS handshakes/s",
        ratios.handshakesPerSecond,
        m.handshakesPerSecond,
        n.handshakesPerSecond,
      ),
      row(
        "CPU per handshake (µs)",
        ratios.cpuPerHandshake,
        m.cpuUsPerHandshake,
        n.cpuUsPerHandshake,
        1,
      ),
      row(
        "HTTPS keep-alive requests/s",
        ratios.requestsPerSecond,
        m.requestsPerSecond,
        n.requestsPerSecond,
      ),
      row(
        "CPU per HTTPS request (µs)",
        ratios.cpuPerRequest,
        m.cpuUsPerRequest,
        n.cpuUsPerRequest,
        2,
      ),
      "",
    );
  }
  return lines;
}
