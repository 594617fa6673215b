/**
 * The machine and program versions a run was measured on, for the report.
 *
 * @module
 */

import type { Workload } from "./options.ts";
import type { Target } from "./proxies.ts";

async function firstLine(command: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await new Deno.Command(command, { args }).output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    return text.split("\n").find((line) => line.trim())?.trim();
  } catch {
    return undefined;
  }
}

/**
 * Describes the machine: CPUs, kernel, Deno, and the version of each proxy and load generator
 * that will run.
 *
 * @param targets The targets that will run.
 * @param workloads The workloads that will run.
 * @returns Names and values, in the order to print them.
 */
export async function describeEnvironment(
  targets: Target[],
  workloads: Workload[],
): Promise<Record<string, string>> {
  // Deno will not read /proc without --allow-all, so grep does.
  const model = await firstLine("sh", ["-c", "grep -m1 '^model name' /proc/cpuinfo"]);
  const env: Record<string, string> = {
    CPUs: `${navigator.hardwareConcurrency}` +
      (model ? ` x ${model.replace(/^[^:]*:\s*/, "")}` : ""),
    Linux: Deno.osRelease(),
    Deno: Deno.version.deno,
  };
  if (targets.includes("nginx")) {
    const line = await firstLine("nginx", ["-v"]);
    env.nginx = line?.match(/nginx\/(\S+)/)?.[1] ?? "unknown";
  }
  if (targets.includes("haproxy")) {
    const line = await firstLine("haproxy", ["-v"]);
    env.HAProxy = line?.match(/version (\S+)/)?.[1] ?? "unknown";
  }
  if ((["http", "connect", "http-mode"] as const).some((w) => workloads.includes(w))) {
    const wrk = await firstLine("wrk", ["-v"]);
    env.wrk = wrk?.match(/wrk (\S+)/)?.[1] ?? "unknown";
  }
  if (workloads.includes("bulk")) {
    const iperf3 = await firstLine("iperf3", ["--version"]);
    env.iperf3 = iperf3?.match(/iperf (\S+)/)?.[1] ?? "unknown";
  }
  return env;
}
