/**
 * The keys of one message, derived from its data key (key commitment):
 *
 * - PRK = HKDF-Extract(SHA-512, salt = message id, IKM = data key)
 * - encryption key = HKDF-Expand(PRK, info = suite id(2) ‖ "DERIVEKEY", 32)
 * - commitment key = HKDF-Expand(PRK, info = "COMMITKEY", 32), stored in
 *   the header and compared on decrypt before anything is decrypted.
 *
 * The encryption key is a non-extractable WebCrypto key; the data key's
 * bytes are zeroed as soon as they are imported.
 * @module
 */
import { COMMITMENT_BYTES, IV_BYTES } from "./suites.ts";
import { equalBytes, invalidMessage } from "./wire.ts";

const utf8 = new TextEncoder();
const COMMIT_LABEL = utf8.encode("COMMITKEY");
const KEY_LABEL = utf8.encode("DERIVEKEY");
const HEADER_IV = new Uint8Array(IV_BYTES);
const EMPTY = new Uint8Array(0);

/** The AES-256-GCM key of a message and its commitment. */
export interface MessageKeys {
  /** Encrypts the header auth tag and the frames (non-extractable). */
  key: CryptoKey;
  /** The commitment key: the header's algorithm suite data. */
  commitment: Uint8Array;
}

/**
 * Derives a message's keys; zeroes `dataKey` (which is then useless).
 *
 * @example
 * ```ts
 * const { key, commitment } = await deriveMessageKeys(dataKey, messageId, SUITE_COMMIT_KEY);
 * ```
 */
export async function deriveMessageKeys(
  dataKey: Uint8Array<ArrayBuffer>,
  messageId: Uint8Array,
  suiteId: number,
): Promise<MessageKeys> {
  let ikm: CryptoKey;
  try {
    ikm = await crypto.subtle.importKey("raw", dataKey, "HKDF", false, [
      "deriveKey",
      "deriveBits",
    ]);
  } finally {
    dataKey.fill(0);
  }
  const salt = messageId.slice();
  const info = new Uint8Array(2 + KEY_LABEL.length);
  info[0] = suiteId >>> 8;
  info[1] = suiteId & 0xff;
  info.set(KEY_LABEL, 2);
  const [key, commitment] = await Promise.all([
    crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-512", salt, info },
      ikm,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    ),
    crypto.subtle.deriveBits(
      { name: "HKDF", hash: "SHA-512", salt, info: COMMIT_LABEL },
      ikm,
      COMMITMENT_BYTES * 8,
    ),
  ]);
  return { key, commitment: new Uint8Array(commitment) };
}

/**
 * Derives a message's keys from the data key found in its header and checks
 * them against the header's commitment.
 *
 * @throws {InvalidCiphertextException} when the commitment differs.
 */
export async function committedMessageKeys(
  dataKey: Uint8Array<ArrayBuffer>,
  messageId: Uint8Array,
  suiteId: number,
  commitment: Uint8Array,
): Promise<CryptoKey> {
  const keys = await deriveMessageKeys(dataKey, messageId, suiteId);
  if (!equalBytes(keys.commitment, commitment)) {
    throw invalidMessage("the key commitment does not match the data key");
  }
  return keys.key;
}

/** The header auth tag: AES-GCM of nothing, the header body as AAD. */
export async function headerAuthTag(
  key: CryptoKey,
  headerBody: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array> {
  const tag = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: HEADER_IV, additionalData: headerBody },
    key,
    EMPTY,
  );
  return new Uint8Array(tag);
}

/**
 * Checks a header auth tag.
 *
 * @throws {InvalidCiphertextException} when it is not the header's.
 */
export async function verifyHeaderAuthTag(
  key: CryptoKey,
  headerBody: Uint8Array<ArrayBuffer>,
  tag: Uint8Array<ArrayBuffer>,
): Promise<void> {
  try {
    await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: HEADER_IV, additionalData: headerBody },
      key,
      tag,
    );
  } catch {
    throw invalidMessage(
      "the header was altered (its auth tag does not match)",
    );
  }
}
