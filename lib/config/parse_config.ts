/**
 * Reading a config file's text: JSONC, checked, with defaults filled in.
 *
 * @module
 */

import { type Config, ConfigError } from "./config.ts";
import { parseJsonc } from "./jsonc.ts";
import { validateConfig } from "./validate.ts";

/**
 * Parses and checks a config file's text: {@linkcode parseJsonc}, then
 * {@linkcode validateConfig}, with the file's name in every message.
 *
 * @param text The file's text.
 * @param file The file's name, as messages should show it, such as `"minginx.jsonc"`.
 * @returns The config, with defaults filled in.
 * @throws {SyntaxError} If the text is not JSONC: `minginx.jsonc:12:5: Unexpected token '}'`.
 * @throws {ConfigError} Listing every mistake, each line as `FILE: PATH: what is wrong`.
 *
 * @example Reading a config file
 * ```ts
 * import { ConfigError, parseConfig } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const text = `{
 *   "servers": [{
 *     "listen": "127.0.0.1:8081", // loopback only
 *     "upstreams": ["10.0.0.1:80", "10.0.0.2:80"],
 *   }],
 * }`;
 * assert.equal(parseConfig(text, "minginx.jsonc").servers[0].upstreams.length, 2);
 *
 * assert.throws(() => parseConfig('{ "servers": [], }', "minginx.jsonc"), {
 *   name: "ConfigError",
 *   message: "minginx.jsonc: servers: expected at least one server, got []",
 * });
 * ```
 */
export function parseConfig(text: string, file?: string): Config {
  const value = parseJsonc(text, file);
  try {
    return validateConfig(value);
  } catch (error) {
    throw error instanceof ConfigError ? new ConfigError(error.issues, file) : error;
  }
}
