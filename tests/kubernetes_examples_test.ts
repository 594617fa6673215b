/**
 * examples/kubernetes: every manifest parses, the pieces fit together (labels, ports, the mounted
 * config, the permissions the command grants), and the config in the ConfigMap is one minginx
 * accepts. Nothing here talks to a cluster.
 */

import assert from "node:assert/strict";
import process from "node:process";
import { parseAllDocuments } from "yaml";
import { parseAddress } from "../lib/address.ts";
import { DEFAULTS } from "../lib/cli/args.ts";
import { parseJsonc } from "../lib/config/jsonc.ts";
import { parseConfig } from "../lib/config/parse_config.ts";
import { parseDuration } from "../lib/duration.ts";

const DIR = new URL("../examples/kubernetes/", import.meta.url);

type Labels = Record<string, string>;

/** The parts of a Kubernetes object these tests read. */
interface Resource {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; labels?: Labels };
  data?: Record<string, string>;
  spec?: unknown;
}

interface ContainerPort {
  name?: string;
  containerPort: number;
}

interface Probe {
  tcpSocket?: { port: number | string };
}

interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string } } }[];
  ports?: ContainerPort[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] } } };
  securityContext?: {
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    runAsNonRoot?: boolean;
    runAsUser?: number;
  };
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
}

interface Volume {
  name: string;
  configMap?: { name: string; items?: { key: string; path: string }[] };
  emptyDir?: Record<string, unknown> | null;
}

interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
}

interface DeploymentSpec {
  replicas?: number;
  selector: { matchLabels?: Labels; matchExpressions?: unknown[] };
  strategy?: { type?: string; rollingUpdate?: { maxUnavailable?: number | string } };
  template: { metadata: { labels?: Labels }; spec: PodSpec };
}

interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  selector?: Labels;
  ports: { name?: string; port: number; targetPort?: number | string }[];
}

interface PdbSpec {
  selector: { matchLabels?: Labels };
  maxUnavailable?: number | string;
  minAvailable?: number | string;
}

/** The parts of the minginx config file these tests read before the validator does. */
interface RawConfig {
  drainTimeout?: string | number;
  servers: {
    listen: string | string[];
    upstreams: (string | { address: string })[];
    resolver?: string;
  }[];
}

/**
 * The yaml package reads `process.env.LOG_TOKENS` and `LOG_STREAM` (its debug switches) on every
 * parse, which throws NotCapable without --allow-env. An empty stand-in for the environment lets
 * these tests run with --allow-read alone; parsing is synchronous, so nothing else sees it.
 */
function withoutEnv<T>(parse: () => T): T {
  const env = Object.getOwnPropertyDescriptor(process, "env");
  Object.defineProperty(process, "env", { value: {}, configurable: true, writable: true });
  try {
    return parse();
  } finally {
    if (env) Object.defineProperty(process, "env", env);
  }
}

const files = [...Deno.readDirSync(DIR)]
  .filter(({ isFile, name }) => isFile && /\.ya?ml$/.test(name))
  .map(({ name }) => name)
  .sort();
const parsed = files.map((file) => {
  const text = Deno.readTextFileSync(new URL(file, DIR));
  return { file, documents: withoutEnv(() => parseAllDocuments(text)) };
});
/** Every document of every file that parsed, as a plain object. */
const resources: { file: string; resource: Resource }[] = parsed.flatMap(({ file, documents }) =>
  "empty" in documents ? [] : documents
    .filter((document) => document.errors.length === 0)
    .map((document) => ({ file, resource: withoutEnv(() => document.toJS()) as Resource }))
    .filter(({ resource }) => resource !== null)
);

function all(kind: string): Resource[] {
  return resources.filter(({ resource }) => resource.kind === kind).map(({ resource }) => resource);
}

function only(kind: string): Resource {
  const found = all(kind);
  assert.equal(found.length, 1, `expected exactly one ${kind}, found ${found.length}`);
  return found[0];
}

const deployment = () => only("Deployment").spec as DeploymentSpec;
const podSpec = () => deployment().template.spec;
const podLabels = () => deployment().template.metadata.labels ?? {};
const container = () => {
  const { containers } = podSpec();
  assert.equal(containers.length, 1, "expected one container in the pod");
  return containers[0];
};
const services = () => all("Service").map((service) => service.spec as ServiceSpec);

/** True when every label the selector asks for is on `labels` with the same value. */
function selects(selector: Labels | undefined, labels: Labels): boolean {
  const wanted = Object.entries(selector ?? {});
  return wanted.length > 0 && wanted.every(([key, value]) => labels[key] === value);
}

/** The container's whole command line: command, then args. */
function commandLine(): string[] {
  const { command = [], args = [] } = container();
  return [...command, ...args];
}

