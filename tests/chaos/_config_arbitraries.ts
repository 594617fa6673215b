/** The generator of whole configs for the fuzz tests, each tagged OK, SEMANTIC or SHAPE. */

import fc from "fast-check";
import { parseAddress } from "../../lib/address.ts";
import { ALGORITHMS } from "../../lib/balance/algorithms.ts";
import { LOG_FORMATS, LOG_LEVELS } from "../../lib/cli/args.ts";
import { parseDuration } from "../../lib/duration.ts";
import { parseHealthCheck } from "../../lib/health/parse.ts";
import { clientKey, parseCidr } from "../../lib/ip.ts";
import { parseFault } from "../../lib/middleware/faults/spec.ts";
import { parseRate } from "../../lib/rate.ts";
import { parseUpstream } from "../../lib/pool/upstream.ts";
import { address, ALPHABET, cidr, duration, MAX_MS, rate, shortDuration } from "./_arbitraries.ts";
import { fault, healthCheck, upstream } from "./_spec_arbitraries.ts";
import {
  arrayOf,
  boolean,
  isNumber,
  isObject,
  isString,
  mostly,
  objectOf,
  OK,
  ok,
  oneOf,
  parsed,
  SEMANTIC,
  SHAPE,
  shape,
  type Tag,
  type Tagged,
  tryParse,
  whole,
  worst,
  wrong,
} from "./_tagged.ts";
import { mutate, over } from "./_text_arbitraries.ts";

// The patterns of schema.json, compiled as ajv compiles them.
/** schema.json, parsed. */
export const SCHEMA = JSON.parse(
  await Deno.readTextFile(new URL("../../schema.json", import.meta.url)),
);
const SERVER = SCHEMA.properties.servers.items.properties;
const pattern = (text: string) => new RegExp(text, "u");
const PATTERN = {
  duration: pattern(SCHEMA.$defs.duration.anyOf[0].pattern),
  zero: pattern(SCHEMA.$defs.positiveDuration.anyOf[0].not.pattern),
  address: pattern(SCHEMA.$defs.address.pattern),
  listen: pattern(SCHEMA.$defs.listenAddress.pattern),
  cidr: pattern(SCHEMA.$defs.cidr.pattern),
  upstream: pattern(SCHEMA.$defs.upstreams.items.anyOf[0].pattern),
  check: pattern(SERVER.healthCheck.properties.check.pattern),
  rate: pattern(SERVER.rateLimit.properties.rate.pattern),
  fault: pattern(SERVER.faults.items.pattern),
};

/** A duration: text or whole milliseconds; above 0 if `positive`. */
function durationField(positive: boolean): fc.Arbitrary<Tagged> {
  const min = positive ? 1 : 0;
  const text = duration.map(({ text, expected }): Tagged => {
    if (expected > MAX_MS) return { value: text, tag: SEMANTIC }; // a sum the pattern cannot bound
    if (expected >= min) return { value: text, tag: OK };
    return { value: text, tag: /^[0.mhs]*$/.test(text) ? SHAPE : SEMANTIC }; // 0, or rounds to 0
  });
  const random = fc.oneof(
    mutate(duration.map((d) => d.text), ALPHABET.duration),
    over("0.mshx1", 0, 8),
  )
    .map((text): Tagged => {
      if (!PATTERN.duration.test(text) || (positive && PATTERN.zero.test(text))) {
        return { value: text, tag: SHAPE };
      }
      const ms = tryParse(() => parseDuration(text)) ?? -1;
      return { value: text, tag: ms >= min ? OK : SEMANTIC };
    });
  const valid = fc.oneof(
    shortDuration.filter((d) => d.expected >= min).map((d) => d.text),
    fc.integer({ min, max: MAX_MS }),
  );
  return mostly(
    ok(valid),
    text,
    random,
    shape(fc.integer({ min: -1e6, max: min - 1 })),
    shape(fc.integer({ min: MAX_MS + 1, max: 2 ** 40 })),
    shape(fc.constantFrom(1.5, 0.25, 1e-7)),
    wrong((v) => isString(v) || isNumber(v)),
  );
}

