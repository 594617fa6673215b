/**
 * The proxies under test, each started on one core in front of a given upstream: minginx, bare
 * and in its variants (see `minginx_proxy.ts`), nginx's stream proxy and HAProxy in TCP mode
 * with configurations generated into a temporary directory, and "direct", which is no proxy at
 * all.
 *
 * @module
 */

import { isMinginx, startMinginx } from "./minginx_proxy.ts";
import { freePort, HOST, waitForAccept } from "./net.ts";
import { type Child, hasProgram, makeTempDir, removeTempDir, spawn } from "./resources.ts";
import { withScraper } from "./scraper.ts";

/**
 * Every target the benchmark knows, in the order of the report; `roundOrder` puts bare minginx
 * between its variants.
 */
export const TARGETS = [
  "minginx",
  "minginx-layers",
  "minginx-metrics",
  "nginx",
  "haproxy",
  "direct",
] as const;
/** One of {@linkcode TARGETS}. */
export type Target = typeof TARGETS[number];

/** A proxy listening on one core and forwarding to an upstream. */
export interface RunningProxy {
  /** Which one. */
  target: Target;
  /** The port clients connect to: the upstream's own port for `direct`. */
  port: number;
  /** The root of the proxy's process tree; `undefined` for `direct`. */
  pid: number | undefined;
  /** Stops the processes and removes the temporary directory. */
  stop(): Promise<void>;
}

/** How a proxy is started. */
export interface ProxyOptions {
  /** The upstream's port on {@linkcode HOST}. */
  upstreamPort: number;
  /** The CPUs to pin the proxy to, as `taskset -c` takes them. */
  cpus: string;
  /** The most connections the proxy must hold at once, counting both sides of each. */
  maxSockets: number;
}

const STREAM_MODULES = [
  "/usr/lib/nginx/modules/ngx_stream_module.so",
  "/usr/lib64/nginx/modules/ngx_stream_module.so",
  "/usr/share/nginx/modules/ngx_stream_module.so",
];

/**
 * Says why a target cannot run on this machine.
 *
 * @param target The target.
 * @returns `undefined` if it can run, otherwise the reason to print.
 */
export async function unavailableReason(target: Target): Promise<string | undefined> {
  if (target === "nginx") {
    if (!await hasProgram("nginx")) return "nginx is not installed (apt-get install nginx)";
    if (await nginxStreamModule() === null) {
      return "nginx has no stream module (apt-get install libnginx-mod-stream)";
    }
  }
  if (target === "haproxy" && !await hasProgram("haproxy")) {
    return "haproxy is not installed (apt-get install haproxy)";
  }
  return undefined;
}

/**
 * Where nginx's stream module is, for a `load_module` line.
 *
 * @returns Its path if nginx loads it dynamically, `""` if it is built in, `null` if absent.
 */
export async function nginxStreamModule(): Promise<string | null> {
  const { stderr } = await new Deno.Command("nginx", { args: ["-V"], stdout: "null" }).output();
  const configure = new TextDecoder().decode(stderr);
  if (/--with-stream(\s|$)/.test(configure)) return "";
  for (const path of STREAM_MODULES) {
    if (await Deno.stat(path).then(() => true, () => false)) return path;
  }
  return null;
}

/**
 * Starts a target in front of an upstream and waits until it accepts connections.
 *
 * @param target Which proxy.
 * @param options The upstream, the CPUs, and how many sockets it must hold.
 * @returns The running proxy.
 */
export function startProxy(target: Target, options: ProxyOptions): Promise<RunningProxy> {
  if (target === "direct") {
    const port = options.upstreamPort;
    return Promise.resolve({ target, port, pid: undefined, stop: () => Promise.resolve() });
  }
  if (target === "minginx-metrics") {
    // The admin API on a port of its own, scraped from this process until the proxy stops.
    const adminPort = freePort();
    return withScraper(
      startInTempDir(target, target, (port) => startMinginx(target, port, options, adminPort)),
      `http://${HOST}:${adminPort}/metrics`,
    );
  }
  return startInTempDir(
    target,
    target,
    (port, dir) =>
      isMinginx(target)
        ? startMinginx(target, port, options)
        : target === "nginx"
        ? startNginx(port, options, dir)
        : startHaproxy(port, options, dir),
  );
}