/** The values given for a flag, as `--flag=value` or `--flag value`. */
function flagValues(line: string[], flag: string): string[] {
  const values: string[] = [];
  line.forEach((word, i) => {
    if (word.startsWith(`${flag}=`)) values.push(word.slice(flag.length + 1));
    else if (word === flag && i + 1 < line.length) values.push(line[i + 1]);
  });
  return values;
}

function onlyFlag(line: string[], flag: string): string {
  const values = flagValues(line, flag);
  assert.equal(values.length, 1, `expected ${flag} once in ${JSON.stringify(line)}`);
  return values[0];
}

/** The path the command passes to --config. */
const configPath = () => onlyFlag(commandLine(), "--config");

/** The config file's text, found the way the pod finds it: mount, volume, ConfigMap, key. */
function configText(): string {
  const path = configPath();
  const dir = path.slice(0, path.lastIndexOf("/"));
  const base = path.slice(path.lastIndexOf("/") + 1);
  const mount = (container().volumeMounts ?? []).find((mount) =>
    mount.subPath === undefined ? mount.mountPath === dir : mount.mountPath === path
  );
  assert.ok(mount, `no volume is mounted at ${dir}, where --config ${path} is`);
  const volume = (podSpec().volumes ?? []).find(({ name }) => name === mount.name);
  assert.ok(
    volume?.configMap,
    `volume ${mount.name} mounted at ${mount.mountPath} is no ConfigMap`,
  );
  const fileName = mount.subPath ?? base;
  const key = volume.configMap.items?.find((item) => item.path === fileName)?.key ?? fileName;
  const configMap = all("ConfigMap").find(({ metadata }) =>
    metadata?.name === volume.configMap!.name
  );
  assert.ok(configMap, `no ConfigMap named ${volume.configMap.name}`);
  const text = configMap.data?.[key];
  assert.ok(text !== undefined, `ConfigMap ${volume.configMap.name} has no key ${key}`);
  return text;
}

const rawConfig = () => parseJsonc(configText(), "minginx.jsonc") as RawConfig;

/** An IPv4 address as a number, or undefined for anything else. */
function ipv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^\d{1,3}$/.test(part) && +part < 256)) {
    return undefined;
  }
  return parts.reduce((sum, part) => sum * 256 + Number(part), 0);
}

/** A `--allow-net` entry: `HOST`, `HOST:PORT`, `CIDR:PORT` or `[IPV6]:PORT`. */
function netEntry(entry: string): { host: string; port?: number } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
  assert.ok(match, `cannot read --allow-net entry ${entry}`);
  return { host: match[1], port: match[2] === undefined ? undefined : Number(match[2]) };
}

/** Whether a `--allow-net` entry grants `host:port`, as Deno matches them (CIDRs included). */
function covers(entry: string, host: string, port: number): boolean {
  const granted = netEntry(entry);
  if (granted.port !== undefined && granted.port !== port) return false;
  if (!granted.host.includes("/")) return granted.host.toLowerCase() === host.toLowerCase();
  const [network, bits] = granted.host.split("/");
  const base = ipv4(network);
  const address = ipv4(host);
  if (base === undefined || address === undefined) return false;
  const size = 2 ** (32 - Number(bits));
  return Math.floor(base / size) === Math.floor(address / size);
}

/** The port of a `dns:NAME:PORT[,weight=N][,backup]` upstream. */
function dnsUpstream(entry: string): { name: string; port: number } {
  const match = /^dns:([^:,]+):(\d+)(,.*)?$/.exec(entry);
  assert.ok(match, `cannot read upstream ${entry}`);
  return { name: match[1], port: Number(match[2]) };
}

Deno.test("every YAML document under examples/kubernetes parses without errors or warnings", () => {
  assert.ok(files.length > 0, "no YAML files in examples/kubernetes");
  for (const { file, documents } of parsed) {
    assert.ok(!("empty" in documents), `${file} holds no YAML document`);
    for (const [i, document] of documents.entries()) {
      assert.deepEqual(document.errors.map(String), [], `${file}, document ${i + 1}`);
      assert.deepEqual(document.warnings.map(String), [], `${file}, document ${i + 1}`);
    }
  }
});

Deno.test("every manifest names its apiVersion, kind and metadata.name", () => {
  assert.ok(resources.length > 0);
  for (const { file, resource } of resources) {
    const where = `${file}: ${JSON.stringify(resource).slice(0, 80)}`;
    assert.equal(typeof resource.apiVersion, "string", where);
    assert.equal(typeof resource.kind, "string", where);
    assert.equal(typeof resource.metadata?.name, "string", where);
    assert.match(resource.metadata!.name!, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, where);
  }
  const names = resources.map(({ resource }) => `${resource.kind}/${resource.metadata?.name}`);
  assert.equal(new Set(names).size, names.length, `a kind and name used twice: ${names}`);
});

