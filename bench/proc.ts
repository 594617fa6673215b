/**
 * What the kernel says about a process tree: CPU time from `/proc/<pid>/stat`, resident memory
 * from `/proc/<pid>/status`; per-CPU time from `/proc/stat`; the open-file limit from
 * `/proc/self/limits`.
 *
 * A proxy can be several processes (nginx is a master and a worker), so every figure here is
 * summed over a process and all its descendants, found by walking the parent ids in `/proc`.
 * Deno will not read `/proc` without `--allow-all`, so a shell does.
 *
 * @module
 */

/** CPU time and resident memory of a process tree at one moment. */
export interface ProcSample {
  /** User plus system CPU time of every process in the tree, in seconds. */
  cpuSeconds: number;
  /** The system (kernel) part of `cpuSeconds`. */
  systemSeconds: number;
  /** Resident set size (`VmRSS`) of every process in the tree, in KiB. */
  rssKiB: number;
  /** The process ids sampled: the root first. */
  pids: number[];
}

// USER_HZ: the unit of utime and stime. `getconf CLK_TCK` prints 100 on every Linux that
// matters; it is read once below in case this one differs.
let clockTicks = 100;

/** Reads `getconf CLK_TCK` once, so CPU times are right on a kernel with another tick rate. */
export async function initClockTicks(): Promise<void> {
  try {
    const { stdout, success } = await new Deno.Command("getconf", { args: ["CLK_TCK"] }).output();
    const ticks = Number(new TextDecoder().decode(stdout).trim());
    if (success && Number.isInteger(ticks) && ticks > 0) clockTicks = ticks;
  } catch {
    // No getconf: keep 100.
  }
}

// Deno 2 treats every file under /proc (even /proc/self) as needing --allow-all, which
// `deno task bench` does not grant, so a shell reads them: --allow-run covers that.
async function sh(script: string): Promise<string> {
  const { stdout } = await new Deno.Command("sh", {
    args: ["-c", script],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(stdout);
}

function cat(paths: string): Promise<string> {
  return sh(`cat ${paths} 2>/dev/null`);
}

interface StatLine {
  pid: number;
  ppid: number;
  /** utime + stime. */
  ticks: number;
  /** stime alone. */
  systemTicks: number;
  /** cutime + cstime: children that have exited and been waited for. */
  childTicks: number;
}

// The command name (field 2) is in parentheses and may hold spaces, so split after the last ")".
function parseStat(line: string): StatLine {
  const fields = line.slice(line.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
  return {
    pid: Number.parseInt(line),
    ppid: Number(fields[1]),
    ticks: Number(fields[11]) + Number(fields[12]),
    systemTicks: Number(fields[12]),
    childTicks: Number(fields[13]) + Number(fields[14]),
  };
}

async function treeStats(root: number): Promise<StatLine[]> {
  const all = (await cat("/proc/[0-9]*/stat")).split("\n").filter(Boolean).map(parseStat);
  const byPid = new Map(all.map((stat) => [stat.pid, stat]));
  if (!byPid.has(root)) return [];
  const tree = [byPid.get(root)!];
  for (let i = 0; i < tree.length; i++) {
    tree.push(...all.filter((stat) => stat.ppid === tree[i].pid));
  }
  return tree;
}

/**
 * Lists a process and all its descendants.
 *
 * @param root The id of the tree's root process.
 * @returns The ids, root first; empty if the root is gone.
 */
export async function processTree(root: number): Promise<number[]> {
  return (await treeStats(root)).map((stat) => stat.pid);
}

/**
 * Samples the CPU time and resident memory of a process tree.
 *
 * @param root The id of the tree's root process.
 * @returns The sums over the tree.
 */
export async function sampleTree(root: number): Promise<ProcSample> {
  const tree = await treeStats(root);
  const pids = tree.map((stat) => stat.pid);
  const ticks = tree.reduce((sum, stat) => sum + stat.ticks, 0);
  const systemTicks = tree.reduce((sum, stat) => sum + stat.systemTicks, 0);
  let rssKiB = 0;
  if (pids.length > 0) {
    const status = await cat(pids.map((pid) => `/proc/${pid}/status`).join(" "));
    for (const match of status.matchAll(/^VmRSS:\s+(\d+)\s+kB$/gm)) rssKiB += Number(match[1]);
  }
  return {
    cpuSeconds: ticks / clockTicks,
    systemSeconds: systemTicks / clockTicks,
    rssKiB,
    pids,
  };
}

/** The CPU time of this benchmark's own processes at one moment. */
export interface OwnCpu {
  /**
   * This process, the processes it runs now (proxy, upstream, the shell sampling), and those it
   * ran that have exited (wrk, iperf3's client), in seconds of user plus system time.
   */
  totalSeconds: number;
  /** The part of `totalSeconds` of child processes that have exited and been waited for. */
  reapedSeconds: number;
}

/**
 * Reads the CPU time of this benchmark: the difference of two readings over a run that
 * started a load generator and waited for it holds the generator's time in `reapedSeconds`.
 *
 * @returns The time of the whole tree, and of its exited children.
 */
export async function ownCpu(): Promise<OwnCpu> {
  const tree = await treeStats(Deno.pid);
  const reaped = tree[0]?.childTicks ?? 0;
  const ticks = tree.reduce((sum, stat) => sum + stat.ticks, 0) + reaped;
  return { totalSeconds: ticks / clockTicks, reapedSeconds: reaped / clockTicks };
}

/** Time one CPU spent in each state since boot, in seconds, from `/proc/stat`. */
export interface CpuTimes {
  /** User and nice time: processes' own code. */
  user: number;
  /** System time: processes in the kernel. */
  system: number;
  /** Hard and soft interrupts, where the kernel moves loopback packets; no process is charged. */
  irq: number;
  /** Time a hypervisor ran something else while this CPU wanted to run. */
  steal: number;
  /** Idle and I/O wait. */
  idle: number;
}

/**
 * Reads the time each CPU has spent in each state.
 *
 * @returns One entry per CPU, indexed by CPU number.
 */
export async function sampleCpus(): Promise<CpuTimes[]> {
  const cpus: CpuTimes[] = [];
  for (const line of (await cat("/proc/stat")).split("\n")) {
    const match = line.match(/^cpu(\d+)\s+(.*)$/);
    if (!match) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = match[2].split(/\s+/)
      .map((field) => Number(field) / clockTicks);
    cpus[Number(match[1])] = {
      user: user + nice,
      system,
      irq: irq + softirq,
      steal: steal ?? 0,
      idle: idle + iowait,
    };
  }
  return cpus;
}

/**
 * The difference between two readings of one CPU.
 *
 * @param before The earlier reading.
 * @param after The later reading.
 * @returns Seconds spent in each state in between.
 */
export function cpuDelta(before: CpuTimes, after: CpuTimes): CpuTimes {
  return {
    user: after.user - before.user,
    system: after.system - before.system,
    irq: after.irq - before.irq,
    steal: after.steal - before.steal,
    idle: after.idle - before.idle,
  };
}

/**
 * The soft limit on open files (`ulimit -n`), which child processes inherit.
 *
 * @returns The limit, or `undefined` if it is unlimited or cannot be read.
 */
export async function openFileLimit(): Promise<number | undefined> {
  const limit = Number((await sh("ulimit -n")).trim());
  return Number.isInteger(limit) && limit > 0 ? limit : undefined;
}
