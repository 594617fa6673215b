/**
 * The HTTP IP filter middleware: allow and deny lists of CIDR blocks, checked in order, the same
 * rules as the TCP layer's, so that a client the rules turn away gets a 403 before any upstream
 * hears of it.
 *
 * @module
 */

import { deniedMessage, type IpFilterOptions, IpRules } from "../../ip_rules.ts";
import { requestInfo } from "../request_info.ts";
import type { HttpLayer } from "../service.ts";
import { refusal } from "../_response.ts";

export type { IpFilterOptions, IpRule } from "../../ip_rules.ts";

/**
 * Why {@linkcode ipFilter} answered 403: the rules do not allow the client's address. Its
 * message is the TCP layer's `DeniedError`'s.
 *
 * @example Its status and messages
 * ```ts
 * import { ForbiddenError } from "@minginx/minginx/http";
 * import assert from "node:assert/strict";
 *
 * const error = new ForbiddenError("10.1.2.3", "deny 10.0.0.0/8");
 * assert.equal(error.status, 403);
 * assert.equal(error.message, 'Client 10.1.2.3 is denied by "deny 10.0.0.0/8"');
 * assert.equal(new ForbiddenError("10.1.2.3").message, "Client 10.1.2.3 matches no allow rule");
 * ```
 */
export class ForbiddenError extends Error {
  /** The status the client gets. */
  readonly status = 403;
  /** The client's address, as the server reported it. */
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
    super(deniedMessage(client, rule));
    this.name = "ForbiddenError";
    this.client = client;
    this.rule = rule;
  }
}

/**
 * The HTTP IP filter layer: checks each request's client address
 * (`requestInfo(request).client`) against the rules, in order, as the TCP `ipFilter` does, and
 * answers a denied request with 403 and a line saying which rule denied it, without calling the
 * inner service. Allowed requests go to the inner service unchanged. An IPv4-mapped IPv6 client
 * matches IPv4 rules; `all` matches every client.
 *
 * @param options The rules, and what to do when none matches.
 * @returns The layer.
 * @throws {TypeError} If a block is malformed (`Cannot parse --allow "10.0.0.0/33": expected
 * ...`), an action or `otherwise` is neither `"allow"` nor `"deny"`, or `rules` is not an array.
 *
 * @example Turn loopback clients away
 * ```ts
 * import { ipFilter, serviceFn, toHandler } from "@minginx/minginx/http";
 * import { ServiceBuilder } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const service = new ServiceBuilder<Request, Response>()
 *   .layer(ipFilter({ rules: [{ action: "deny", cidr: "127.0.0.0/8" }] }))
 *   .service(serviceFn(() => new Response("hello")));
 * await using server = Deno.serve(
 *   { hostname: "127.0.0.1", port: 0, onListen: () => {} },
 *   toHandler(service),
 * );
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assert.equal(response.status, 403);
 * assert.equal(await response.text(), 'Client 127.0.0.1 is denied by "deny 127.0.0.0/8"\n');
 * ```
 */
export function ipFilter(options: IpFilterOptions): HttpLayer {
  const rules = new IpRules(options);
  if (rules.allowsAll) return (inner) => inner;
  return (inner) =>
    function ipFilter(request: Request): Promise<Response> {
      const info = requestInfo(request);
      const verdict = rules.check(info.client.hostname);
      if (verdict.allowed) return inner(request);
      return Promise.resolve(refusal(info, new ForbiddenError(info.client.hostname, verdict.rule)));
    };
}