Deno.test("the Deployment's selector matches its pod template's labels", () => {
  const { selector } = deployment();
  assert.equal(selector.matchExpressions, undefined, "matchExpressions are not checked here");
  assert.ok(selects(selector.matchLabels, podLabels()), JSON.stringify(selector));
});

Deno.test("a Service selects the Deployment's pods, and its targetPorts are ports the container declares", () => {
  const fronts = services().filter(({ selector }) => selects(selector, podLabels()));
  assert.ok(fronts.length > 0, "no Service selects the minginx pods");
  const declared = container().ports ?? [];
  for (const { ports } of fronts) {
    for (const { port, targetPort = port } of ports) {
      const match = declared.find((declared) =>
        typeof targetPort === "string"
          ? declared.name === targetPort
          : declared.containerPort === targetPort
      );
      assert.ok(match, `targetPort ${targetPort} is no containerPort: ${JSON.stringify(declared)}`);
    }
  }
});

Deno.test("the config's dns: upstream names a headless Service on its port, and not minginx's own pods", () => {
  const discovered = rawConfig().servers.flatMap(({ upstreams }) => upstreams)
    .filter((upstream): upstream is string => typeof upstream === "string")
    .filter((upstream) => upstream.startsWith("dns:"))
    .map(dnsUpstream);
  assert.ok(discovered.length > 0, "the config discovers no upstream by dns:");
  for (const { name, port } of discovered) {
    // SERVICE.NAMESPACE.svc.cluster.local
    const [service] = name.split(".");
    assert.match(name, /^[a-z0-9-]+\.[a-z0-9-]+\.svc\.cluster\.local$/, name);
    const headless = all("Service").find(({ metadata }) => metadata?.name === service);
    assert.ok(headless, `no Service named ${service}`);
    const spec = headless.spec as ServiceSpec;
    assert.equal(spec.clusterIP, "None", `${service} must be headless to return every pod`);
    assert.ok(spec.ports.some((entry) => entry.port === port), `${service} has no port ${port}`);
    assert.ok(!selects(spec.selector, podLabels()), `${service} selects minginx itself`);
  }
});

Deno.test("the ConfigMap key is mounted at the path the command passes to --config, and --allow-read grants only that file", () => {
  assert.match(configText(), /"servers"/);
  assert.deepEqual(flagValues(commandLine(), "--allow-read"), [configPath()]);
});

Deno.test("--allow-net is narrow and covers the listen address, the admin API, the nameserver and the discovered upstreams", () => {
  const line = commandLine();
  for (const broad of ["--allow-all", "-A", "--allow-net", "-N"]) {
    assert.ok(!line.includes(broad), `${broad} grants more than minginx needs`);
  }
  const entries = onlyFlag(line, "--allow-net").split(",");
  for (const entry of entries) {
    assert.notEqual(netEntry(entry).port, undefined, `${entry} grants every port`);
  }
  const grants = (address: string, what: string) => {
    const { hostname, port } = parseAddress(address);
    assert.ok(
      entries.some((entry) => covers(entry, hostname, port)),
      `--allow-net=${entries} does not cover ${what} ${address}`,
    );
  };
  const config = rawConfig();
  for (const server of config.servers) {
    const listen = typeof server.listen === "string" ? [server.listen] : server.listen;
    assert.ok(listen.includes("0.0.0.0:8080"), `the example listens on 0.0.0.0:8080: ${listen}`);
    for (const address of listen) grants(address, "the listen address");
    if (server.resolver !== undefined) grants(server.resolver, "the resolver");
    for (const upstream of server.upstreams) {
      const address = typeof upstream === "string" ? upstream : upstream.address;
      if (!address.startsWith("dns:")) continue;
      // Discovered addresses are not known in advance: some CIDR must grant their port.
      const { port } = dnsUpstream(address);
      assert.ok(
        entries.some((entry) =>
          netEntry(entry).host.includes("/") && netEntry(entry).port === port
        ),
        `no CIDR:${port} entry in --allow-net=${entries} for ${address}`,
      );
    }
    // Without "resolver", the pod's own nameserver (kube-dns) answers, and Deno checks it.
    if (server.resolver === undefined) {
      assert.ok(entries.some((entry) => netEntry(entry).port === 53), "no nameserver IP:53");
    }
  }
  for (const admin of flagValues(line, "--admin")) grants(admin, "the admin API");
});

Deno.test("the admin token comes from a Secret, not from the command line or the ConfigMap", () => {
  const tokens = flagValues(commandLine(), "--admin-token");
  assert.ok(!/adminToken/.test(configText()), "the ConfigMap holds the admin token");
  for (const token of tokens) {
    const variable = /^\$\(([A-Z_][A-Z0-9_]*)\)$/.exec(token)?.[1];
    assert.ok(variable, `--admin-token ${token} is written in the manifest`);
    const env = (container().env ?? []).find(({ name }) => name === variable);
    assert.ok(env?.valueFrom?.secretKeyRef, `${variable} does not come from a Secret`);
  }
});

