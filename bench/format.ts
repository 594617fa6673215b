/**
 * How figures are written in the Markdown report: thousands separators, a fixed number of
 * decimals, `median (min–max)` when there were several rounds, and ratios as `1.23x`.
 *
 * @module
 */

import { paired, type Ratio, type Spread } from "./stats.ts";

/**
 * Writes a spread: the median alone for one round, `median (min–max)` for several.
 *
 * @param s The spread.
 * @param digits Decimal places.
 * @param scale What to multiply by first: 100 for a share as a percentage.
 * @returns The text.
 */
export function fmt(s: Spread, digits: number, scale = 1): string {
  const n = (v: number) =>
    (v * scale).toLocaleString("en-US", {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
  return s.n > 1 ? `${n(s.median)} (${n(s.min)}–${n(s.max)})` : n(s.median);
}

/**
 * Writes a spread with a unit, or `–` for none.
 *
 * @param s The spread, or `null`.
 * @param digits Decimal places.
 * @param unit The unit, after a space; none if empty.
 * @returns The text.
 */
export function cell(s: Spread | null, digits: number, unit = ""): string {
  if (!s) return "–";
  return unit ? `${fmt(s, digits)} ${unit}` : fmt(s, digits);
}

/**
 * Writes a share of a core (0 to 1) as a percentage, or `–` for none.
 *
 * @param s The spread of shares, or `null`.
 * @returns E.g. `74 %`.
 */
export function share(s: Spread | null): string {
  return s ? `${fmt(s, 0, 100)} %` : "–";
}

/**
 * Writes a ratio of medians, with the range of the per-round ratios when there were several.
 *
 * @param r The ratio, or `null`.
 * @returns E.g. `1.41x (1.35–1.52)`, or `–`.
 */
export function times(r: Ratio | null): string {
  return r === null ? "–" : `${r.ofMedians.toFixed(2)}x${perRoundRange(r)}`;
}

/**
 * Writes a ratio of two runs made back to back in each round as the median of its per-round
 * ratios, with their range, when there were several rounds.
 *
 * @param r The ratio, or `null`.
 * @returns E.g. `1.01x (0.93–1.08)`, or `–`.
 */
export function pairedTimes(r: Ratio | null): string {
  return r === null ? "–" : `${paired(r).toFixed(2)}x${perRoundRange(r)}`;
}

function perRoundRange({ perRound: p }: Ratio): string {
  return p && p.n > 1 ? ` (${p.min.toFixed(2)}–${p.max.toFixed(2)})` : "";
}
