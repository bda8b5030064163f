/**
 * Encrypt and Decrypt with RSA `ENCRYPT_DECRYPT` keys (RSAES_OAEP_SHA_1,
 * RSAES_OAEP_SHA_256): the branch `lib/ops/crypto.ts` takes when the
 * caller names an RSA encryption algorithm.
 *
 * Encrypt runs in the HSM too, with a session public key object made from
 * the stored SPKI: the module that will decrypt then also decides which
 * OAEP hashes exist, so a ciphertext nobody here could decrypt is never
 * made (SoftHSM2 2.6.1 refuses SHA-256 in both directions).
 * @module
 */
import type { AccountScope } from "../account_scope.ts";
import type { EncryptionAlgorithm as RsaAlgorithm } from "../asymmetric/key_specs.ts";
import { withPublicKey } from "./public_key.ts";
import {
  decrypt as oaepDecrypt,
  encrypt as oaepEncrypt,
} from "../asymmetric/rsa_encryption.ts";
import type { EncryptionContext } from "../encryption_context.ts";
import { ValidationException } from "../errors.ts";
import type { LiveKey } from "../key_ring.ts";
import { requireBytes, requireOneOf } from "../validation.ts";
import {
  type DecryptInput,
  type DecryptOutput,
  type EncryptInput,
  type EncryptOutput,
  MAX_PLAINTEXT_BYTES,
} from "./crypto.ts";

const RSA_ALGORITHMS: readonly RsaAlgorithm[] = [
  "RSAES_OAEP_SHA_1",
  "RSAES_OAEP_SHA_256",
];
/** Every value of `EncryptionAlgorithm`, for the error of an unknown one. */
const ALL_ALGORITHMS = ["SYMMETRIC_DEFAULT", ...RSA_ALGORITHMS] as const;

function rsaAlgorithm(value: unknown): RsaAlgorithm {
  return requireOneOf(
    "EncryptionAlgorithm",
    value,
    ALL_ALGORITHMS,
  ) as RsaAlgorithm;
}

/** AWS: "an encryption context is valid only with a symmetric encryption KMS key". */
function refuseContext(context: EncryptionContext | undefined): void {
  if (context !== undefined && Object.keys(context).length > 0) {
    throw new ValidationException(
      "EncryptionContext is not supported with asymmetric encryption algorithms (RSAES_OAEP_*): only symmetric keys take one",
    );
  }
}

/** The key's spec, checked to be an RSA ENCRYPT_DECRYPT key. */
function rsaKey(
  scope: AccountScope,
  key: LiveKey,
  operation: string,
  algorithm: RsaAlgorithm,
) {
  scope.requireUsage(key, `${operation} with ${algorithm}`, "ENCRYPT_DECRYPT");
  return key.record.keySpec!;
}

/**
 * Encrypts 1 to its limit of bytes (214 for RSA_2048 with SHA-1, as AWS)
 * under an RSA key's public key, with RSA-OAEP in the HSM. Each ciphertext
 * differs (OAEP is randomized); only okms, which holds the private key,
 * decrypts it.
 *
 * @throws {ValidationException} for an encryption context, or a plaintext
 * over the key's limit; {InvalidKeyUsageException} for a key that is not an
 * RSA ENCRYPT_DECRYPT key; {UnsupportedOperationException} when the HSM
 * does not offer the algorithm (SoftHSM2 2.6.1 and RSAES_OAEP_SHA_256).
 * @example
 * ```ts
 * const { ciphertextBlob } = await encryptRsa(scope, {
 *   keyId: "alias/rsa", plaintext, encryptionAlgorithm: "RSAES_OAEP_SHA_1",
 * });
 * ```
 */
export async function encryptRsa(
  scope: AccountScope,
  input: EncryptInput,
): Promise<EncryptOutput> {
  const algorithm = rsaAlgorithm(input.encryptionAlgorithm);
  const plaintext = requireBytes(
    "Plaintext",
    input.plaintext,
    1,
    MAX_PLAINTEXT_BYTES,
  );
  refuseContext(input.encryptionContext);
  const key = await scope.key(input.keyId, "Encrypt");
  const spec = rsaKey(scope, key, "Encrypt", algorithm);
  const ciphertextBlob = await withPublicKey(
    scope,
    key,
    "ENCRYPT_DECRYPT",
    (publicKey) =>
      oaepEncrypt(scope.kms.hsm, publicKey, spec, algorithm, plaintext),
  );
  return {
    ciphertextBlob,
    keyId: scope.arn(key),
    encryptionAlgorithm: algorithm,
  };
}

/**
 * Decrypts an RSA-OAEP ciphertext (from Encrypt, or made elsewhere with the
 * key's public key) with the private key in the HSM. The ciphertext does
 * not name its key, so `keyId` is required, as AWS requires it. The caller
 * owns the plaintext and should zero it.
 *
 * @throws {ValidationException} without `keyId`, or with an encryption
 * context; {InvalidCiphertextException} when it does not decrypt;
 * {UnsupportedOperationException} when the HSM does not offer the
 * algorithm (SoftHSM2 2.6.1 and RSAES_OAEP_SHA_256).
 * @example
 * ```ts
 * const { plaintext } = await decryptRsa(scope, {
 *   keyId: "alias/rsa", ciphertextBlob, encryptionAlgorithm: "RSAES_OAEP_SHA_1",
 * });
 * ```
 */
export async function decryptRsa(
  scope: AccountScope,
  input: DecryptInput,
): Promise<DecryptOutput> {
  const algorithm = rsaAlgorithm(input.encryptionAlgorithm);
  const ciphertext = requireBytes(
    "CiphertextBlob",
    input.ciphertextBlob,
    1,
    6144,
  );
  refuseContext(input.encryptionContext);
  if (input.keyId === undefined) {
    throw new ValidationException(
      `KeyId is required with ${algorithm}: an asymmetric ciphertext does not name its key`,
    );
  }
  const key = await scope.key(input.keyId, "Decrypt");
  const spec = rsaKey(scope, key, "Decrypt", algorithm);
  const privateKey = scope.kms.ring.handle(key, key.current);
  const plaintext = oaepDecrypt(
    scope.kms.hsm,
    privateKey,
    spec,
    algorithm,
    ciphertext,
  );
  return {
    // Hsm.decryptWith's own copy, typed more loosely by rsa_encryption.ts.
    plaintext: plaintext as Uint8Array<ArrayBuffer>,
    keyId: scope.arn(key),
    encryptionAlgorithm: algorithm,
  };
}
