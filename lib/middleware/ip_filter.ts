/**
 * The IP filter middleware: allow and deny lists of CIDR blocks, checked in order, so that a
 * client the rules turn away is closed before any upstream hears of it.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { type Cidr, parseCidr, parseIp } from "../ip.ts";
import { ConnectionError, type ConnectionReport } from "../report.ts";
import type { Layer } from "../service.ts";

/**
 * Ends a connection whose client address the rules do not allow (`denied`).
 *
 * @example Its reason and messages
 * ```ts
 * import { DeniedError } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const error = new DeniedError("10.1.2.3", "deny 10.0.0.0/8");
 * assert.equal(error.reason, "denied");
 * assert.equal(error.message, 'Client 10.1.2.3 is denied by "deny 10.0.0.0/8"');
 * assert.equal(new DeniedError("10.1.2.3").message, "Client 10.1.2.3 matches no allow rule");
 * ```
 */
export class DeniedError extends ConnectionError {
  /** The client's address, as the connection reported it. */
  readonly client: string;
  /** The rule that denied the client, such as `deny 10.0.0.0/8`; undefined if none matched. */
  readonly rule: string | undefined;

  /**
   * @param client The client's address.
   * @param rule The rule that denied it, as `ACTION CIDR`; leave it out when no rule matched.
   */
  constructor(client: string, rule?: string) {
    super(
      "denied",
      rule === undefined
        ? `Client ${client} matches no allow rule`
        : `Client ${client} is denied by "${rule}"`,
    );
    this.name = "DeniedError";
    this.client = client;
    this.rule = rule;
  }
}

/**
 * One access rule: what to do with a client whose address falls in a block.
 *
 * @example Let one network in
 * ```ts
 * import type { IpRule } from "@minginx/minginx";
 *
 * const rule: IpRule = { action: "allow", cidr: "192.168.1.0/24" };
 * ```
 */
export interface IpRule {
  /** Whether a matching client goes on to the inner service or is closed. */
  action: "allow" | "deny";
  /**
   * The block, as {@linkcode parseCidr} reads it: `10.0.0.0/8`, `2001:db8::/32`, a single
   * address such as `::1`, or `all`. An IPv4 block also matches IPv4-mapped IPv6 clients.
   */
  cidr: string;
}

/**
 * Options for {@linkcode ipFilter}.
 *
 * @example One host of a network, and nobody else
 * ```ts
 * import { ipFilter, type IpFilterOptions } from "@minginx/minginx";
 *
 * const options: IpFilterOptions = {
 *   rules: [
 *     { action: "deny", cidr: "10.0.0.13" },
 *     { action: "allow", cidr: "10.0.0.0/24" },
 *   ],
 * };
 * const layer = ipFilter(options);
 * ```
 */
export interface IpFilterOptions {
  /**
   * The rules, checked in the order given: the first whose block holds the client's address
   * decides, as with nginx's `allow` and `deny`. Put a narrow exception before the broad rule.
   */
  rules: readonly IpRule[];
  /**
   * What happens to a client that no rule matches. The default is `"deny"` if any rule is an
   * allow rule (an allow list), else `"allow"` (a deny list).
   *
   * @default {"deny" if any rule allows, else "allow"}
   */
  otherwise?: "allow" | "deny";
}

/**
 * The IP filter layer: checks each client's address against the rules, in order, and ends a
 * denied connection with a {@linkcode DeniedError} without calling the inner service, so no
 * upstream is contacted. Allowed connections go to the inner service unchanged. Every block is
 * parsed once, here; per connection the client's address is parsed once and compared as bytes.
 * A client that arrives as IPv4-mapped IPv6 (`::ffff:10.1.2.3`, on a dual-stack listener)
 * matches IPv4 rules; `all` matches every client.
 *
 * @param options The rules, and what to do when none matches.
 * @returns The layer.
 * @throws {TypeError} If a block is malformed, naming it as `--allow` or `--deny` would:
 * `Cannot parse --allow "10.0.0.0/33": expected ...`; if an action or `otherwise` is neither
 * `"allow"` nor `"deny"`; or if `rules` is not an array.
 *
 * @example Turn a client away before any upstream is contacted
 * ```ts
 * import { forward, ipFilter, serve, ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * using upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const service = new ServiceBuilder()
 *   .layer(ipFilter({ rules: [{ action: "deny", cidr: "127.0.0.1" }] }))
 *   .service(forward({ upstreams: [upstream.addr] }));
 * await using proxy = serve({ listen: "127.0.0.1:0", service });
 *
 * using client = await Deno.connect(proxy.address);
 * // Denied: closed at once, before the proxy connects to the upstream.
 * assert.equal(await client.read(new Uint8Array(1)), null);
 * assert.throws(() => ipFilter({ rules: [{ action: "allow", cidr: "10.0.0/8" }] }), {
 *   name: "TypeError",
 *   message: /^Cannot parse --allow "10\.0\.0\/8": expected/,
 * });
 * ```
 */
export function ipFilter(options: IpFilterOptions): Layer<Connection, ConnectionReport> {
  if (!Array.isArray(options.rules)) {
    throw new TypeError(
      `Cannot use IP filter rules "${options.rules}": expected an array of rules`,
    );
  }
  const rules = options.rules.map(compile);
  const otherwise = options.otherwise ??
    (rules.some((rule) => rule.allow) ? "deny" : "allow");
  if (otherwise !== "allow" && otherwise !== "deny") {
    throw new TypeError(`Cannot use IP filter otherwise "${otherwise}": expected allow or deny`);
  }
  if (rules.length === 0 && otherwise === "allow") return (inner) => inner;
  return (inner) =>
    function ipFilter(connection: Connection): Promise<ConnectionReport> {
      const client = connection.clientAddress.hostname;
      const ip = parseIp(client) ?? client; // parsed once for all the rules
      for (const rule of rules) {
        if (!rule.cidr.contains(ip)) continue;
        if (rule.allow) return inner(connection);
        return Promise.resolve(connection.end(new DeniedError(client, rule.text)));
      }
      if (otherwise === "allow") return inner(connection);
      return Promise.resolve(connection.end(new DeniedError(client)));
    };
}

/** A rule with its block parsed once. */
interface CompiledRule {
  allow: boolean;
  cidr: Cidr;
  /** The rule as written, `ACTION CIDR`, for the error message. */
  text: string;
}

function compile(rule: IpRule): CompiledRule {
  const { action, cidr } = rule;
  if (action !== "allow" && action !== "deny") {
    throw new TypeError(`Cannot use IP filter action "${action}": expected allow or deny`);
  }
  if (typeof cidr !== "string") {
    throw new TypeError(
      `Cannot parse --${action} "${cidr}": expected a CIDR as text, such as 10.0.0.0/8`,
    );
  }
  return {
    allow: action === "allow",
    cidr: parseCidr(cidr, `--${action}`),
    text: `${action} ${cidr}`,
  };
}
