/**
 * Least-privilege PKCS#11 templates of asymmetric and HMAC keys, in the
 * style of `lib/material/token_objects.ts`: private and secret keys are
 * private, sensitive, uncopyable, unmodifiable, never extractable except
 * between generation and wrapping (and then usable for nothing), with the
 * one use their AWS key usage needs and only its mechanisms.
 * @module
 */
import { CKA, CKK, CKM, CKO } from "../../ffi/mod.ts";
import type { Attribute } from "../../ffi/mod.ts";
import {
  KEY_AGREEMENT_MECHANISMS,
  MAC_MECHANISMS,
  SIGNING_MECHANISMS,
} from "./algorithms.ts";
import { KEY_SPECS, type KeySpec, type KeyUsage } from "./key_specs.ts";
import { ValidationException } from "../errors.ts";

/** Where a private or secret key lives and what it may do. */
export interface KeyPlacement {
  /** A token object (kept) or a session object (gone with the session). */
  token: boolean;
  /**
   * Between generation (or unwrapping) and wrapping under a domain key:
   * extractable, and no use at all. Otherwise never extractable, with the
   * usage's one capability.
   */
  toWrap: boolean;
}

/**
 * The `CKA_KEY_TYPE` of a spec's keys.
 *
 * @example
 * ```ts
 * keyType("ECC_NIST_EDWARDS25519"); // CKK_EC_EDWARDS
 * ```
 */
export function keyType(spec: KeySpec): number {
  const material = KEY_SPECS[spec].material;
  if (material.kind === "RSA") return CKK.RSA;
  if (material.kind === "HMAC") return CKK.GENERIC_SECRET;
  return material.curve.equation === undefined ? CKK.EC_EDWARDS : CKK.EC;
}

/**
 * The `CKM_*` mechanisms a key of `spec` with `usage` may use, packed for
 * `CKA_ALLOWED_MECHANISMS`: those of the usage's AWS algorithms, nothing
 * else.
 *
 * @throws {ValidationException} when `spec` does not allow `usage`.
 * @example
 * ```ts
 * allowedMechanisms("ECC_NIST_P256", "SIGN_VERIFY"); // CKM_ECDSA only
 * ```
 */
export function allowedMechanisms(spec: KeySpec, usage: KeyUsage): Uint8Array {
  const algorithms = KEY_SPECS[spec].usages[usage];
  if (algorithms === undefined) {
    throw new ValidationException(
      `KeySpec ${spec} does not allow KeyUsage ${usage}`,
    );
  }
  const types = [
    ...(algorithms.SigningAlgorithms ?? []).flatMap((a) =>
      SIGNING_MECHANISMS[a]?.type ?? []
    ),
    ...(algorithms.EncryptionAlgorithms?.length ? [CKM.RSA_PKCS_OAEP] : []),
    ...(algorithms.MacAlgorithms ?? []).map((a) => MAC_MECHANISMS[a]),
    ...(algorithms.KeyAgreementAlgorithms ?? []).map((a) =>
      KEY_AGREEMENT_MECHANISMS[a]
    ),
  ];
  return new Uint8Array(
    new BigUint64Array([...new Set(types)].map(BigInt)).buffer,
  );
}

/**
 * The template of a private key (`CKO_PRIVATE_KEY`) or, for an HMAC spec,
 * of the secret key: for generation, and for `C_UnwrapKey` from a domain
 * key. `CKA_MODIFIABLE` comes last: SoftHSM2 applies an unwrap template in
 * order and refuses every attribute after it.
 *
 * @throws {ValidationException} when `spec` does not allow `usage`.
 * @example
 * ```ts
 * const inUse = privateKeyTemplate("ECC_NIST_P256", "SIGN_VERIFY", { token: false, toWrap: false });
 * const signer = hsm.unwrap(CKM.AES_KEY_WRAP_PAD, domainKey, blob, inUse);
 * ```
 */
export function privateKeyTemplate(
  spec: KeySpec,
  usage: KeyUsage,
  placement: KeyPlacement,
): Attribute[] {
  const hmac = KEY_SPECS[spec].material.kind === "HMAC";
  const can = (wanted: KeyUsage) => !placement.toWrap && usage === wanted;
  const mac = can("GENERATE_VERIFY_MAC");
  return [
    [CKA.CLASS, hmac ? CKO.SECRET_KEY : CKO.PRIVATE_KEY],
    [CKA.KEY_TYPE, keyType(spec)],
    [CKA.TOKEN, placement.token],
    [CKA.PRIVATE, true],
    [CKA.SENSITIVE, true],
    [CKA.EXTRACTABLE, placement.toWrap],
    [CKA.COPYABLE, false],
    [CKA.SIGN, can("SIGN_VERIFY") || mac],
    [CKA.DECRYPT, can("ENCRYPT_DECRYPT")],
    [CKA.DERIVE, can("KEY_AGREEMENT")],
    [CKA.UNWRAP, false],
    ...(hmac
      // No C_Verify: SoftHSM2 compares MACs in it plainly; okms recomputes
      // and compares in constant time (lib/ops/mac.ts).
      ? [[CKA.VERIFY, false], [CKA.ENCRYPT, false], [CKA.WRAP, false]] as const
      : [[CKA.SIGN_RECOVER, false]] as const),
    [CKA.ALLOWED_MECHANISMS, allowedMechanisms(spec, usage)],
    [CKA.MODIFIABLE, false],
  ];
}

/**
 * The template of a public key object of `spec` with `usage`, without the
 * key's values: a session object that verifies (SIGN_VERIFY) or encrypts
 * (ENCRYPT_DECRYPT), or does nothing (KEY_AGREEMENT: the peer's key is
 * what ECDH takes). Add `CKA_MODULUS_BITS` and `CKA_PUBLIC_EXPONENT` or
 * `CKA_EC_PARAMS` to generate, or the values to create one.
 *
 * @throws {ValidationException} when `spec` does not allow `usage` or has
 * no public key.
 * @example
 * ```ts
 * const template = [...publicKeyTemplate("RSA_2048", "SIGN_VERIFY"), [CKA.MODULUS_BITS, 2048]];
 * ```
 */
export function publicKeyTemplate(
  spec: KeySpec,
  usage: KeyUsage,
): Attribute[] {
  if (KEY_SPECS[spec].material.kind === "HMAC") {
    throw new ValidationException(`KeySpec ${spec} has no public key`);
  }
  return [
    [CKA.CLASS, CKO.PUBLIC_KEY],
    [CKA.KEY_TYPE, keyType(spec)],
    [CKA.TOKEN, false],
    [CKA.PRIVATE, false],
    [CKA.VERIFY, usage === "SIGN_VERIFY"],
    [CKA.ENCRYPT, usage === "ENCRYPT_DECRYPT"],
    [CKA.VERIFY_RECOVER, false],
    [CKA.WRAP, false],
    [CKA.DERIVE, false],
    [CKA.ALLOWED_MECHANISMS, allowedMechanisms(spec, usage)],
    [CKA.MODIFIABLE, false],
  ];
}
