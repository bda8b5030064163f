/**
 * Strict base64 and base64url, as the signed suite's context value and
 * JWK coordinates use them.
 * @module
 */
import { Buffer } from "node:buffer";

type Alphabet = "standard" | "url";

/** `bytes` in base64 (padded) or base64url (unpadded). */
export function encodeBase64(
  bytes: Uint8Array,
  alphabet: Alphabet = "standard",
): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)
    .toString(alphabet === "url" ? "base64url" : "base64");
}

/**
 * The bytes of `text`.
 *
 * @throws {RangeError} when `text` is not canonical in that alphabet.
 */
export function decodeBase64(text: string, alphabet: Alphabet): Uint8Array {
  const bytes = Buffer.from(text, alphabet === "url" ? "base64url" : "base64");
  if (encodeBase64(bytes, alphabet) !== text) {
    throw new RangeError("not canonical base64");
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
