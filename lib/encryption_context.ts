/**
 * Encryption contexts: validation and their canonical, injective encoding.
 * @module
 */
import { ValidationException } from "./errors.ts";

/** Non-secret string pairs bound to a ciphertext as authenticated data. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** The largest canonical encoding okms accepts, in bytes. */
export const MAX_ENCRYPTION_CONTEXT_BYTES = 8192;

const utf8 = new TextEncoder();
const EMPTY = new Uint8Array(0);

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) return false;
  }
  return true;
}

function checkSize(size: number): void {
  if (size > MAX_ENCRYPTION_CONTEXT_BYTES) {
    throw new ValidationException(
      `EncryptionContext is too large: ${size} bytes encoded, at most ${MAX_ENCRYPTION_CONTEXT_BYTES}`,
    );
  }
}

function writeLength(out: Uint8Array, at: number, length: number): number {
  out[at] = length >> 8;
  out[at + 1] = length & 0xff;
  return at + 2;
}

/**
 * The encoding when every key and value is ASCII (nearly always): one
 * allocation, and keys sort as strings because ASCII code units are bytes.
 * Typed arrays cost far more to allocate than the bytes cost to write, and
 * this runs on every encrypt and decrypt.
 */
function encodeAscii(keys: string[], context: EncryptionContext): Uint8Array {
  keys.sort();
  let size = 2;
  for (const key of keys) size += 4 + key.length + context[key].length;
  checkSize(size);
  const out = new Uint8Array(size);
  let at = writeLength(out, 0, keys.length);
  for (const key of keys) {
    for (const text of [key, context[key]]) {
      at = writeLength(out, at, text.length);
      for (let i = 0; i < text.length; i++) out[at++] = text.charCodeAt(i);
    }
  }
  return out;
}

/** The general encoding: UTF-8 bytes, keys sorted by those bytes. */
function encodeUnicode(keys: string[], context: EncryptionContext): Uint8Array {
  const pairs = keys.map((
    key,
  ) => [utf8.encode(key), utf8.encode(context[key])]);
  pairs.sort(([a], [b]) => compareBytes(a, b));
  const size = pairs.reduce((n, [k, v]) => n + 4 + k.length + v.length, 2);
  checkSize(size);
  const out = new Uint8Array(size);
  let at = writeLength(out, 0, pairs.length);
  for (const pair of pairs) {
    for (const part of pair) {
      at = writeLength(out, at, part.length);
      out.set(part, at);
      at += part.length;
    }
  }
  return out;
}

/**
 * The canonical bytes of a context: pairs sorted by the UTF-8 bytes of their
 * key, `count(u16) ‖ (len(u16) ‖ key ‖ len(u16) ‖ value)*`, big-endian.
 * An absent or empty context encodes as no bytes. Two contexts encode alike
 * only when they hold the same pairs: `{"a":"bc"}` and `{"ab":"c"}` differ.
 *
 * @throws {ValidationException} when a key or value is not a string, a key
 * is empty, or the encoding exceeds {@linkcode MAX_ENCRYPTION_CONTEXT_BYTES}.
 * @example
 * ```ts
 * const aad = encodeEncryptionContext({ order: "42", tenant: "acme" });
 * ```
 */
export function encodeEncryptionContext(
  context: EncryptionContext | undefined,
): Uint8Array {
  if (context === undefined || context === null) return EMPTY;
  if (typeof context !== "object" || Array.isArray(context)) {
    throw new ValidationException(
      "EncryptionContext must be a map of strings to strings",
    );
  }
  const keys = Object.keys(context);
  if (keys.length === 0) return EMPTY;
  let ascii = true;
  for (const key of keys) {
    const value = context[key];
    if (typeof value !== "string") {
      throw new ValidationException("EncryptionContext values must be strings");
    }
    if (key.length === 0) {
      throw new ValidationException("EncryptionContext keys must not be empty");
    }
    ascii &&= isAscii(key) && isAscii(value);
  }
  return ascii ? encodeAscii(keys, context) : encodeUnicode(keys, context);
}
