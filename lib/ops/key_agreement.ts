/**
 * Key agreement: DeriveSharedSecret (ECDH with a KEY_AGREEMENT key on a
 * NIST curve, the private key in the HSM).
 * @module
 */
import type { AccountScope } from "../account_scope.ts";
import { deriveSharedSecret as ecdh } from "../asymmetric/key_agreement.ts";
import type { KeyAgreementAlgorithm } from "../asymmetric/key_specs.ts";
import { requireBytes, requireOneOf } from "../validation.ts";

/** DeriveSharedSecret's input. */
export interface DeriveSharedSecretInput {
  /** A KEY_AGREEMENT key: key id, key ARN, alias name or alias ARN. */
  keyId: string;
  keyAgreementAlgorithm: KeyAgreementAlgorithm;
  /** The peer's public key, DER SubjectPublicKeyInfo, on the key's curve. */
  publicKey: Uint8Array;
}

/** DeriveSharedSecret's output. */
export interface DeriveSharedSecretOutput {
  /** The key ARN. */
  keyId: string;
  /** The raw ECDH secret (the shared point's x); the caller should zero it. */
  sharedSecret: Uint8Array;
  keyAgreementAlgorithm: KeyAgreementAlgorithm;
  /** Where the key's material came from: always the HSM. */
  keyOrigin: "AWS_KMS";
}

/** Longest peer public key AWS takes. */
const MAX_PUBLIC_KEY_BYTES = 8192;

/**
 * The ECDH shared secret of a KEY_AGREEMENT key and a peer's public key,
 * as AWS KMS returns it (no key derivation: run a KDF over it before use).
 *
 * @throws {ValidationException} when the peer's key is not valid DER, is on
 * another curve, or is not a point of the curve;
 * {InvalidKeyUsageException} for a key of another usage.
 * @example
 * ```ts
 * const peer = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
 * const { sharedSecret } = await deriveSharedSecret(scope, {
 *   keyId: "alias/agreement",
 *   keyAgreementAlgorithm: "ECDH",
 *   publicKey: new Uint8Array(await crypto.subtle.exportKey("spki", peer.publicKey)),
 * });
 * ```
 */
export async function deriveSharedSecret(
  scope: AccountScope,
  input: DeriveSharedSecretInput,
): Promise<DeriveSharedSecretOutput> {
  const algorithm = requireOneOf(
    "KeyAgreementAlgorithm",
    input?.keyAgreementAlgorithm,
    ["ECDH"] as const,
  );
  const peer = requireBytes(
    "PublicKey",
    input.publicKey,
    1,
    MAX_PUBLIC_KEY_BYTES,
  );
  const key = await scope.key(input.keyId, "DeriveSharedSecret");
  scope.requireUsage(key, "DeriveSharedSecret", "KEY_AGREEMENT");
  const privateKey = scope.kms.ring.handle(key, key.current);
  return {
    keyId: scope.arn(key),
    sharedSecret: ecdh(
      scope.kms.hsm,
      privateKey,
      key.record.keySpec!,
      algorithm,
      peer,
    ),
    keyAgreementAlgorithm: algorithm,
    keyOrigin: "AWS_KMS",
  };
}
