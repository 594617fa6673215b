/**
 * The IP filter middleware: allow and deny lists of CIDR blocks, checked in order, so that a
 * client the rules turn away is closed before any upstream hears of it.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import { deniedMessage, type IpFilterOptions, IpRules } from "../ip_rules.ts";
import { ConnectionError, type ConnectionReport } from "../report.ts";
import type { Layer } from "../service.ts";

// The rules are shared with the HTTP layer; their types are part of this module's API.
export type { IpFilterOptions, IpRule } from "../ip_rules.ts";

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
   * Creates the error for a client the rules turned away.
   *
   * @param client The client's address.
   * @param rule The rule that denied it, as `ACTION CIDR`; leave it out when no rule matched.
   */
  constructor(client: string, rule?: string) {
    super("denied", deniedMessage(client, rule));
    this.name = "DeniedError";
    this.client = client;
    this.rule = rule;
  }
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
  const rules = new IpRules(options);
  if (rules.allowsAll) return (inner) => inner;
  return (inner) =>
    function ipFilter(connection: Connection): Promise<ConnectionReport> {
      const client = connection.clientAddress.hostname;
      const verdict = rules.check(client);
      if (verdict.allowed) return inner(connection);
      return Promise.resolve(connection.end(new DeniedError(client, verdict.rule)));
    };
}
