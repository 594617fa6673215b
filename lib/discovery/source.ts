/**
 * Discovery sources as the command line and config files write them, among the upstreams:
 * `dns:HOST:PORT`, `srv:NAME` and `file:PATH`. `discovery_from.ts` follows them.
 *
 * @module
 */

import { type Address, formatAddress } from "../address.ts";
import { MAX_WEIGHT, parseUpstream } from "../pool/upstream.ts";

/** A discovery source, parsed; `text` is how it was written, which names it. */
export type SourceSpec =
  | { kind: "dns"; text: string; address: Address; weight: number; backup: boolean }
  | { kind: "srv"; text: string; name: string }
  | { kind: "file"; text: string; path: string };

const SOURCE = /^(dns|srv|file):(.*)$/s;
const SRV_NAME = /^(?:_[A-Za-z0-9-]+\.){2}(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+\.?$/;

/**
 * Parses an upstream that is a discovery source: `dns:HOST:PORT` (with `,weight=N` and
 * `,backup` as a plain upstream takes them), `srv:_SERVICE._PROTO.NAME`, or `file:PATH`.
 *
 * @param text The upstream as written.
 * @param label What the text is, for error messages, such as `--upstream`.
 * @returns The source, or `undefined` if the text is not a discovery source (a plain upstream).
 * @throws {TypeError} If it starts like a source but is malformed; the message quotes it.
 *
 * @example Three kinds of source
 * ```ts
 * import { parseSource } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseSource("dns:web.internal:8080,weight=2")?.kind, "dns");
 * assert.equal(parseSource("srv:_http._tcp.web.service.consul")?.kind, "srv");
 * assert.equal(parseSource("file:/run/minginx/web.json")?.kind, "file");
 * assert.equal(parseSource("10.0.0.1:80"), undefined);
 * assert.throws(() => parseSource("srv:web", "--upstream"), {
 *   message: 'Cannot parse --upstream "srv:web": expected srv:_SERVICE._PROTO.NAME, such as srv:_http._tcp.web.service.consul',
 * });
 * ```
 */
export function parseSource(text: string, label = "upstream"): SourceSpec | undefined {
  const match = text.match(SOURCE);
  if (!match) return undefined;
  const [, kind, rest] = match;
  if (kind === "dns") {
    try {
      const { address, weight, backup } = parseUpstream(rest);
      return { kind, text, address, weight, backup };
    } catch {
      throw new TypeError(
        `Cannot parse ${label} "${text}": expected dns:HOST:PORT, optionally followed by ,weight=N (1 to ${MAX_WEIGHT}) or ,backup, such as dns:web.internal:8080`,
      );
    }
  }
  if (kind === "srv") {
    if (SRV_NAME.test(rest) && rest.length <= 253) return { kind, text, name: rest };
    throw new TypeError(
      `Cannot parse ${label} "${text}": expected srv:_SERVICE._PROTO.NAME, such as srv:_http._tcp.web.service.consul`,
    );
  }
  if (rest.length > 0 && !rest.includes("\0")) return { kind: "file", text, path: rest };
  throw new TypeError(
    `Cannot parse ${label} "${text}": expected file:PATH, such as file:/run/minginx/web.json`,
  );
}

/**
 * Whether an upstream as written is a discovery source (`dns:`, `srv:` or `file:`), which
 * {@linkcode parseSource} reads, rather than a plain upstream.
 *
 * @param text The upstream as written.
 * @returns Whether it is a source, well formed or not.
 *
 * @example
 * ```ts
 * import { isSource } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isSource("dns:web.internal:8080"), true);
 * assert.equal(isSource("web.internal:8080"), false);
 * ```
 */
export function isSource(text: string): boolean {
  return SOURCE.test(text);
}

/**
 * The key a source's last set is kept under between reloads: the same text asking the same DNS
 * server gets the same answer, whatever pool follows it.
 *
 * @param source The source.
 * @param resolver The DNS server it asks; the system's if absent.
 * @returns The key.
 *
 * @example Keys differ by DNS server
 * ```ts
 * import { parseSource, sourceKey } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const source = parseSource("dns:web.internal:8080")!;
 * assert.notEqual(sourceKey(source), sourceKey(source, { hostname: "127.0.0.1", port: 5353 }));
 * ```
 */
export function sourceKey(source: SourceSpec, resolver?: Address): string {
  return source.kind === "file"
    ? source.text
    : `${source.text} @${resolver ? formatAddress(resolver) : "system"}`;
}
