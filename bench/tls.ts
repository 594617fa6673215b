/**
 * The tls workload: minginx and nginx each terminate TLS with the same certificate in front of
 * the HTTP responder, and two runs measure them. First full handshakes: `openssl s_time -new`
 * processes open one connection after another, each a new TLS session with one request; the
 * proxy's CPU time is divided by the connections completed. Then keep-alive HTTPS: wrk over
 * TLS connections opened once, the proxy's CPU time divided by the requests completed.
 *
 * @module
 */

import { makeCertificates } from "../tests/_tls.ts";
import { type MachineLoad, machineLoad } from "./http_keepalive.ts";
import { CpuMeter, noiseNote, percent, type RunCpu } from "./meter.ts";
import { HOST } from "./net.ts";
import { measureRounds, type RoundsOptions } from "./rounds.ts";
import { runHandshakes } from "./s_time.ts";
import { startTlsProxy, TLS_TARGETS, type TlsTarget } from "./tls_proxies.ts";
import { runWrk, warmUp } from "./wrk.ts";
import type { WrkLoadOptions } from "./wrk_load.ts";

/** How many `openssl s_time` processes open connections at once. */
export const HANDSHAKE_CLIENTS = 8;

/** How the tls workload runs: as the wrk workloads, with the certificate both proxies serve. */
export interface TlsOptions extends WrkLoadOptions {
  /** The certificate both proxies serve. */
  certFile: string;
  /** The key's file. */
  keyFile: string;
}

/** What the tls workload measured for one target in one round. */
export interface TlsResult {
  /** Which proxy. */
  target: TlsTarget;
  /** The round, counted from 1. */
  round: number;
  /** Full handshakes completed, one request and response each. */
  handshakes: number;
  /** Handshakes completed per second. */
  handshakesPerSecond: number;
  /** The proxy's CPU time per handshake, in microseconds. */
  cpuUsPerHandshake: number | null;
  /** The part of it spent in the kernel. */
  systemUsPerHandshake: number | null;
  /** The share of its core the proxy used during the handshake run, 0 to 1. */
  handshakeCoreShare: number | null;
  /** The rest of the machine during the handshake run, per handshake. */
  handshakeMachine: MachineLoad;
  /** Keep-alive requests completed over TLS. */
  requests: number;
  /** Requests per second. */
  requestsPerSecond: number;
  /** 99th percentile latency of the requests, in microseconds. */
  p99Us: number;
  /** wrk's socket errors and non-2xx responses. */
  errors: number;
  /** The proxy's CPU time per keep-alive request, in microseconds. */
  cpuUsPerRequest: number | null;
  /** The part of it spent in the kernel. */
  systemUsPerRequest: number | null;
  /** The share of its core the proxy used during the keep-alive run, 0 to 1. */
  requestCoreShare: number | null;
  /** The rest of the machine during the keep-alive run, per request. */
  keepAliveMachine: MachineLoad;
  /** Whether other processes or the hypervisor disturbed either run. */
  noisy: boolean;
  /** The raw CPU readings of the two runs. */
  cpu: { handshakes: RunCpu; keepAlive: RunCpu };
}

/**
 * Makes a certificate for 127.0.0.1 and measures each of the targets that can terminate TLS
 * ({@linkcode TLS_TARGETS}) in every round; the others are left out.
 *
 * @param rounds The targets, rounds, and where failures and progress go.
 * @param options The load; the certificate is filled in.
 * @returns Every result, in the order measured.
 */
export async function measureTlsRounds(
  rounds: RoundsOptions,
  options: Omit<TlsOptions, "certFile" | "keyFile" | "round">,
): Promise<TlsResult[]> {
  const targets = rounds.targets.filter((t) => (TLS_TARGETS as readonly string[]).includes(t));
  if (targets.length === 0) {
    rounds.progress(`${rounds.title}: skipped, only ${TLS_TARGETS.join(" and ")} terminate TLS`);
    return [];
  }
  await using certs = await makeCertificates(["127.0.0.1"]);
  const { certFile, keyFile } = certs.leaves["127.0.0.1"];
  return await measureRounds(
    { ...rounds, targets },
    (target, round, log) =>
      measureTls(target as TlsTarget, { ...options, certFile, keyFile, round }, log),
  );
}

/**
 * Starts a proxy terminating TLS in front of the HTTP responder, measures full handshakes and
 * then keep-alive requests through it, each after a warm-up, and stops it.
 *
 * @param target Which proxy.
 * @param options The upstream, the certificate, the load and the CPUs.
 * @param progress Receives a line for each step.
 * @returns The figures.
 * @throws {Error} If a client fails, or a warm-up completes nothing or has errors.
 */
