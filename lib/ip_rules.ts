/**
 * Access rules by client address, as both IP filter layers (the TCP one and the HTTP one) apply
 * them: CIDR blocks checked in order, the first that holds the client deciding, and a default for
 * a client that none holds.
 *
 * @module
 */

import { type Cidr, parseCidr, parseIp } from "./ip.ts";

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
  /** Whether a matching client goes on to the inner service or is turned away. */
  action: "allow" | "deny";
  /**
   * The block, as {@linkcode parseCidr} reads it: `10.0.0.0/8`, `2001:db8::/32`, a single
   * address such as `::1`, or `all`. An IPv4 block also matches IPv4-mapped IPv6 clients.
   */
  cidr: string;
}

/**
 * Options for the IP filter layers, `ipFilter` of `@minginx/minginx` (connections) and of
 * `@minginx/minginx/http` (requests).
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

/** What the rules say about one client. */
export interface IpVerdict {
  /** Whether the client may go on. */
  readonly allowed: boolean;
  /** The rule that decided, as `ACTION CIDR`; undefined when none matched and the default did. */
  readonly rule: string | undefined;
}

/**
 * Why the rules turned a client away, as both IP filter layers say it.
 *
 * @param client The client's address.
 * @param rule The rule that denied it, as `ACTION CIDR`; undefined when no rule matched.
 * @returns `Client 10.1.2.3 is denied by "deny 10.0.0.0/8"`, or
 * `Client 10.1.2.3 matches no allow rule`.
 *
 * @example Both messages
 * ```ts
 * import { deniedMessage } from "./ip_rules.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(deniedMessage("::1", "deny ::1"), 'Client ::1 is denied by "deny ::1"');
 * assert.equal(deniedMessage("::1"), "Client ::1 matches no allow rule");
 * ```
 */
export function deniedMessage(client: string, rule?: string): string {
  return rule === undefined
    ? `Client ${client} matches no allow rule`
    : `Client ${client} is denied by "${rule}"`;
}

/**
 * The rules of {@linkcode IpFilterOptions}, each block parsed once. Per client,
 * {@linkcode IpRules.prototype.check} parses the address once, compares it as bytes, and returns
 * a verdict made ahead of time: nothing is allocated per check but the parsed address.
 *
 * @example The first matching rule decides
 * ```ts
 * import { IpRules } from "./ip_rules.ts";
 * import assert from "node:assert/strict";
 *
 * const rules = new IpRules({
 *   rules: [{ action: "deny", cidr: "10.0.0.13" }, { action: "allow", cidr: "10.0.0.0/24" }],
 * });
 * assert.deepEqual(rules.check("10.0.0.13"), { allowed: false, rule: "deny 10.0.0.13" });
 * assert.deepEqual(rules.check("::ffff:10.0.0.7"), { allowed: true, rule: "allow 10.0.0.0/24" });
 * assert.deepEqual(rules.check("8.8.8.8"), { allowed: false, rule: undefined });
 * ```
 */
export class IpRules {
  /** Whether every client is allowed: no rules, and `otherwise` is `"allow"`. */
  readonly allowsAll: boolean;
  readonly #rules: readonly CompiledRule[];
  readonly #otherwise: IpVerdict;

  /**
   * Checks and compiles the rules.
   *
   * @param options The rules, and what to do when none matches.
   * @throws {TypeError} If a block is malformed, naming it as `--allow` or `--deny` would:
   * `Cannot parse --allow "10.0.0.0/33": expected ...`; if an action or `otherwise` is neither
   * `"allow"` nor `"deny"`; or if `rules` is not an array.
   */
  constructor(options: IpFilterOptions) {
    if (!Array.isArray(options.rules)) {
      throw new TypeError(
        `Cannot use IP filter rules "${options.rules}": expected an array of rules`,
      );
    }
    const rules = options.rules.map(compile);
    const otherwise = options.otherwise ??
      (rules.some((rule) => rule.verdict.allowed) ? "deny" : "allow");
    if (otherwise !== "allow" && otherwise !== "deny") {
      throw new TypeError(`Cannot use IP filter otherwise "${otherwise}": expected allow or deny`);
    }
    this.#rules = rules;
    this.#otherwise = Object.freeze({ allowed: otherwise === "allow", rule: undefined });
    this.allowsAll = rules.length === 0 && otherwise === "allow";
  }

  /**
   * What the rules say about a client: the first rule whose block holds its address decides,
   * else `otherwise` does.
   *
   * @param client The client's address, such as `10.1.2.3` or `::ffff:10.1.2.3`.
   * @returns The verdict, one object per rule shared by every check.
   */
  check(client: string): IpVerdict {
    const ip = parseIp(client) ?? client; // parsed once for all the rules
    for (const rule of this.#rules) if (rule.cidr.contains(ip)) return rule.verdict;
    return this.#otherwise;
  }
}

/** A rule with its block parsed once, and its verdict made once. */
interface CompiledRule {
  cidr: Cidr;
  verdict: IpVerdict;
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
    cidr: parseCidr(cidr, `--${action}`),
    verdict: Object.freeze({ allowed: action === "allow", rule: `${action} ${cidr}` }),
  };
}