const listenAddress = parsed(
  address(true).map((a) => a.text),
  ALPHABET.address,
  PATTERN.listen,
  (text) => parseAddress(text, { allowPortZero: true }),
);
const cidrText = parsed(
  fc.oneof(fc.constant("all"), cidr.map((c) => c.text)),
  ALPHABET.cidr,
  PATTERN.cidr,
  parseCidr,
);
/** An access rule: exactly one of allow and deny. */
const accessRule = mostly(
  fc.tuple(fc.constantFrom("allow", "deny"), cidrText)
    .map(([action, { value, tag }]): Tagged => ({ value: { [action]: value }, tag })),
  objectOf({ allow: cidrText, deny: cidrText }, [], (rule, tag) => {
    const actions = Object.keys(rule).filter((key) => key === "allow" || key === "deny").length;
    return actions === 1 && Object.keys(rule).length === 1 ? tag : SHAPE;
  }),
);

/** An upstream list, as "upstreams", an SNI route and "sniFallback" take it. */
const upstreams = arrayOf(
  fc.oneof(
    parsed(
      upstream.map((u) => u.text),
      "0123456789.:[],=weightbackup",
      PATTERN.upstream,
      parseUpstream,
    ),
    objectOf({
      address: parsed(
        address().map((a) => a.text),
        ALPHABET.address,
        PATTERN.address,
        parseAddress,
      ),
      weight: whole(1, 1000),
      backup: boolean,
    }, ["address"]),
  ),
  1,
  3,
);
const pemPath = mostly(
  ok(fc.constantFrom("a.crt", "/etc/k.pem")),
  shape(fc.constant("")),
  wrong(isString),
);
const alpn = arrayOf(
  mostly(ok(fc.constantFrom("h2", "http/1.1", "x")), shape(fc.constantFrom("", "a b", "a,b"))),
  1,
  3,
);
const routeName = mostly(
  ok(fc.constantFrom("a.test", "*.example.com", "B.Test", "x_1.y")),
  shape(fc.constantFrom("", "a..b", "*.", "a b", "-a.b", "**.a")),
);
/** SNI routes: server names to upstream lists. */
const sni = mostly(
  fc.array(fc.tuple(routeName, upstreams), { maxLength: 3 }).map((routes): Tagged => ({
    value: Object.fromEntries(routes.map(([name, list]) => [name.value, list.value])),
    // A name given twice keeps the last: the tag is of the routes that stay.
    tag: worst(
      [...new Map(routes.map(([name, list]) => [name.value, worst([name.tag, list.tag])]))
        .values()],
    ),
  })),
  wrong(isObject),
);
const edge = {
  acceptProxy: arrayOf(cidrText, 0, 2),
  tls: objectOf({
    certificates: arrayOf(objectOf({ cert: pemPath, key: pemPath }, ["cert", "key"]), 1, 2),
    alpn,
  }, ["certificates"]),
  sni,
  sniFallback: upstreams,
  handshakeTimeout: durationField(true),
  upstreamTls: mostly(
    ok(fc.constant(true)),
    // An object's wrong values include true, which this field takes.
    objectOf({ ca: pemPath, serverName: pemPath, alpn }, []).filter(({ value }) => value !== true),
    shape(fc.constant(false)),
  ),
  sendProxy: oneOf(["v1", "v2"]),
};

