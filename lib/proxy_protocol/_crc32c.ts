/**
 * CRC32c (Castagnoli), the checksum of the PROXY v2 `PP2_TYPE_CRC32C` TLV, as RFC 4960 appendix B
 * defines it. Private to the PROXY protocol files.
 *
 * @module
 */

/** The Castagnoli polynomial, bit-reversed. */
const POLYNOMIAL = 0x82f63b78;

/**
 * The CRC of each byte value, so each input byte costs one lookup. Built on first use, not when
 * the module loads: its loop is hot enough for V8 to compile it with TurboFan, which would page
 * in megabytes of compiler code in every proxy, not just those that send a CRC.
 */
let table: Uint32Array | undefined;

function buildTable(): Uint32Array {
  table = new Uint32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ POLYNOMIAL : crc >>> 1;
    table[byte] = crc;
  }
  return table;
}

/**
 * The CRC32c of `bytes`, or of what came before followed by `bytes` when `crc` is the CRC of what
 * came before.
 *
 * @param bytes The bytes to add.
 * @param crc The CRC so far: 0 for none.
 * @returns The CRC, an unsigned 32-bit number; `crc32c("123456789")` is 0xe3069283.
 */
export function crc32c(bytes: Uint8Array, crc = 0): number {
  const lookup = table ?? buildTable();
  let state = ~crc;
  for (let i = 0; i < bytes.length; i++) {
    state = lookup[(state ^ bytes[i]) & 0xff] ^ (state >>> 8);
  }
  return ~state >>> 0;
}
