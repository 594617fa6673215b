/**
 * Everything the benchmark starts and must undo: child processes and temporary directories.
 * Each is registered when made, so {@linkcode cleanupAll} can stop and remove whatever is left,
 * whether the run finished, failed, or was interrupted.
 *
 * @module
 */

import { processTree } from "./proc.ts";

const KEEP_OUTPUT_CHARS = 16 * 1024;
const STOP_GRACE_MS = 3_000;

/** Options for {@linkcode spawn}. */
export interface SpawnOptions {
  /** The working directory. */
  cwd?: string;
  /** Pin the process (and the threads and processes it starts) to these CPUs with `taskset`. */
  cpus?: string;
}

/** A running child process whose output is collected. */
export class Child {
  /** A short name for messages. */
  readonly name: string;
  /** The process id; with `taskset`, the id of the program itself, since taskset execs it. */
  readonly pid: number;
  /** Settles when the process exits. */
  readonly status: Promise<Deno.CommandStatus>;
  /** Settles when both output streams have been read to the end. */
  readonly drained: Promise<void>;
  #process: Deno.ChildProcess;
  #output = "";
  #exited = false;

  /** @internal Use {@linkcode spawn}. */
  constructor(name: string, process: Deno.ChildProcess) {
    this.name = name;
    this.#process = process;
    this.pid = process.pid;
    this.status = process.status.finally(() => {
      this.#exited = true;
      children.delete(this);
    });
    this.drained = Promise.all([this.#collect(process.stdout), this.#collect(process.stderr)])
      .then(() => {});
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** What the process wrote to stdout and stderr so far, interleaved, the last 16 KiB. */
  get output(): string {
    return this.#output;
  }

  /**
   * Stops the process: SIGTERM, then SIGKILL to it and every descendant it had if it has not
   * exited after a grace period.
   */
  async stop(): Promise<void> {
    if (this.#exited) return;
    const tree = await processTree(this.pid);
    signal(this.pid, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const grace = new Promise<"late">((resolve) => {
      timer = setTimeout(resolve, STOP_GRACE_MS, "late");
    });
    const outcome = await Promise.race([this.status, grace]);
    clearTimeout(timer);
    if (outcome === "late") { for (const pid of tree) signal(pid, "SIGKILL"); }
    await this.status;
    await this.drained;
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      this.#output = (this.#output + decoder.decode(chunk, { stream: true }))
        .slice(-KEEP_OUTPUT_CHARS);
    }
  }
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

const children = new Set<Child>();
const tempDirs = new Set<string>();
// Set by cleanupAll: from then on nothing new may start, so nothing outlives the cleanup.
let closing = false;

function checkOpen(): void {
  if (closing) throw new Error("The benchmark is stopping: not starting anything new");
}

/**
 * Starts a child process with its output collected, registered for {@linkcode cleanupAll}.
 *
 * @param name A short name for messages.
 * @param command The program.
 * @param args Its arguments.
 * @param options Working directory and CPU pinning.
 * @returns The running child.
 * @throws {Error} Once {@linkcode cleanupAll} has been called.
 */
export function spawn(
  name: string,
  command: string,
  args: string[],
  options: SpawnOptions = {},
): Child {
  checkOpen();
  const [program, argv] = options.cpus === undefined
    ? [command, args]
    : ["taskset", ["-c", options.cpus, command, ...args]];
  const process = new Deno.Command(program, {
    args: argv,
    cwd: options.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const child = new Child(name, process);
  children.add(child);
  return child;
}

/**
 * Makes a temporary directory that {@linkcode cleanupAll} removes.
 *
 * @param prefix The start of its name.
 * @returns Its path.
 * @throws {Error} Once {@linkcode cleanupAll} has been called.
 */
export async function makeTempDir(prefix: string): Promise<string> {
  checkOpen();
  const dir = await Deno.makeTempDir({ prefix });
  tempDirs.add(dir);
  return dir;
}

/**
 * Removes a temporary directory made by {@linkcode makeTempDir}.
 *
 * @param dir Its path.
 */
export async function removeTempDir(dir: string): Promise<void> {
  // Forget it only once it is gone, so an interrupted removal is done again by cleanupAll.
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  tempDirs.delete(dir);
}

/**
 * Stops every child process still running and removes every temporary directory left; from
 * then on {@linkcode spawn} and {@linkcode makeTempDir} refuse.
 */
export async function cleanupAll(): Promise<void> {
  closing = true;
  await Promise.all([...children].map((child) => child.stop()));
  await Promise.all([...tempDirs].map(removeTempDir));
}

/**
 * Whether a program can be found on the `PATH`.
 *
 * @param program Its name.
 * @returns `true` if `command -v` finds it.
 */
export async function hasProgram(program: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("sh", {
      args: ["-c", 'command -v "$0" >/dev/null', program],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}