const server = objectOf(
  {
    name: mostly(
      ok(fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.constantFrom("web", "server-1"))),
      shape(fc.constant("")),
      wrong(isString),
    ),
    listen: fc.oneof(listenAddress, arrayOf(listenAddress, 1, 3)),
    upstreams,
    balance: oneOf(Object.keys(ALGORITHMS)),
    healthCheck: objectOf({
      check: parsed(
        healthCheck.map((h) => h.text),
        "tcphttp:/,=sendexpect\\x0123",
        PATTERN.check,
        parseHealthCheck,
      ),
      interval: durationField(true),
      timeout: durationField(true),
      rise: whole(1),
      fall: whole(1),
    }, ["check"]),
    passive: objectOf({ maxFails: whole(0), failTimeout: durationField(false) }, []),
    slowStart: durationField(false),
    connect: objectOf({
      tries: whole(1),
      timeout: durationField(false),
      deadline: durationField(false),
    }, []),
    dnsTtl: durationField(false),
    idleTimeout: durationField(false),
    access: arrayOf(accessRule, 0, 3),
    rateLimit: objectOf({
      rate: parsed(
        rate.filter((r) => r.expected > 0).map((r) => r.text),
        ALPHABET.rate,
        PATTERN.rate,
        parseRate,
      ),
      burst: whole(1),
    }, ["rate"]),
    maxConnectionsPerIp: whole(1),
    maxConnections: objectOf(
      { max: whole(1), queue: whole(0), queueTimeout: durationField(false) },
      ["max"],
      (limit, tag) => "queueTimeout" in limit && (limit.queue ?? 0) === 0 ? SEMANTIC : tag,
    ),
    faults: arrayOf(
      parsed(fault.map((f) => f.text), "upstream:latency=1ms,", PATTERN.fault, parseFault),
      0,
      2,
    ),
    onUpstreamRemoved: objectOf(
      { action: oneOf(["drain", "close"]), after: durationField(false) },
      [],
    ),
    ...edge,
  },
  ["listen", "upstreams"],
  (server, tag) => fallbackAlone(server) ? SEMANTIC : tag,
);

/** A fallback with no SNI route to fall back from: the schema cannot say so; the validator does. */
function fallbackAlone(server: Record<string, unknown>): boolean {
  if (!("sniFallback" in server)) return false;
  const { sni } = server;
  return !isObject(sni) || Object.keys(sni as object).length === 0;
}

/** SEMANTIC if two servers share a name (given or default) or a listen address (not port 0). */
function duplicates(servers: unknown[]): Tag {
  const names = servers.map((server, i) =>
    isObject(server) && Object.hasOwn(server as object, "name")
      ? (server as { name: unknown }).name
      : `server-${i}`
  );
  const listens = servers.flatMap((server) => {
    const listen = isObject(server) ? (server as { listen?: unknown }).listen : undefined;
    return (Array.isArray(listen) ? listen : [listen]).flatMap((text) => {
      if (typeof text !== "string") return [];
      const address = tryParse(() => parseAddress(text, { allowPortZero: true }));
      if (!address || address.port === 0) return [];
      return [`${clientKey(address.hostname).toLowerCase()}:${address.port}`];
    });
  });
  const twice = (list: unknown[]) => new Set(list).size < list.length;
  return twice(names) || twice(listens) ? SEMANTIC : OK;
}

/** A whole config, tagged with the worst of its values and its duplicates. */
export const config = objectOf({
  $schema: mostly(ok(fc.string({ maxLength: 8 })), wrong(isString)),
  drainTimeout: durationField(false),
  logLevel: oneOf(LOG_LEVELS),
  logFormat: oneOf(LOG_FORMATS),
  accessLog: mostly(
    ok(fc.constantFrom("access.log", "/var/log/a b")),
    shape(fc.constant("")),
    wrong(isString),
  ),
  workers: mostly(
    ok(fc.oneof(fc.integer({ min: 1, max: 256 }), fc.constant("auto"))),
    shape(fc.constantFrom(0, 257, -1, 1.5, "AUTO", "2")),
    wrong((v) => isString(v) || isNumber(v)),
  ),
  servers: arrayOf(server, 1, 2).map(({ value, tag }) => ({
    value,
    tag: Array.isArray(value) ? worst([tag, duplicates(value)]) : tag,
  })),
}, ["servers"]);
