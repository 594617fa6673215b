/**
 * The flags for the optional layers: access rules, rate and connection limits, and faults. They
 * parse into plain data, which a worker receives as it is, and {@linkcode limitLayers} turns the
 * limits into layers in the order a connection meets them (the stack adds faults, whose modules
 * load only when used).
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { parseCidr } from "../ip.ts";
import type { FaultOptions } from "../middleware/faults.ts";
import { parseFault } from "../middleware/faults/spec.ts";
import type { IpRule } from "../middleware/ip_filter.ts";
import { parseRate } from "../rate.ts";
import type { ConnectionReport } from "../report.ts";
import type { Layer } from "../service.ts";
import { durationFlag, type Values } from "./_flag_values.ts";
import { modules } from "./optional_modules.ts";

/** What the optional layers' flags say. Every field is plain data. */
export interface LayerFlags {
  /** `--allow` and `--deny`, in command-line order. */
  ipRules: IpRule[];
  /** `--rate-limit` in connections per second, with `--rate-burst`. */
  rateLimit?: { rate: number; burst: number };
  /** `--max-connections-per-ip`. */
  maxConnectionsPerIp?: number;
  /** `--max-connections`, with `--queue` and `--queue-timeout` in milliseconds. */
  maxConnections?: { max: number; queue: number; queueTimeout: number };
  /** `--fault`, each as given. */
  faults: FaultOptions[];
}

/** The parseArgs options for these flags. */
export const LAYER_FLAGS = {
  allow: { type: "string", multiple: true },
  deny: { type: "string", multiple: true },
  "rate-limit": { type: "string" },
  "rate-burst": { type: "string" },
  "max-connections-per-ip": { type: "string" },
  "max-connections": { type: "string" },
  queue: { type: "string" },
  "queue-timeout": { type: "string" },
  fault: { type: "string", multiple: true },
} as const;

/** How long a queued connection waits for a slot unless `--queue-timeout` says otherwise. */
export const DEFAULT_QUEUE_TIMEOUT_MS = 5_000;

type Token = { kind: string; name?: string; value?: string };

/**
 * Reads the layer flags from parseArgs' values and tokens (the tokens keep `--allow` and `--deny`
 * in the order they were given, since the first matching rule wins).
 *
 * @param values What parseArgs returned as `values`.
 * @param tokens What parseArgs returned as `tokens`.
 * @returns The layer flags.
 * @throws {TypeError} For a malformed value or a flag that needs another; the CLI reports it as
 * a usage error.
 */
export function parseLayerFlags(values: Values, tokens: readonly Token[]): LayerFlags {
  const ipRules: IpRule[] = [];
  for (const token of tokens) {
    if (token.kind !== "option" || (token.name !== "allow" && token.name !== "deny")) continue;
    const cidr = token.value ?? "";
    parseCidr(cidr, `--${token.name}`);
    ipRules.push({ action: token.name, cidr });
  }
  const flags: LayerFlags = {
    ipRules,
    faults: ((values.fault ?? []) as string[]).map((text) => parseFault(text, "--fault")),
  };
  const rate = values["rate-limit"] as string | undefined;
  const burst = values["rate-burst"] as string | undefined;
  if (rate !== undefined) {
    const perSecond = parseRate(rate, "--rate-limit");
    flags.rateLimit = {
      rate: perSecond,
      burst: burst === undefined ? Math.max(1, Math.ceil(perSecond)) : count(burst, "--rate-burst"),
    };
  } else if (burst !== undefined) needs("--rate-burst", "--rate-limit");
  const perIp = values["max-connections-per-ip"] as string | undefined;
  if (perIp !== undefined) flags.maxConnectionsPerIp = count(perIp, "--max-connections-per-ip");
  const max = values["max-connections"] as string | undefined;
  const queue = values.queue as string | undefined;
  const queueTimeout = values["queue-timeout"] as string | undefined;
  if (max !== undefined) {
    flags.maxConnections = {
      max: count(max, "--max-connections"),
      queue: queue === undefined ? 0 : count(queue, "--queue", 0),
      queueTimeout: durationFlag(values, "queue-timeout", DEFAULT_QUEUE_TIMEOUT_MS, true),
    };
    if (queueTimeout !== undefined && flags.maxConnections.queue === 0) {
      needs("--queue-timeout", "--queue");
    }
  } else if (queue !== undefined) needs("--queue", "--max-connections");
  else if (queueTimeout !== undefined) needs("--queue-timeout", "--max-connections and --queue");
  return flags;
}

/**
 * The limit layers the flags ask for, outermost first: the access rules, the rate limit, the
 * per-client and then the overall connection limit. A connection turned away by one never
 * reaches (or counts against) the ones after it.
 *
 * @param flags What the flags say.
 * @param reuse The layers of the stack before a reload, to keep those that did not change.
 * @returns The layers, in the order to add them after the access log and before the timeout.
 * @throws {Error} If the flags ask for limits and `loadModules()` has not loaded them.
 */
export function limitLayers(
  flags: LayerFlags,
  reuse: LayerReuse = new LayerReuse(),
): Layer<Connection, ConnectionReport>[] {
  const limits: Layer<Connection, ConnectionReport>[] = [];
  const { ipRules, rateLimit: rate, maxConnectionsPerIp: perIp, maxConnections: max } = flags;
  if (ipRules.length > 0) {
    limits.push(
      reuse.get("ipFilter", ipRules, () => modules("limits").ipFilter({ rules: ipRules })),
    );
  }
  if (rate) limits.push(reuse.get("rateLimit", rate, () => modules("limits").rateLimit(rate)));
  if (perIp !== undefined) {
    limits.push(
      reuse.get("perIp", perIp, () => modules("limits").concurrencyLimitPerClient({ max: perIp })),
    );
  }
  if (max) {
    limits.push(reuse.get("maxConnections", max, () => modules("limits").concurrencyLimit(max)));
  }
  return limits;
}

/**
 * The limit layers of one server kept across reloads: a layer whose settings did not change is
 * the same layer after a reload, so it goes on counting the connections opened before it (a
 * connection limit does not start again from zero, a rate limit keeps its buckets). A layer whose
 * settings changed starts afresh.
 */
export class LayerReuse {
  readonly #previous: ReadonlyMap<string, Layer<Connection, ConnectionReport>>;
  /** The layers the new stack uses, to be kept for the next reload. */
  readonly used = new Map<string, Layer<Connection, ConnectionReport>>();

  /**
   * @param previous The layers the last stack used, from its `used`.
   */
  constructor(previous: ReadonlyMap<string, Layer<Connection, ConnectionReport>> = new Map()) {
    this.#previous = previous;
  }

  /** The layer of this kind and settings from the last stack, or a new one. */
  get(
    kind: string,
    settings: unknown,
    create: () => Layer<Connection, ConnectionReport>,
  ): Layer<Connection, ConnectionReport> {
    const key = `${kind} ${JSON.stringify(settings)}`;
    const layer = this.#previous.get(key) ?? create();
    this.used.set(key, layer);
    return layer;
  }
}

function count(text: string, flag: string, lowest = 1): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < lowest) {
    throw new TypeError(
      `Cannot parse ${flag} "${text}": expected a whole number, at least ${lowest}`,
    );
  }
  return n;
}

function needs(flag: string, other: string): never {
  throw new TypeError(`Option ${flag} needs ${other}: add it, or drop ${flag}`);
}
