/**
 * The CLI with its admin API on, in front of in-process echo upstreams, and what tests read from
 * the API: a scrape parsed into samples, and promtool's verdict on it.
 */

import { CliProcess, freePort } from "./_cli.ts";
import { startEcho } from "./_helpers.ts";

/** What {@linkcode adminCli} starts with, beyond its defaults. */
export interface AdminCliOptions {
  /** How many echo upstreams to start. */
  upstreams?: number;
  /** More arguments for the CLI. */
  args?: string[];
  /** More `--allow-net` entries. */
  allowNet?: string[];
  /** Deno flags, such as those `--workers` needs. */
  denoFlags?: string[];
}

/**
 * The CLI listening on a free port with `--admin` on another, before `upstreams` echo servers;
 * resolves once the admin API listens.
 */
export async function adminCli(options: AdminCliOptions = {}) {
  const echoes = Array.from({ length: options.upstreams ?? 1 }, () => startEcho());
  const port = freePort();
  const adminPort = freePort();
  const upstreams = echoes.map(({ address }) => `127.0.0.1:${address.port}`);
  const listen = `127.0.0.1:${port}`;
  const admin = `127.0.0.1:${adminPort}`;
  const proxy = new CliProcess(
    [
      "-l",
      listen,
      ...upstreams.flatMap((upstream) => ["-u", upstream]),
      "--admin",
      admin,
      ...options.args ?? [],
    ],
    [listen, admin, ...upstreams, ...options.allowNet ?? []].join(","),
    options.denoFlags,
  );
  await proxy.waitFor(/Admin API listening on/);
  return {
    proxy,
    echoes,
    port,
    listen,
    upstreams,
    url: `http://${admin}`,
    async [Symbol.asyncDispose]() {
      await proxy[Symbol.asyncDispose]();
      await Promise.all(echoes.map((echo) => echo.close()));
    },
  };
}

/** A scrape's samples by series (`name{labels}` as written), and its text. */
export interface Scrape {
  text: string;
  samples: Map<string, number>;
  /** The sample of a series, 0 if it is absent. */
  value(series: string): number;
  /** The sum of every sample of a metric whose labels include all of `labels` (`k="v"` each). */
  sum(name: string, ...labels: string[]): number;
}

/** Reads `GET /metrics` and parses it. */
export async function scrape(url: string, init?: RequestInit): Promise<Scrape> {
  const response = await fetch(`${url}/metrics`, init);
  const text = await response.text();
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}: ${text}`);
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    samples.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return {
    text,
    samples,
    value: (series) => samples.get(series) ?? 0,
    sum(name, ...labels) {
      let total = 0;
      for (const [series, value] of samples) {
        if (series !== name && !series.startsWith(`${name}{`)) continue;
        if (labels.every((label) => series.includes(label))) total += value;
      }
      return total;
    },
  };
}
