/**
 * Running the CLI as a user would: `deno run --allow-net=... main.ts [options]` in a child
 * process, with its output read line by line.
 */

import { startEcho, within, writeAll } from "./_helpers.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** A port that was free a moment ago: bind port 0, read it, release it. */
export function freePort(): number {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  return listener.addr.port;
}

/** `n` different free ports: each is held until all are chosen, so none comes twice. */
export function freePorts(n: number): number[] {
  const listeners = Array.from(
    { length: n },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((listener) => listener.addr.port);
  for (const listener of listeners) listener.close();
  return ports;
}

/** Resolves once something accepts connections on 127.0.0.1:`port`; bound it with `within()`. */
export async function waitForPort(port: number): Promise<void> {
  for (;;) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A connection through the CLI in front of an echo upstream that has carried one byte each way. */
export async function openConnection(port: number): Promise<Deno.TcpConn> {
  const client = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(client, new Uint8Array([1]));
  await within(5_000, "first echo", client.read(new Uint8Array(1)));
  return client;
}

/**
 * The CLI in front of an in-process echo upstream, run with exactly the --allow-net it needs and
 * `extraArgs`; resolves once it listens.
 */
export async function cliBeforeEcho(extraArgs: string[] = []) {
  const echo = startEcho();
  const port = freePort();
  const upstream = `127.0.0.1:${echo.address.port}`;
  const proxy = new CliProcess(
    ["-l", `127.0.0.1:${port}`, "-u", upstream, ...extraArgs],
    `127.0.0.1:${port},${upstream}`,
  );
  await proxy.waitFor(/listening on/);
  return {
    proxy,
    echo,
    port,
    upstream,
    async [Symbol.asyncDispose]() {
      await proxy[Symbol.asyncDispose]();
      await echo.close();
    },
  };
}

/** Runs `main.ts` to completion and returns its exit code and output. */
export async function runCli(
  args: string[],
  allowNet?: string,
  denoFlags: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await command(args, allowNet, denoFlags).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** What `--workers N` needs on top of `--allow-net`, as the CLI's preflight names it. */
export const WORKER_FLAGS = ["--unstable-net", `--allow-read=${ROOT}lib`];

/** How a CLI process is started beyond its arguments and permissions. */
export interface CliProcessOptions {
  /** A limit on open file descriptors (`ulimit -n`), set through bash before Deno starts. */
  ulimit?: number;
}

function command(
  args: string[],
  allowNet?: string,
  denoFlags: string[] = [],
  options: CliProcessOptions = {},
): Deno.Command {
  const permissions = allowNet === undefined ? [] : [`--allow-net=${allowNet}`];
  const run = ["run", "--quiet", "--no-prompt", ...permissions, ...denoFlags, "main.ts", ...args];
  // `exec` keeps the pid: the child's pid is Deno's, whose /proc entry the chaos tests read.
  const [program, programArgs] = options.ulimit === undefined ? [Deno.execPath(), run] : ["bash", [
    "-c",
    'ulimit -n "$0" && exec "$@"',
    String(options.ulimit),
    Deno.execPath(),
    ...run,
  ]];
  return new Deno.Command(program, {
    args: programArgs,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  });
}

/** A running CLI whose standard error is collected line by line. */
export class CliProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  readonly #done: Promise<void>;
  #waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];

  constructor(
    args: string[],
    allowNet: string,
    denoFlags: string[] = [],
    options: CliProcessOptions = {},
  ) {
    const child = command(args, allowNet, denoFlags, options).spawn();
    this.child = child;
    this.#done = Promise.all([
      child.stdout.cancel(),
      (async () => {
        const lines = child.stderr.pipeThrough(new TextDecoderStream()).pipeThrough(
          new TextLineStream(),
        );
        for await (const line of lines) {
          this.lines.push(line);
          this.#waiters = this.#waiters.filter((waiter) => {
            if (!waiter.pattern.test(line)) return true;
            waiter.resolve(line);
            return false;
          });
        }
      })(),
    ]).then(() => {});
  }

  /** Resolves with the first standard-error line matching `pattern`, or fails after `ms`. */
  waitFor(pattern: RegExp, ms = 10_000): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`No line matched ${pattern} in ${ms}ms; got:\n${this.lines.join("\n")}`));
      }, ms);
      this.#waiters.push({
        pattern,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** Waits for the exit, and for all output to be read. */
  async exit(): Promise<Deno.CommandStatus> {
    const status = await this.child.status;
    await this.#done;
    return status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* exited already */ }
    await this.exit();
  }
}

/** Splits a stream of text into lines, without their line ends (`@std/streams` is on JSR). */
class TextLineStream extends TransformStream<string, string> {
  constructor() {
    let rest = "";
    super({
      transform(chunk, controller) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        for (const part of parts) controller.enqueue(part.replace(/\r$/, ""));
      },
      flush(controller) {
        if (rest) controller.enqueue(rest);
      },
    });
  }
}
