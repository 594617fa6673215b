/**
 * The modules of features a proxy may leave unused, loaded only once a server uses them: TLS
 * (with Node's TLS and crypto modules), PROXY protocol headers, SNI routing, discovery, the
 * access rules and limits, faults, and the admin API's metrics. Each costs memory for as long
 * as the process runs, so a plain proxy stays small. Load them with {@linkcode loadModules}
 * before building the stacks of the servers; a stack takes them with {@linkcode modules}.
 *
 * @module
 */

import type { EdgeFlags } from "./edge_flags.ts";
import type { LayerFlags } from "./layer_flags.ts";
import type { PoolFlags } from "./pool_flags.ts";

const LOADERS = {
  tls: async () => {
    const [certificates, terminate] = await Promise.all([
      import("../tls/certificates.ts"),
      import("../tls/terminate.ts"),
    ]);
    return { ...certificates, ...terminate };
  },
  acceptProxy: () => import("../middleware/accept_proxy.ts"),
  sni: () => import("../tls/sni_router.ts"),
  discovery: async () => {
    const [follow, from] = await Promise.all([
      import("../discovery/follow.ts"),
      import("../discovery/discovery_from.ts"),
    ]);
    return { ...follow, ...from };
  },
  limits: async () => {
    const [ipFilter, rateLimit, limit, perClient] = await Promise.all([
      import("../middleware/ip_filter.ts"),
      import("../middleware/rate_limit.ts"),
      import("../middleware/concurrency_limit.ts"),
      import("../middleware/concurrency_limit_per_client.ts"),
    ]);
    return { ...ipFilter, ...rateLimit, ...limit, ...perClient };
  },
  faults: () => import("../middleware/faults.ts"),
  metrics: async () => {
    const [metrics, snapshot, layer, admin] = await Promise.all([
      import("../metrics/proxy_metrics.ts"),
      import("../metrics/snapshot.ts"),
      import("../middleware/metrics.ts"),
      import("./runtime_admin.ts"),
    ]);
    return { ...metrics, ...snapshot, ...layer, ...admin };
  },
};

/** The features that load modules of their own, and what each loads. */
export type OptionalModules = {
  [Feature in keyof typeof LOADERS]: Awaited<ReturnType<typeof LOADERS[Feature]>>;
};

/** A feature with modules of its own. */
export type Feature = keyof OptionalModules;

/** What a server's settings say about the features it uses. */
export type FeatureSettings =
  & Pick<EdgeFlags, "tls" | "upstreamTls" | "acceptProxy" | "sni">
  & Pick<PoolFlags, "discover">
  & LayerFlags;

const loaded: Partial<OptionalModules> = {};

/** Which servers use each feature; metrics go with the admin API instead. */
const USES: Record<Exclude<Feature, "metrics">, (server: FeatureSettings) => boolean> = {
  tls: ({ tls, upstreamTls }) => tls.length > 0 || upstreamTls?.ca !== undefined,
  acceptProxy: ({ acceptProxy }) => acceptProxy.length > 0,
  sni: ({ sni }) => sni.length > 0,
  discovery: ({ discover }) => discover.length > 0,
  limits: ({ ipRules, rateLimit, maxConnectionsPerIp, maxConnections }) =>
    ipRules.length > 0 || rateLimit !== undefined || maxConnectionsPerIp !== undefined ||
    maxConnections !== undefined,
  faults: ({ faults }) => faults.length > 0,
};

/**
 * The features the servers use.
 *
 * @param servers The servers' settings.
 * @param admin Whether the admin API runs, which counts metrics.
 * @returns The features, each once.
 */
export function featuresOf(servers: readonly FeatureSettings[], admin = false): Feature[] {
  const features: Feature[] = (Object.keys(USES) as (keyof typeof USES)[])
    .filter((feature) => servers.some(USES[feature]));
  return admin ? [...features, "metrics"] : features;
}

/**
 * Loads the modules of the features the servers use, unless they are loaded already.
 *
 * @param servers The settings of the servers about to be built.
 * @param admin Whether the admin API runs, which counts metrics.
 */
export async function loadModules(
  servers: readonly FeatureSettings[],
  admin = false,
): Promise<void> {
  const store = loaded as Record<Feature, unknown>;
  await Promise.all(
    featuresOf(servers, admin).map(async (feature) => {
      store[feature] ??= await LOADERS[feature]();
    }),
  );
}

/**
 * The modules of a feature, for a stack that uses it.
 *
 * @param feature The feature.
 * @returns Its modules' exports.
 * @throws {Error} If {@linkcode loadModules} has not loaded them: a mistake in minginx, not in a
 * config.
 */
export function modules<F extends Feature>(feature: F): OptionalModules[F] {
  const found = loaded[feature];
  if (!found) {
    throw new Error(
      `The ${feature} modules were not loaded before a stack that needs them: call loadModules()`,
    );
  }
  return found;
}
