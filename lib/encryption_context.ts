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
  const pairs = Object.entries(context).map(([key, value]) => {
    if (typeof value !== "string") {
      throw new ValidationException(
        "EncryptionContext values must be strings",
      );
    }
    if (key.length === 0) {
      throw new ValidationException("EncryptionContext keys must not be empty");
    }
    return [utf8.encode(key), utf8.encode(value)] as const;
  });
  if (pairs.length === 0) return EMPTY;
  pairs.sort(([a], [b]) => compareBytes(a, b));
  const size = pairs.reduce((n, [k, v]) => n + 4 + k.length + v.length, 2);
  if (size > MAX_ENCRYPTION_CONTEXT_BYTES) {
    throw new ValidationException(
      `EncryptionContext is too large: ${size} bytes encoded, at most ${MAX_ENCRYPTION_CONTEXT_BYTES}`,
    );
  }
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint16(0, pairs.length);
  let at = 2;
  for (const [key, value] of pairs) {
    for (const part of [key, value]) {
      view.setUint16(at, part.length);
      out.set(part, at + 2);
      at += 2 + part.length;
    }
  }
  return out;
}
