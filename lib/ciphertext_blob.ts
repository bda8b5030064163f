/**
 * The okms ciphertext blob, version 1:
 * `version(1) ‖ keyId(16) ‖ keyVersion(u32 BE) ‖ iv(12) ‖ ciphertext ‖ tag(16)`.
 *
 * The blob names its key, so Decrypt needs no key id. The whole header is
 * authenticated (it leads the AAD), so no field of it can be swapped.
 * @module
 */
import { InvalidCiphertextException } from "./errors.ts";
import { keyIdFromBytes } from "./key_id.ts";

/** The format version byte of blobs okms writes. */
export const BLOB_VERSION = 1;
/** Header bytes: version, key id, key version, IV. */
export const HEADER_BYTES = 1 + 16 + 4 + 12;
/** GCM tag bytes at the end of the blob. */
export const TAG_BYTES = 16;
/** The largest blob accepted, as AWS KMS. */
export const MAX_BLOB_BYTES = 6144;
const KEY_VERSION_AT = 17;
const IV_AT = 21;

/** Views into a blob: what AES-GCM reads or writes. */
export interface BlobParts {
  /** The whole blob. */
  blob: Uint8Array;
  /** The 33 header bytes (authenticated as the start of the AAD). */
  header: Uint8Array;
  iv: Uint8Array;
  /** Ciphertext followed by its tag. */
  sealed: Uint8Array;
}

/** A parsed blob: its parts and the key version it names. */
export interface ParsedBlob extends BlobParts {
  keyId: string;
  keyVersion: number;
}

function parts(blob: Uint8Array): BlobParts {
  return {
    blob,
    header: blob.subarray(0, HEADER_BYTES),
    iv: blob.subarray(IV_AT, HEADER_BYTES),
    sealed: blob.subarray(HEADER_BYTES),
  };
}

/**
 * A new blob for `plaintextBytes` of plaintext: header written with a fresh
 * random IV; the caller has AES-GCM write ciphertext and tag into `sealed`.
 *
 * @example
 * ```ts
 * const target = newBlob(keyIdToBytes(keyId), 1, plaintext.length);
 * ```
 */
export function newBlob(
  keyIdBytes: Uint8Array,
  keyVersion: number,
  plaintextBytes: number,
): BlobParts {
  const blob = new Uint8Array(HEADER_BYTES + plaintextBytes + TAG_BYTES);
  blob[0] = BLOB_VERSION;
  blob.set(keyIdBytes, 1);
  new DataView(blob.buffer).setUint32(KEY_VERSION_AT, keyVersion);
  crypto.getRandomValues(blob.subarray(IV_AT, HEADER_BYTES));
  return parts(blob);
}

/**
 * Splits a blob into its parts.
 *
 * @throws {InvalidCiphertextException} for anything that is not a v1 blob
 * with room for at least one byte of ciphertext and a tag.
 * @example
 * ```ts
 * const { keyId, keyVersion } = parseBlob(ciphertextBlob);
 * ```
 */
export function parseBlob(blob: Uint8Array): ParsedBlob {
  if (
    !(blob instanceof Uint8Array) ||
    blob.byteLength < HEADER_BYTES + 1 + TAG_BYTES ||
    blob.byteLength > MAX_BLOB_BYTES || blob[0] !== BLOB_VERSION
  ) {
    throw new InvalidCiphertextException(
      "the ciphertext is not an okms ciphertext blob",
    );
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  return {
    ...parts(blob),
    keyId: keyIdFromBytes(blob.subarray(1, KEY_VERSION_AT)),
    keyVersion: view.getUint32(KEY_VERSION_AT),
  };
}
