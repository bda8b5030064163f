/**
 * Encrypt and Decrypt with RSA key pairs in the HSM (RSA-OAEP, as AWS KMS's
 * RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256).
 * @module
 */
import { CKR, Pkcs11Error } from "../../ffi/mod.ts";
import {
  InvalidCiphertextException,
  UnsupportedOperationException,
  ValidationException,
} from "../errors.ts";
import type { Hsm } from "../hsm.ts";
import { ENCRYPTION_MECHANISMS } from "./algorithms.ts";
import {
  type EncryptionAlgorithm,
  KEY_SPECS,
  type KeySpec,
  requireAlgorithm,
} from "./key_specs.ts";

/** The OAEP hash's output length: a plaintext takes at most k − 2·hLen − 2 bytes. */
const HASH_BYTES: Readonly<Record<EncryptionAlgorithm, number>> = {
  RSAES_OAEP_SHA_1: 20,
  RSAES_OAEP_SHA_256: 32,
};

/** A module's refusal of the mechanism itself (its OAEP hash), at init. */
function refusedMechanism(error: unknown): boolean {
  return error instanceof Pkcs11Error && error.fn.endsWith("Init") &&
    (error.code === CKR.ARGUMENTS_BAD ||
      error.code === CKR.MECHANISM_PARAM_INVALID ||
      error.code === CKR.MECHANISM_INVALID);
}

/**
 * Decrypts `ciphertext` with the private key `privateKey` of `spec`
 * (`CKM_RSA_PKCS_OAEP`). The caller owns the plaintext and should zero it
 * after use.
 *
 * @throws {InvalidCiphertextException} when the ciphertext does not
 * decrypt; {UnsupportedOperationException} when the HSM does not offer the
 * algorithm (SoftHSM2 2.6.1 and RSAES_OAEP_SHA_256);
 * {ValidationException} when `spec` does not decrypt with it.
 * @example
 * ```ts
 * const plaintext = decrypt(hsm, privateKey, "RSA_2048", "RSAES_OAEP_SHA_1", ciphertext);
 * ```
 */
export function decrypt(
  hsm: Hsm,
  privateKey: number,
  spec: KeySpec,
  algorithm: EncryptionAlgorithm,
  ciphertext: Uint8Array,
): Uint8Array {
  requireAlgorithm(spec, "ENCRYPT_DECRYPT", "EncryptionAlgorithms", algorithm);
  try {
    return hsm.decryptWith(
      ENCRYPTION_MECHANISMS[algorithm],
      privateKey,
      ciphertext,
    );
  } catch (error) {
    if (refusedMechanism(error)) throw unsupported(algorithm);
    if (error instanceof Pkcs11Error && error.fn === "C_Decrypt") {
      throw new InvalidCiphertextException(
        `the ciphertext does not decrypt with ${algorithm} under this key`,
      );
    }
    throw error;
  }
}

/**
 * Encrypts `plaintext` under the public key object `publicKey` of `spec`
 * (`CKM_RSA_PKCS_OAEP`).
 *
 * @throws {ValidationException} when the plaintext is too long for the key
 * and algorithm (checked here: SoftHSM2 2.6.1 answers `CKR_GENERAL_ERROR`),
 * or `spec` does not encrypt with it;
 * {UnsupportedOperationException} when the HSM does not offer it.
 * @example
 * ```ts
 * const ciphertext = encrypt(hsm, publicKey, "RSA_2048", "RSAES_OAEP_SHA_1", plaintext);
 * ```
 */
export function encrypt(
  hsm: Hsm,
  publicKey: number,
  spec: KeySpec,
  algorithm: EncryptionAlgorithm,
  plaintext: Uint8Array,
): Uint8Array {
  requireAlgorithm(spec, "ENCRYPT_DECRYPT", "EncryptionAlgorithms", algorithm);
  const material = KEY_SPECS[spec].material;
  const modulusBytes = material.kind === "RSA" ? material.bits / 8 : 0;
  const limit = modulusBytes - 2 * HASH_BYTES[algorithm] - 2;
  if (plaintext.byteLength > limit) {
    throw new ValidationException(
      `${algorithm} with KeySpec ${spec} encrypts at most ${limit} bytes, not ${plaintext.byteLength}`,
    );
  }
  try {
    return hsm.encryptWith(
      ENCRYPTION_MECHANISMS[algorithm],
      publicKey,
      plaintext,
    );
  } catch (error) {
    if (refusedMechanism(error)) throw unsupported(algorithm);
    throw error;
  }
}

function unsupported(algorithm: EncryptionAlgorithm): Error {
  return new UnsupportedOperationException(
    `this HSM does not offer ${algorithm} (CKM_RSA_PKCS_OAEP with that hash)`,
  );
}
