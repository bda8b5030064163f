/**
 * The okms ciphertext blob, version 1:
 * `version(1) ‖ keyId(16) ‖ keyVersion(u32 BE) ‖ iv(12) ‖ ciphertext ‖ tag(16)`.
 *
 * The blob names its key, so Decrypt needs no key id. The whole header is
 * authenticated (it leads the AAD), so no field of it can be swapped.
 * Fields are read and written in place: on the hot path a typed-array view
 * costs more than the bytes it would spare copying.
 * @module
 */
import { InvalidCiphertextException } from "./errors.ts";
import { keyIdFromBytes } from "./key_id.ts";

/** The format version byte of blobs okms writes. */
export const BLOB_VERSION = 1;
/** Header bytes: version, key id, key version, IV. */
export const HEADER_BYTES = 1 + 16 + 4 + 12;
/** Where the IV starts. */
export const IV_AT = 21;
/** GCM tag bytes at the end of the blob. */
export const TAG_BYTES = 16;
/** The largest blob accepted, as AWS KMS. */
export const MAX_BLOB_BYTES = 6144;
const KEY_ID_AT = 1;
const KEY_VERSION_AT = 17;

/** What a blob's header says. */
export interface BlobHeader {
  keyId: string;
  keyVersion: number;
}

/** Where random bytes come from: the HSM (`Hsm.random`, `C_GenerateRandom`). */
export interface RandomSource {
  random(bytes: number): Uint8Array;
}

/** The number of IVs drawn at a time. */
const POOLED_IVS = 341;

/**
 * Random IVs, drawn a pool at a time from the HSM's generator (one call
 * gives 341), each handed out once. Not from `crypto.getRandomValues`:
 * `deno run --seed` makes that deterministic, and a repeated GCM IV under
 * one key gives away the authentication key.
 */
class IvPool {
  #pool: Uint8Array = new Uint8Array(0);
  #next = 0;

  /** Writes a fresh 12-byte IV from `random` into `target` at `offset`. */
  take(target: Uint8Array, offset: number, source: RandomSource): void {
    if (this.#next === this.#pool.length) {
      this.#pool = source.random(POOLED_IVS * 12);
      this.#next = 0;
    }
    for (let i = 0; i < 12; i++) {
      target[offset + i] = this.#pool[this.#next + i];
    }
    this.#next += 12;
  }
}

const ivs = new IvPool();

/**
 * A new blob for `plaintextBytes` of plaintext: header written with a fresh
 * random IV; AES-GCM then writes ciphertext and tag after the header.
 *
 * @example
 * ```ts
 * const blob = newBlob(keyIdToBytes(keyId), 1, plaintext.length, hsm);
 * ```
 */
export function newBlob(
  keyIdBytes: Uint8Array,
  keyVersion: number,
  plaintextBytes: number,
  source: RandomSource,
): Uint8Array {
  const blob = new Uint8Array(HEADER_BYTES + plaintextBytes + TAG_BYTES);
  blob[0] = BLOB_VERSION;
  blob.set(keyIdBytes, KEY_ID_AT);
  blob[KEY_VERSION_AT] = keyVersion >>> 24;
  blob[KEY_VERSION_AT + 1] = (keyVersion >>> 16) & 0xff;
  blob[KEY_VERSION_AT + 2] = (keyVersion >>> 8) & 0xff;
  blob[KEY_VERSION_AT + 3] = keyVersion & 0xff;
  ivs.take(blob, IV_AT, source);
  return blob;
}

/**
 * Reads a blob's header.
 *
 * @throws {InvalidCiphertextException} for anything that is not a v1 blob
 * with room for at least one byte of ciphertext and a tag.
 * @example
 * ```ts
 * const { keyId, keyVersion } = parseBlob(ciphertextBlob);
 * ```
 */
export function parseBlob(blob: Uint8Array): BlobHeader {
  if (
    !(blob instanceof Uint8Array) ||
    blob.byteLength < HEADER_BYTES + 1 + TAG_BYTES ||
    blob.byteLength > MAX_BLOB_BYTES || blob[0] !== BLOB_VERSION
  ) {
    throw new InvalidCiphertextException(
      "the ciphertext is not an okms ciphertext blob",
    );
  }
  const keyVersion =
    (blob[KEY_VERSION_AT] << 24 | blob[KEY_VERSION_AT + 1] << 16 |
      blob[KEY_VERSION_AT + 2] << 8 | blob[KEY_VERSION_AT + 3]) >>> 0;
  return { keyId: keyIdFromBytes(blob, KEY_ID_AT), keyVersion };
}