/**
 * Starts a proxy on a free port with a temporary directory of its own for its config and logs,
 * and waits until it accepts connections; on failure, stops it and removes the directory.
 *
 * @param target Which proxy, for the report.
 * @param name Its name in the directory's: `nginx`, `tls-nginx`.
 * @param start Starts it on `port`, with `dir` for its files.
 * @returns The running proxy; `stop()` also removes the directory.
 */
export async function startInTempDir(
  target: Target,
  name: string,
  start: (port: number, dir: string) => Child | Promise<Child>,
): Promise<RunningProxy> {
  const port = freePort();
  const dir = await makeTempDir(`minginx-bench-${name}-`);
  let child: Child | undefined;
  try {
    child = await start(port, dir);
    await waitForAccept(port, child);
  } catch (error) {
    await child?.stop();
    await removeTempDir(dir);
    throw error;
  }
  const running = child;
  return {
    target,
    port,
    pid: running.pid,
    async stop() {
      await running.stop();
      await removeTempDir(dir);
    },
  };
}

function startNginx(port: number, options: ProxyOptions, dir: string): Promise<Child> {
  return startNginxStream(dir, options, `listen ${HOST}:${port};`);
}

/**
 * Starts nginx's stream proxy on one core with one `server` in front of the upstream: `listen`
 * and any other directives it is given, then `proxy_pass` to the upstream.
 *
 * @param dir The temporary directory for the config, pid and logs.
 * @param options The upstream, the CPUs, and how many sockets to allow.
 * @param directives The server's first directives, such as its `listen`.
 * @returns The running nginx.
 */
export async function startNginxStream(
  dir: string,
  options: Pick<ProxyOptions, "upstreamPort" | "maxSockets" | "cpus">,
  directives: string,
): Promise<Child> {
  const module = await nginxStreamModule();
  return startNginxWith(
    dir,
    options,
    `stream {
  server {
    ${directives}
    proxy_pass ${HOST}:${options.upstreamPort};
    proxy_timeout 10m;
  }
}`,
    module ? `load_module ${module};\n` : "",
  );
}

/**
 * Starts nginx on one core, one worker process, its pid and error log in `dir`, with room for
 * `maxSockets` connections, and the given top-level block (`stream { ... }`, `http { ... }`).
 *
 * @param dir The temporary directory for the config, pid and logs.
 * @param options The CPUs, and how many sockets to allow.
 * @param block The configuration after the `events` block.
 * @param head Lines before everything else, such as a `load_module`; each ending in a newline.
 * @returns The running nginx.
 */
export async function startNginxWith(
  dir: string,
  options: Pick<ProxyOptions, "maxSockets" | "cpus">,
  block: string,
  head = "",
): Promise<Child> {
  const config = `${dir}/nginx.conf`;
  await Deno.writeTextFile(
    config,
    `${head}daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile ${options.maxSockets + 100};
events {
  worker_connections ${options.maxSockets + 100};
}
${block}
`,
  );
  return spawn("nginx", "nginx", ["-p", dir, "-e", `${dir}/error.log`, "-c", config], {
    cpus: options.cpus,
  });
}

async function startHaproxy(port: number, options: ProxyOptions, dir: string): Promise<Child> {
  const config = `${dir}/haproxy.cfg`;
  await Deno.writeTextFile(
    config,
    `global
  nbthread 1
  maxconn ${Math.ceil(options.maxSockets / 2) + 100}

defaults
  mode tcp
  timeout connect 5s
  timeout client 10m
  timeout server 10m

frontend bench
  bind ${HOST}:${port}
  default_backend upstream

backend upstream
  server upstream ${HOST}:${options.upstreamPort}
`,
  );
  return spawn("haproxy", "haproxy", ["-db", "-f", config], { cpus: options.cpus });
}
