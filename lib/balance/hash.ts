/**
 * Consistent-hash balancing on the client's address.
 *
 * @module
 */

import type { Connection } from "../connection.ts";
import type { Upstream } from "../pool/upstream.ts";
import type { Algorithm } from "./algorithm.ts";

/** Points on the ring for each unit of weight, as ketama places them. */
const POINTS_PER_WEIGHT = 160;
/** The most points a ring holds; above it, every upstream gets fewer points per unit of weight. */
const MAX_POINTS = 1 << 18;
/** Room for an upstream's index below a point's 32-bit position in one float64 sort key. */
const OWNER_SLOTS = 1 << 20;

/** The ring: point positions in ascending order, and the index of the upstream at each point. */
interface Ring {
  points: Uint32Array;
  owners: Uint32Array;
}

/**
 * Consistent hashing on the client's address ({@linkcode Connection.clientKey}), so a client keeps
 * its upstream for as long as that upstream is available. Each upstream has points on a ring of
 * 32-bit positions in proportion to its configured `weight` (not `effectiveWeight`, so a slow
 * start does not move clients), 160 for each unit (fewer once the weights add up to more than
 * 1638, to keep the ring to 2^18 points), each placed by hashing `NAME#i`; a client goes
 * to the first point at or after its own address's hash. Adding or removing one of N upstreams
 * therefore moves only about 1/N of the clients: those the new one takes over, or those the
 * removed one had. The rest of the order, for failover, is the next different upstreams going round
 * the ring, so the clients of an upstream that fails are spread over the others. Without a
 * connection, the order is the list's.
 *
 * The ring is built once for each array of upstreams the pool passes (a new one whenever the set
 * changes), so a connection costs one hash and one binary search.
 *
 * @returns The algorithm.
 *
 * @example A client keeps its upstream, and keeps it when another upstream leaves
 * ```ts
 * import { Connection, hash, Upstream } from "@minginx/minginx";
 * import assert from "node:assert/strict";
 *
 * const upstreams = ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"].map((address) =>
 *   new Upstream({ address })
 * );
 * // A connection without a socket behind it: hashing only reads the client's address.
 * const from = (hostname: string) =>
 *   new Connection(1, { remoteAddr: { transport: "tcp", hostname, port: 40_000 } } as Deno.TcpConn);
 * const algorithm = hash();
 * const [chosen] = algorithm.order(upstreams, from("192.0.2.7"));
 * assert.equal([...algorithm.order(upstreams, from("192.0.2.7"))][0], chosen);
 *
 * const other = upstreams.find((upstream) => upstream !== chosen)!;
 * const fewer = upstreams.filter((upstream) => upstream !== other);
 * assert.equal([...algorithm.order(fewer, from("192.0.2.7"))][0], chosen);
 * ```
 */
export function hash(): Algorithm {
  let members: readonly Upstream[] | undefined;
  let ring: Ring = { points: new Uint32Array(0), owners: new Uint32Array(0) };
  return {
    *order(upstreams: readonly Upstream[], connection?: Connection): Generator<Upstream> {
      if (connection === undefined || upstreams.length === 1) {
        yield* upstreams;
        return;
      }
      if (upstreams !== members) {
        members = upstreams;
        ring = buildRing(upstreams);
      }
      const { points, owners } = ring;
      const start = search(points, hash32(connection.clientKey));
      yield upstreams[owners[start]];
      // Only a failover gets here: walk on round the ring, yielding each upstream once.
      const seen = new Uint8Array(upstreams.length);
      seen[owners[start]] = 1;
      let left = upstreams.length - 1;
      for (let step = 1; left > 0 && step < points.length; step++) {
        const owner = owners[(start + step) % points.length];
        if (seen[owner] === 1) continue;
        seen[owner] = 1;
        left--;
        yield upstreams[owner];
      }
    },
  };
}

/** Places each upstream's points on the ring and sorts them by position. */
function buildRing(upstreams: readonly Upstream[]): Ring {
  let totalWeight = 0;
  for (const upstream of upstreams) totalWeight += upstream.weight;
  const perWeight = Math.min(POINTS_PER_WEIGHT, MAX_POINTS / totalWeight);
  const counts = upstreams.map(({ weight }) => Math.max(1, Math.round(weight * perWeight)));
  // Position and owner in one number, so that a typed array's numeric sort orders both at once.
  const keys = new Float64Array(counts.reduce((sum, count) => sum + count, 0));
  let k = 0;
  upstreams.forEach(({ name }, owner) => {
    for (let i = 0; i < counts[owner]; i++) {
      keys[k++] = hash32(`${name}#${i}`) * OWNER_SLOTS + owner;
    }
  });
  keys.sort();
  const points = new Uint32Array(keys.length);
  const owners = new Uint32Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    points[i] = Math.floor(keys[i] / OWNER_SLOTS);
    owners[i] = keys[i] % OWNER_SLOTS;
  }
  return { points, owners };
}

/** The index of the first point at or after `position`, going round to 0 past the last. */
function search(points: Uint32Array, position: number): number {
  let low = 0;
  let high = points.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (points[middle] < position) low = middle + 1;
    else high = middle;
  }
  return low === points.length ? 0 : low;
}

/** A 32-bit hash of a string: FNV-1a over its UTF-16 code units, then murmur3's finalizer. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // FNV-1a alone mixes the last characters poorly; the finalizer spreads every bit over all 32.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
