/**
 * A real DNS server for service-discovery tests: dnsmasq in the foreground on 127.0.0.1, serving
 * only A/AAAA records from an `--addn-hosts` file and SRV records from `srv-host=` lines in its
 * own configuration, both in a temporary directory. Every other name is NXDOMAIN: nothing is
 * forwarded and nothing is cached.
 *
 * A records are changed with SIGHUP, which rereads the hosts file; SIGHUP does not reread the
 * configuration, so a change of SRV records restarts dnsmasq on the same port. Either way
 * {@linkcode Dnsmasq.set} returns only once queries get the new answers.
 */

import { type Child, makeTempDir, removeTempDir, spawn } from "../bench/resources.ts";
import { delay } from "./_helpers.ts";

/** One SRV record; `name` is what is queried, such as `_api._tcp.test`. */
export type SrvRecord = Deno.SrvRecord & { name: string };

/** What dnsmasq serves: `a` maps a name to its IPv4 and IPv6 addresses. */
export interface DnsRecords {
  a?: Record<string, string[]>;
  srv?: SrvRecord[];
}

/** A running dnsmasq; one call at a time. */
export interface Dnsmasq extends AsyncDisposable {
  /** Its port, UDP and TCP, on 127.0.0.1; the same after {@linkcode Dnsmasq.restart}. */
  readonly port: number;
  /** What `Deno.resolveDns` takes as `nameServer`. */
  readonly nameServer: { ipAddr: "127.0.0.1"; port: number };
  /** What dnsmasq wrote (its log, queries included), the last 16 KiB of the current process. */
  readonly output: string;
  /** Whether the process is running. */
  readonly running: boolean;
  /**
   * Replaces the records; resolves once queries get the new answers and dropped names NXDOMAIN.
   * Returns `"reloaded"` (SIGHUP), `"restarted"` (SRV changed) or, when stopped, `"stopped"`
   * (files written for the next {@linkcode Dnsmasq.restart}). Throws, with its log, after 5 s.
   */
  set(records: DnsRecords): Promise<"reloaded" | "restarted" | "stopped">;
  /** Stops the process (SIGTERM): queries then time out. */
  stop(): Promise<void>;
  /** Starts it again (stopping it first if running) on the same port with the last records. */
  restart(): Promise<void>;
}

const HOST = "127.0.0.1";
const WAIT_MS = 5_000;
const QUERY_MS = 500;
const ATTEMPTS = 20;
/** A name never served: NXDOMAIN for it shows dnsmasq is answering. */
const PROBE = "dnsmasq-harness-probe.invalid";

/** Where dnsmasq is: on the `PATH`, or in `/usr/sbin` or `/usr/local/sbin`; `undefined` if not. */
export function findDnsmasq(): string | undefined {
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/local/sbin"];
  return dirs.filter(Boolean).map((dir) => `${dir}/dnsmasq`).find((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

/** Why a dnsmasq test cannot run here, for `testName()` of tests/_peers.ts; `undefined` if it can. */
export function dnsmasqMissing(): string | undefined {
  return findDnsmasq() ? undefined : "dnsmasq is not installed (apt-get install dnsmasq-base)";
}

/**
 * Starts dnsmasq on 127.0.0.1: random ports in 20000-31999 (below the ephemeral range), tried
 * again while it says "Address already in use". Resolves once it answers with `records`; throws,
 * with its log, if it fails or does not within 5 s. Disposing of it stops it and removes its files.
 */
export async function startDnsmasq(records: DnsRecords): Promise<Dnsmasq> {
  const program = findDnsmasq();
  if (!program) throw new Error(dnsmasqMissing());
  let current = normalize(records);
  const dir = await makeTempDir("minginx-dnsmasq-");
  let child: Child | undefined;
  let port = 20_000 + Math.floor(Math.random() * 12_000);
  const launch = async (retry: () => Promise<number>) => {
    for (let attempt = 1;; attempt++) {
      child = spawn("dnsmasq", program, args(dir, port));
      if (await started(child)) break;
      if (attempt >= ATTEMPTS || !/Address already in use/.test(child.output)) {
        throw new Error(`dnsmasq on port ${port} exited:\n${child.output}`);
      }
      port = await retry();
    }
    await served(child, port, current, {});
  };
  try {
    await writeFiles(dir, current);
    await launch(() => Promise.resolve(20_000 + Math.floor(Math.random() * 12_000)));
  } catch (error) {
    await child?.stop();
    await removeTempDir(dir);
    throw error;
  }
  const restart = async () => {
    await child?.stop();
    // The same port: wait a little should it be in use for a moment, then give up.
    await launch(() => delay(100).then(() => port));
  };
  return {
    port,
    nameServer: { ipAddr: HOST, port },
    get output() {
      return child?.output ?? "";
    },
    get running() {
      return child !== undefined && !child.exited;
    },
    async set(records) {
      const next = normalize(records);
      const previous = current;
      current = next;
      await writeFiles(dir, next);
      if (!child || child.exited) return "stopped";
      if (JSON.stringify(next.srv) !== JSON.stringify(previous.srv)) {
        await restart();
        return "restarted";
      }
      Deno.kill(child.pid, "SIGHUP");
      await served(child, port, next, previous);
      return "reloaded";
    },
    async stop() {
      await child?.stop();
    },
    restart,
    async [Symbol.asyncDispose]() {
      await child?.stop();
      await removeTempDir(dir);
    },
  };
}

// --no-daemon: foreground, log to stderr, no pid file, no change of user (--keep-in-foreground
// drops root to nobody); --user= skips even the lookup of the compiled-in user; --local=/#/ makes
// every name local: NXDOMAIN unless served here, never forwarded; --conf-file: not /etc's.
const FLAGS = "--no-daemon --user= --pid-file= --log-facility=- --log-queries --bind-interfaces " +
  "--no-resolv --no-hosts --no-poll --local=/#/ --local-ttl=0 --cache-size=0 --no-negcache";

function args(dir: string, port: number): string[] {
  const files = [`--conf-file=${dir}/dnsmasq.conf`, `--addn-hosts=${dir}/hosts`];
  return [...FLAGS.split(" "), ...files, `--port=${port}`, `--listen-address=${HOST}`];
}

/** Whether dnsmasq logged "started" (its sockets are bound by then) rather than exited. */
async function started(child: Child): Promise<boolean> {
  const deadline = Date.now() + WAIT_MS;
  while (!/started, version/.test(child.output)) {
    if (child.exited) return await child.drained.then(() => false);
    if (Date.now() > deadline) throw new Error(`dnsmasq did not start:\n${child.output}`);
    await delay(10);
  }
  return true;
}

type Normal = { a: Record<string, string[]>; srv: SrvRecord[] };

function normalize(records: DnsRecords): Normal {
  const a: Record<string, string[]> = {};
  for (const [name, addresses] of Object.entries(records.a ?? {})) {
    a[checkName(name)] = addresses.map(canonicalAddress).sort();
  }
  const srv = (records.srv ?? []).map((r) => {
    for (const n of [r.port, r.priority, r.weight]) {
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`Bad SRV number: ${n}`);
    }
    return { ...r, name: checkName(r.name), target: checkName(r.target) };
  }).sort((x, y) => srvText(x) < srvText(y) ? -1 : 1);
  return { a, srv };
}

function checkName(name: string): string {
  const bare = name.toLowerCase().replace(/\.$/, "");
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(bare)) throw new Error(`Bad DNS name: "${name}"`);
  return bare;
}

function canonicalAddress(address: string): string {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4 && v4.slice(1).every((n) => Number(n) <= 255)) return v4.slice(1).map(Number).join(".");
  const v6 = URL.parse(`http://[${address}]/`)?.hostname.slice(1, -1);
  if (v6 && address.includes(":")) return v6;
  throw new Error(`Bad IP address: "${address}"`);
}