Deno.test("terminationGracePeriodSeconds outlasts the preStop sleep plus the config's drainTimeout", () => {
  const { drainTimeout } = rawConfig();
  const drainMs = drainTimeout === undefined
    ? DEFAULTS.drainTimeout
    : typeof drainTimeout === "number"
    ? drainTimeout
    : parseDuration(drainTimeout);
  const preStop = container().lifecycle?.preStop?.exec?.command ?? [];
  const sleepMs = preStop[0] === "sleep" ? Number(preStop[1]) * 1000 : 0;
  const graceMs = (podSpec().terminationGracePeriodSeconds ?? 30) * 1000;
  assert.ok(
    graceMs > sleepMs + drainMs,
    `grace ${graceMs}ms <= preStop ${sleepMs}ms + drainTimeout ${drainMs}ms: SIGKILL cuts the drain`,
  );
});

Deno.test("a rolling update starts a new pod before it stops an old one (maxUnavailable 0)", () => {
  const { strategy, replicas = 1 } = deployment();
  assert.equal(strategy?.type ?? "RollingUpdate", "RollingUpdate");
  assert.ok([0, "0", "0%"].includes(strategy?.rollingUpdate?.maxUnavailable ?? -1));
  assert.ok(replicas >= 2, "a fleet needs more than one instance");
});

Deno.test("the probes are tcpSocket probes on ports the container declares", () => {
  const { readinessProbe, livenessProbe, startupProbe, ports = [] } = container();
  assert.ok(readinessProbe && livenessProbe, "readiness and liveness probes are both set");
  for (const probe of [readinessProbe, livenessProbe, startupProbe]) {
    if (probe === undefined) continue;
    const port = probe.tcpSocket?.port;
    assert.ok(port !== undefined, `not a tcpSocket probe: ${JSON.stringify(probe)}`);
    assert.ok(ports.some(({ name, containerPort }) => port === name || port === containerPort));
  }
  // Ready means the proxy port accepts, the port the Service sends traffic to.
  const proxy = ports.find(({ containerPort }) => containerPort === 8080);
  assert.ok([proxy?.name, proxy?.containerPort].includes(readinessProbe.tcpSocket?.port));
});

Deno.test("the container runs as non-root on a read-only root filesystem, with DENO_DIR on an emptyDir", () => {
  const { securityContext = {}, env = [], volumeMounts = [] } = container();
  const pod = podSpec().securityContext ?? {};
  assert.equal(securityContext.readOnlyRootFilesystem, true);
  assert.equal(securityContext.allowPrivilegeEscalation, false);
  assert.equal(securityContext.runAsNonRoot ?? pod.runAsNonRoot, true);
  assert.notEqual(securityContext.runAsUser ?? pod.runAsUser ?? 0, 0);
  const denoDir = env.find(({ name }) => name === "DENO_DIR")?.value;
  assert.ok(denoDir, "DENO_DIR is set");
  const mount = volumeMounts.find(({ mountPath }) =>
    mountPath.replace(/\/$/, "") === denoDir.replace(/\/$/, "")
  );
  assert.ok(mount, `nothing is mounted at DENO_DIR ${denoDir}`);
  const volume = (podSpec().volumes ?? []).find(({ name }) => name === mount.name);
  assert.ok(volume && "emptyDir" in volume, `${mount.name} is not an emptyDir`);
});

Deno.test("the command runs this version's CLI from JSR on a pinned Deno image", async () => {
  const { version } = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  ) as { version: string };
  const line = commandLine();
  assert.deepEqual(line.slice(0, 2), ["deno", "run"]);
  assert.ok(line.includes(`jsr:@minginx/minginx@${version}/cli`), line.join(" "));
  assert.match(container().image ?? "", /^denoland\/deno:\d+\.\d+\.\d+$/);
});

Deno.test("the PodDisruptionBudget selects the Deployment's pods and keeps some of them up", () => {
  for (const pdb of all("PodDisruptionBudget")) {
    const spec = pdb.spec as PdbSpec;
    assert.ok(selects(spec.selector.matchLabels, podLabels()), JSON.stringify(spec.selector));
    const replicas = deployment().replicas ?? 1;
    if (typeof spec.maxUnavailable === "number") assert.ok(spec.maxUnavailable < replicas);
    if (typeof spec.minAvailable === "number") assert.ok(spec.minAvailable < replicas);
  }
});

Deno.test("the config in the ConfigMap passes minginx's own config validator", () => {
  // Throws a ConfigError listing every mistake, as `main.ts check` would print them.
  const config = parseConfig(configText(), "minginx.jsonc");
  assert.equal(config.servers.length, 1);
});
