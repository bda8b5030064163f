/**
 * Encryption contexts: validation and their canonical, injective encoding.
 * @module
 */
import type { AadSource } from "../ffi/mod.ts";
import { ValidationException } from "./errors.ts";

/** Non-secret string pairs bound to a ciphertext as authenticated data. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** The largest canonical encoding okms accepts, in bytes. */
export const MAX_ENCRYPTION_CONTEXT_BYTES = 8192;

const utf8 = new TextEncoder();

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
 * A validated context in canonical form, written straight where it is
 * needed (after the blob header in the GCM AAD) rather than into a buffer
 * of its own: typed arrays cost far more to allocate than their bytes cost
 * to write, and this runs on every encrypt and decrypt.
 */
export interface CanonicalContext extends AadSource {
  /** Encoded length in bytes. */
  readonly byteLength: number;
  /** Writes the encoding into `target` at `offset`. */
  writeTo(target: Uint8Array, offset: number): void;
}

const EMPTY_CONTEXT: CanonicalContext = { byteLength: 0, writeTo() {} };

/** Up to this many pairs (nearly always), sorting allocates nothing. */
const INSERTION_SORT_PAIRS = 8;

/** Pairs (`[key, value, key, value, …]`) sorted in place by key, as strings. */
function sortPairs(texts: string[]): void {
  if (texts.length > 2 * INSERTION_SORT_PAIRS) {
    const pairs = [];
    for (let i = 0; i < texts.length; i += 2) {
      pairs.push([texts[i], texts[i + 1]]);
    }
    pairs.sort(([a], [b]) => a < b ? -1 : 1);
    pairs.forEach(([key, value], i) => {
      texts[2 * i] = key;
      texts[2 * i + 1] = value;
    });
    return;
  }
  for (let i = 2; i < texts.length; i += 2) {
    const key = texts[i], value = texts[i + 1];
    let j = i;
    for (; j > 0 && texts[j - 2] > key; j -= 2) {
      texts[j] = texts[j - 2];
      texts[j + 1] = texts[j - 1];
    }
    texts[j] = key;
    texts[j + 1] = value;
  }
}

/** Keys and values all ASCII (nearly always): they sort as strings. */
class AsciiContext implements CanonicalContext {
  readonly byteLength: number;
  readonly #texts: string[];

  /** `texts`: keys and values, alternately, in any order of the pairs. */
  constructor(texts: string[]) {
    let size = 2;
    for (const text of texts) size += 2 + text.length;
    checkSize(size);
    sortPairs(texts);
    this.#texts = texts;
    this.byteLength = size;
  }

  writeTo(target: Uint8Array, offset: number): void {
    let at = writeLength(target, offset, this.#texts.length / 2);
    for (const text of this.#texts) {
      at = writeLength(target, at, text.length);
      for (let i = 0; i < text.length; i++) target[at++] = text.charCodeAt(i);
    }
  }
}

/** Any Unicode: UTF-8 bytes, keys sorted by those bytes. */
class Utf8Context implements CanonicalContext {
  readonly #bytes: Uint8Array;

  /** `texts`: keys and values, alternately, in any order of the pairs. */
  constructor(texts: string[]) {
    const pairs = [];
    for (let i = 0; i < texts.length; i += 2) {
      pairs.push([utf8.encode(texts[i]), utf8.encode(texts[i + 1])]);
    }
    pairs.sort(([a], [b]) => compareBytes(a, b));
    const size = pairs.reduce((n, [k, v]) => n + 4 + k.length + v.length, 2);
    checkSize(size);
    this.#bytes = new Uint8Array(size);
    let at = writeLength(this.#bytes, 0, pairs.length);
    for (const part of pairs.flat()) {
      at = writeLength(this.#bytes, at, part.length);
      this.#bytes.set(part, at);
      at += part.length;
    }
  }

  get byteLength(): number {
    return this.#bytes.byteLength;
  }

  writeTo(target: Uint8Array, offset: number): void {
    target.set(this.#bytes, offset);
  }
}

/**
 * Validates a context and puts it in canonical form (see
 * {@linkcode encodeEncryptionContext} for the encoding).
 *
 * @throws {ValidationException} when a key or value is not a string, a key
 * is empty, or the encoding exceeds {@linkcode MAX_ENCRYPTION_CONTEXT_BYTES}.
 * @example
 * ```ts
 * const context = canonicalContext({ order: "42" });
 * gcm.set({ iv, aad: header, aadTail: context });
 * ```
 */
export function canonicalContext(
  context: EncryptionContext | undefined,
): CanonicalContext {
  if (context === undefined || context === null) return EMPTY_CONTEXT;
  const prototype = typeof context === "object"
    ? Object.getPrototypeOf(context)
    : undefined;
  if (prototype !== Object.prototype && prototype !== null) {
    // A Map, an array or a String would encode as something else entirely.
    throw new ValidationException(
      "EncryptionContext must be a plain object of strings to strings",
    );
  }
  const keys = Object.keys(context);
  if (keys.length === 0) return EMPTY_CONTEXT;
  const texts: string[] = [];
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
    // A lone surrogate has no UTF-8 form: encoders turn it into U+FFFD, and
    // "\uD800" would then match "\uFFFD".
    if (!ascii && !(key.isWellFormed() && value.isWellFormed())) {
      throw new ValidationException(
        "EncryptionContext keys and values must be well-formed Unicode (no lone surrogates)",
      );
    }
    texts.push(key, value);
  }
  return ascii ? new AsciiContext(texts) : new Utf8Context(texts);
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
  const canonical = canonicalContext(context);
  const out = new Uint8Array(canonical.byteLength);
  canonical.writeTo(out, 0);
  return out;
}