function srvText(r: SrvRecord): string {
  return `${r.name} ${r.priority} ${r.weight} ${r.port} ${r.target}`;
}

async function writeFiles(dir: string, records: Normal): Promise<void> {
  const hosts = Object.entries(records.a).flatMap(([name, addresses]) =>
    addresses.map((address) => `${address} ${name}\n`)
  );
  await Deno.writeTextFile(`${dir}/hosts`, hosts.join(""));
  const srv = records.srv.map((r) =>
    `srv-host=${r.name},${r.target},${r.port},${r.priority},${r.weight}\n`
  );
  await Deno.writeTextFile(`${dir}/dnsmasq.conf`, srv.join(""));
}

/** Waits until every query gets what `records` says and names only in `previous` are gone. */
async function served(child: Child, port: number, records: Normal, previous: Partial<Normal>) {
  const nameServer = { ipAddr: HOST, port };
  const lookup = async (name: string, type: "A" | "AAAA" | "SRV"): Promise<string[]> => {
    try {
      const options = { nameServer, signal: AbortSignal.timeout(QUERY_MS) };
      if (type !== "SRV") return (await Deno.resolveDns(name, type, options)).sort();
      return (await Deno.resolveDns(name, type, options)).map((r) => srvText({ ...r, name }))
        .sort();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      return [`${(error as Error).name}: ${(error as Error).message}`];
    }
  };
  const expected: [string, "A" | "AAAA" | "SRV", string[]][] = [[PROBE, "A", []]];
  for (const name of new Set([...Object.keys(previous.a ?? {}), ...Object.keys(records.a)])) {
    const addresses = records.a[name] ?? [];
    expected.push([name, "A", addresses.filter((a) => !a.includes(":"))]);
    expected.push([name, "AAAA", addresses.filter((a) => a.includes(":"))]);
  }
  for (const name of new Set([...previous.srv ?? [], ...records.srv].map((r) => r.name))) {
    const texts = records.srv.filter((r) => r.name === name).map((r) => srvText(r) + ".");
    expected.push([name, "SRV", texts.sort()]);
  }
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const wrong: string[] = [];
    for (const [name, type, want] of expected) {
      const got = await lookup(name, type);
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        wrong.push(`${name} ${type}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
      }
    }
    if (wrong.length === 0) return;
    if (child.exited) throw new Error(`dnsmasq exited:\n${child.output}`);
    if (Date.now() > deadline) {
      throw new Error(
        `dnsmasq on port ${port} did not serve the records within ${WAIT_MS} ms:\n` +
          `${wrong.join("\n")}\n${child.output}`,
      );
    }
    await delay(20);
  }
}
