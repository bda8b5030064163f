/**
 * Sealing and opening ciphertext blobs with a CMK version in the HSM.
 * @module
 */
import { CKR, Pkcs11Error } from "../ffi/mod.ts";
import { type BlobParts, newBlob, type ParsedBlob } from "./ciphertext_blob.ts";
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

function isAuthenticationFailure(error: unknown): boolean {
  return error instanceof Pkcs11Error && error.fn === "C_Decrypt" &&
    TAG_FAILURES.has(error.code);
}

/** The AAD of a blob: its header, then the canonical encryption context. */
function additionalData(header: Uint8Array, context: Uint8Array): Uint8Array {
  if (context.byteLength === 0) return header;
  const aad = new Uint8Array(header.byteLength + context.byteLength);
  aad.set(header);
  aad.set(context, header.byteLength);
  return aad;
}

/**
 * AES-256-GCM encrypts `plaintext` under the HSM key `handle` into a new
 * blob naming `keyIdBytes`/`keyVersion`, bound to `context`.
 *
 * @example
 * ```ts
 * const blob = seal(hsm, handle, key.idBytes, 1, plaintext, encodeEncryptionContext(ctx));
 * ```
 */
export function seal(
  hsm: Hsm,
  handle: number,
  keyIdBytes: Uint8Array,
  keyVersion: number,
  plaintext: Uint8Array,
  context: Uint8Array,
): Uint8Array {
  const target: BlobParts = newBlob(
    keyIdBytes,
    keyVersion,
    plaintext.byteLength,
  );
  hsm.encrypt(
    handle,
    target.iv,
    additionalData(target.header, context),
    plaintext,
    target.sealed,
  );
  return target.blob;
}

/**
 * Decrypts a parsed blob with the HSM key `handle`.
 *
 * @throws {InvalidCiphertextException} when the tag does not verify: the
 * blob was altered or `context` is not the one it was sealed with.
 */
export function open(
  hsm: Hsm,
  handle: number,
  parsed: ParsedBlob,
  context: Uint8Array,
): Uint8Array {
  // Modules may check the output against the whole input (SoftHSM2 does),
  // and a short buffer would leave the operation active: give it room.
  const plaintext = new Uint8Array(parsed.sealed.byteLength);
  try {
    const written = hsm.decrypt(
      handle,
      parsed.iv,
      additionalData(parsed.header, context),
      parsed.sealed,
      plaintext,
    );
    return plaintext.subarray(0, written);
  } catch (error) {
    plaintext.fill(0);
    if (!isAuthenticationFailure(error)) throw error;
    throw new InvalidCiphertextException(
      "the ciphertext does not verify: it was altered, or the encryption context differs",
    );
  }
}
