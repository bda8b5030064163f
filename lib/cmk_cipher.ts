/**
 * Sealing and opening ciphertext blobs with a CMK version in the HSM.
 * @module
 */
import { CKR, Pkcs11Error } from "../ffi/mod.ts";
import {
  HEADER_BYTES,
  IV_AT,
  MAX_BLOB_BYTES,
  newBlob,
  TAG_BYTES,
} from "./ciphertext_blob.ts";
import type { CanonicalContext } from "./encryption_context.ts";
import { InvalidCiphertextException } from "./errors.ts";
import type { Hsm } from "./hsm.ts";

/**
 * How modules report a GCM tag that does not verify: the spec's
 * `CKR_ENCRYPTED_DATA_INVALID`, or (SoftHSM2) `CKR_GENERAL_ERROR`.
 */
const TAG_FAILURES: ReadonlySet<number> = new Set([
  CKR.ENCRYPTED_DATA_INVALID,
  CKR.ENCRYPTED_DATA_LEN_RANGE,
  CKR.GENERAL_ERROR,
  CKR.FUNCTION_FAILED,
]);

/**
 * Where `C_Decrypt` writes: as large as any blob, since modules may check the
 * output against the whole input (SoftHSM2 does) and a short buffer would
 * leave the operation active. Calls are synchronous, so one buffer serves
 * all; it is zeroed after each use, leaving the caller's copy the only one.
 */
const scratch = new Uint8Array(new ArrayBuffer(MAX_BLOB_BYTES));

function isAuthenticationFailure(error: unknown): boolean {
  return error instanceof Pkcs11Error && error.fn === "C_Decrypt" &&
    TAG_FAILURES.has(error.code);
}

/**
 * AES-256-GCM encrypts `plaintext` under the HSM key `handle` into a new
 * blob naming `keyIdBytes`/`keyVersion`, bound to `context`. The AAD is the
 * blob's header followed by the canonical encryption context.
 *
 * @example
 * ```ts
 * const blob = seal(hsm, handle, key.idBytes, 1, plaintext, canonicalContext(ctx));
 * ```
 */
export function seal(
  hsm: Hsm,
  handle: number,
  keyIdBytes: Uint8Array,
  keyVersion: number,
  plaintext: Uint8Array,
  context: CanonicalContext,
): Uint8Array {
  const blob = newBlob(keyIdBytes, keyVersion, plaintext.byteLength, hsm);
  hsm.encrypt(
    handle,
    {
      iv: blob,
      ivAt: IV_AT,
      aad: blob,
      aadLength: HEADER_BYTES,
      aadTail: context,
    },
    plaintext,
    blob.subarray(HEADER_BYTES),
  );
  return blob;
}

/**
 * Decrypts a blob (whose header was checked by `parseBlob`) with the HSM
 * key `handle`.
 *
 * @throws {InvalidCiphertextException} when the tag does not verify: the
 * blob was altered or `context` is not the one it was sealed with.
 */
export function open(
  hsm: Hsm,
  handle: number,
  blob: Uint8Array,
  context: CanonicalContext,
): Uint8Array<ArrayBuffer> {
  const sealed = blob.subarray(HEADER_BYTES);
  let written = 0;
  try {
    written = hsm.decrypt(
      handle,
      {
        iv: blob,
        ivAt: IV_AT,
        aad: blob,
        aadLength: HEADER_BYTES,
        aadTail: context,
      },
      sealed,
      scratch,
    );
    return scratch.slice(0, Math.min(written, sealed.byteLength - TAG_BYTES));
  } catch (error) {
    if (!isAuthenticationFailure(error)) throw error;
    throw new InvalidCiphertextException(
      "the ciphertext does not verify: it was altered, or the encryption context differs",
    );
  } finally {
    scratch.fill(0, 0, Math.max(written, sealed.byteLength));
  }
}