export async function measureTls(
  target: TlsTarget,
  options: TlsOptions,
  progress: (line: string) => void,
): Promise<TlsResult> {
  const proxy = await startTlsProxy(target, {
    upstreamPort: options.upstreamPort,
    cpus: options.proxyCpus,
    maxSockets: 2 * Math.max(options.connections, HANDSHAKE_CLIENTS) + 100,
    certFile: options.certFile,
    keyFile: options.keyFile,
  });
  const meter = () =>
    CpuMeter.start({
      proxyPid: proxy.pid,
      proxyCore: Number.parseInt(options.proxyCpus),
      clientCore: Number.parseInt(options.clientCpus),
    });
  const perUnit = (seconds: number | null, count: number) =>
    seconds === null || count === 0 ? null : (seconds * 1e6) / count;
  try {
    const handshakes = { port: proxy.port, clients: HANDSHAKE_CLIENTS, cpus: options.clientCpus };
    if (options.warmupSeconds > 0) {
      progress(`${target}: warming up with handshakes for ${options.warmupSeconds}s`);
      await runHandshakes({ ...handshakes, seconds: options.warmupSeconds });
    }
    progress(
      `${target}: measuring for ${options.seconds}s, full handshakes, ` +
        `${HANDSHAKE_CLIENTS} at a time, one request each`,
    );
    const handshakeMeter = await meter();
    const shakes = await runHandshakes({ ...handshakes, seconds: options.seconds });
    const handshakeCpu = await handshakeMeter.stop();

    const wrk = {
      url: `https://${HOST}:${proxy.port}/`,
      connections: options.connections,
      cpus: options.clientCpus,
    };
    if (options.warmupSeconds > 0) {
      progress(`${target}: warming up keep-alive HTTPS for ${options.warmupSeconds}s`);
      await warmUp({ ...wrk, seconds: options.warmupSeconds });
    }
    progress(`${target}: measuring for ${options.seconds}s, ${options.connections} connections`);
    const keepAliveMeter = await meter();
    const run = await runWrk({ ...wrk, seconds: options.seconds });
    const keepAliveCpu = await keepAliveMeter.stop();

    const result: TlsResult = {
      target,
      round: options.round,
      handshakes: shakes.connections,
      handshakesPerSecond: shakes.connectionsPerSecond,
      cpuUsPerHandshake: perUnit(handshakeCpu.proxySeconds, shakes.connections),
      systemUsPerHandshake: perUnit(handshakeCpu.proxySystemSeconds, shakes.connections),
      handshakeCoreShare: handshakeCpu.proxyCoreShare,
      handshakeMachine: machineLoad(handshakeCpu, shakes.connections),
      requests: run.requests,
      requestsPerSecond: run.requestsPerSecond,
      p99Us: run.p99Us,
      errors: run.errors,
      cpuUsPerRequest: perUnit(keepAliveCpu.proxySeconds, run.requests),
      systemUsPerRequest: perUnit(keepAliveCpu.proxySystemSeconds, run.requests),
      requestCoreShare: keepAliveCpu.proxyCoreShare,
      keepAliveMachine: machineLoad(keepAliveCpu, run.requests),
      noisy: handshakeCpu.noisy || keepAliveCpu.noisy,
      cpu: { handshakes: handshakeCpu, keepAlive: keepAliveCpu },
    };
    progress(`${target}: ${describe(result)}`);
    return result;
  } finally {
    await proxy.stop();
  }
}

function describe(r: TlsResult): string {
  const us = (value: number | null, digits: number) => value?.toFixed(digits) ?? "–";
  const parts = [
    `${Math.round(r.handshakesPerSecond)} handshakes/s, ${us(r.cpuUsPerHandshake, 1)} µs ` +
    `CPU/handshake (${percent(r.handshakeCoreShare ?? 0)} of its core, s_time's core ` +
    `${percent(r.handshakeMachine.clientCoreBusy)} busy)`,
    `${Math.round(r.requestsPerSecond)} req/s, ${us(r.cpuUsPerRequest, 2)} µs CPU/request ` +
    `(${percent(r.requestCoreShare ?? 0)} of its core, wrk's core ` +
    `${percent(r.keepAliveMachine.clientCoreBusy)} busy)`,
  ];
  for (const cpu of [r.cpu.handshakes, r.cpu.keepAlive]) {
    const noise = noiseNote(cpu);
    if (noise) parts.push(noise);
  }
  if (r.errors > 0) parts.push(`${r.errors} ERRORS`);
  return parts.join("; ");
}
