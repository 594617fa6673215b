/**
 * The http-mode workload: keep-alive HTTP requests, as in the http workload, through proxies that
 * read and forward each request instead of bytes: minginx with `--mode http` and nginx's HTTP
 * proxy, each keeping up to 32 idle connections to the HTTP responder, with a direct connection
 * as the baseline. wrk's requests/s and the proxy's CPU time per request are reported, and
 * minginx's over nginx's.
 *
 * @module
 */

import { type KeepAliveResult, measureKeepAlive } from "./http_keepalive.ts";
import { HTTP_MODE_TARGETS, isHttpModeTarget, startHttpModeProxy } from "./http_mode_proxies.ts";
import { measureRounds, type RoundsOptions } from "./rounds.ts";
import type { WrkLoadOptions } from "./wrk_load.ts";

/**
 * Measures each of the targets that run in HTTP mode ({@linkcode HTTP_MODE_TARGETS}) in every
 * round, with the same wrk load as the keep-alive workload; the others are left out.
 *
 * @param rounds The targets, rounds, and where failures and progress go.
 * @param options The upstream, the load and the CPUs.
 * @returns Every result, in the order measured.
 */
export async function measureHttpModeRounds(
  rounds: RoundsOptions,
  options: Omit<WrkLoadOptions, "round">,
): Promise<KeepAliveResult[]> {
  const targets = rounds.targets.filter(isHttpModeTarget);
  if (targets.length === 0) {
    rounds.progress(`${rounds.title}: skipped, it runs ${HTTP_MODE_TARGETS.join(", ")} only`);
    return [];
  }
  return await measureRounds(
    { ...rounds, targets },
    (target, round, log) =>
      measureKeepAlive(target, { ...options, round }, log, startHttpModeProxy),
  );
}
