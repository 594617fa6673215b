/**
 * Private byte helpers for the HTTP/1.1 codec: text whose characters are its bytes (Latin-1), as
 * HTTP heads are, and the tables that say which bytes a token or a field value may hold.
 *
 * @module
 */

const utf8 = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Text with one character per byte. ASCII (the usual case) goes through the native decoder;
 * anything else byte by byte, so obs-text in a field value comes through unchanged.
 */
export function latin1(bytes: Uint8Array, ascii: boolean): string {
  if (ascii) return utf8.decode(bytes);
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

/** The bytes of text whose characters are all below 256 (the reverse of {@linkcode latin1}). */
export function latin1Bytes(text: string): Uint8Array {
  const encoded = encoder.encode(text);
  if (encoded.length === text.length) return encoded; // all ASCII: UTF-8 is the same bytes
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** 1 for the bytes of a token (RFC 9110 5.6.2): a method or a field name. */
export const TOKEN: Uint8Array = (() => {
  const table = new Uint8Array(256);
  const chars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (const char of chars) table[char.charCodeAt(0)] = 1;
  return table;
})();

/** 1 for the bytes a field value may hold: visible characters, space, tab and obs-text. */
export const FIELD_VALUE: Uint8Array = (() => {
  const table = new Uint8Array(256).fill(1, 0x20);
  table[0x09] = 1;
  table[0x7f] = 0;
  return table;
})();

/** 1 for the bytes a request target may hold: visible ASCII. */
export const TARGET: Uint8Array = new Uint8Array(256).fill(1, 0x21, 0x7f);

/** A `Content-Length` value as a number of bytes, or `undefined` if it is absent or not one. */
export function contentLength(value: string | null): number | undefined {
  return value !== null && /^[0-9]{1,15}$/.test(value) ? Number(value) : undefined;
}

/** Carriage return, line feed, space, tab and colon. */
export const CR = 13, LF = 10, SP = 32, HTAB = 9, COLON = 58;

/** The byte index of the first `\r\n\r\n` (or `\n\n`) in `bytes` from `from`, plus its length. */
export function headEnd(bytes: Uint8Array, from: number, end: number): number {
  for (let i = bytes.indexOf(LF, from); i !== -1 && i < end; i = bytes.indexOf(LF, i + 1)) {
    if (i + 1 < end && bytes[i + 1] === LF) return i + 2;
    if (i + 2 < end && bytes[i + 1] === CR && bytes[i + 2] === LF) return i + 3;
  }
  return -1;
}
