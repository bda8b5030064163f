/**
 * Makes asymmetric and HMAC keys in the HSM from their AWS key spec, and
 * turns public key objects into SubjectPublicKeyInfo and back.
 * @module
 */
import { CKA, CKM } from "../../ffi/mod.ts";
import type { Attribute } from "../../ffi/mod.ts";
import { ValidationException } from "../errors.ts";
import type { Hsm } from "../hsm.ts";
import { KEY_SPECS, type KeySpec, type KeyUsage } from "./key_specs.ts";
import { encodeElement, TAG } from "./der.ts";
import { ecKeyParts, encodeSpki, parseSpki } from "./spki.ts";
import {
  type KeyPlacement,
  privateKeyTemplate,
  publicKeyTemplate,
} from "./templates.ts";

/** RSA's public exponent: 65537, as AWS KMS uses. */
const F4 = Uint8Array.of(1, 0, 1);

/** A key pair just made: both handles and the public key's DER SPKI. */
export interface GeneratedKeyPair {
  privateKey: number;
  /** A session object; destroy it when the public key is kept as `spki`. */
  publicKey: number;
  spki: Uint8Array;
}

/**
 * Generates the key pair of an asymmetric `spec` for `usage` in the HSM:
 * the private key per {@linkcode privateKeyTemplate} and `placement`, the
 * public key as a session object per {@linkcode publicKeyTemplate}.
 *
 * @throws {ValidationException} when `spec` is an HMAC spec or does not
 * allow `usage`.
 * @example
 * ```ts
 * const pair = generateKeyPair(hsm, "ECC_NIST_P256", "SIGN_VERIFY", { token: false, toWrap: true });
 * const blob = hsm.wrap(CKM.AES_KEY_WRAP_PAD, domainKey, pair.privateKey);
 * hsm.destroy(pair.privateKey);
 * hsm.destroy(pair.publicKey);
 * ```
 */
export function generateKeyPair(
  hsm: Hsm,
  spec: KeySpec,
  usage: KeyUsage,
  placement: KeyPlacement,
): GeneratedKeyPair {
  const material = KEY_SPECS[spec].material;
  const publicTemplate = publicKeyTemplate(spec, usage);
  const privateTemplate = privateKeyTemplate(spec, usage, placement);
  const { publicKey, privateKey } = material.kind === "RSA"
    ? hsm.generateKeyPair(CKM.RSA_PKCS_KEY_PAIR_GEN, [
      ...publicTemplate,
      [CKA.MODULUS_BITS, material.bits],
      [CKA.PUBLIC_EXPONENT, F4],
    ], privateTemplate)
    : hsm.generateKeyPair(
      curveOf(spec).equation === undefined
        ? CKM.EC_EDWARDS_KEY_PAIR_GEN
        : CKM.EC_KEY_PAIR_GEN,
      [...publicTemplate, [CKA.EC_PARAMS, curveOf(spec).oid]],
      privateTemplate,
    );
  try {
    return { privateKey, publicKey, spki: publicKeySpki(hsm, spec, publicKey) };
  } catch (error) {
    // Nothing may stay behind, least of all a private key made to be wrapped.
    hsm.destroy(privateKey);
    hsm.destroy(publicKey);
    throw error;
  }
}

/**
 * Generates the secret key of an HMAC `spec` (`CKM_GENERIC_SECRET_KEY_GEN`,
 * `CKK_GENERIC_SECRET`: SoftHSM2 2.6.1 refuses to generate `CKK_SHA*_HMAC`
 * keys) as long as its hash's output; returns its handle.
 *
 * @throws {ValidationException} when `spec` is not an HMAC spec.
 * @example
 * ```ts
 * const key = generateHmacKey(hsm, "HMAC_256", { token: false, toWrap: false });
 * ```
 */
export function generateHmacKey(
  hsm: Hsm,
  spec: KeySpec,
  placement: KeyPlacement,
): number {
  const material = KEY_SPECS[spec].material;
  if (material.kind !== "HMAC") {
    throw new ValidationException(`KeySpec ${spec} is not an HMAC key spec`);
  }
  return hsm.generateKey(CKM.GENERIC_SECRET_KEY_GEN, [
    [CKA.VALUE_LEN, material.bytes],
    ...privateKeyTemplate(spec, "GENERATE_VERIFY_MAC", placement),
  ]);
}

/**
 * The DER SubjectPublicKeyInfo of the public key object `publicKey` of
 * `spec` (AWS GetPublicKey's `PublicKey`).
 *
 * @throws {Error} when the object is not a public key of the spec's kind
 * and curve.
 * @example
 * ```ts
 * const spki = publicKeySpki(hsm, "RSA_3072", publicKey);
 * ```
 */
export function publicKeySpki(
  hsm: Hsm,
  spec: KeySpec,
  publicKey: number,
): Uint8Array<ArrayBuffer> {
  if (KEY_SPECS[spec].material.kind === "RSA") {
    return encodeSpki({ kind: "RSA", ...hsm.rsaPublicKey(publicKey) });
  }
  const parts = ecKeyParts(hsm.ecPublicKey(publicKey));
  if (parts.kind !== "EC" || parts.curve !== curveOf(spec)) {
    throw new Error(`HSM object ${publicKey} is not a ${spec} public key`);
  }
  return encodeSpki(parts);
}

/**
 * A session public key object of `spec` for `usage` made from its DER
 * SPKI (as {@linkcode generateKeyPair} returned it), e.g. to verify in the
 * HSM after the private key was unwrapped; returns its handle.
 *
 * @throws {ValidationException} when `spki` is not a valid key of `spec`.
 * @example
 * ```ts
 * const verifier = importPublicKey(hsm, "ECC_NIST_P384", "SIGN_VERIFY", storedSpki);
 * ```
 */
export function importPublicKey(
  hsm: Hsm,
  spec: KeySpec,
  usage: KeyUsage,
  spki: Uint8Array,
): number {
  const parts = parseSpki(spki);
  const material = KEY_SPECS[spec].material;
  let values: Attribute[];
  if (parts.kind === "RSA" && material.kind === "RSA") {
    values = [
      [CKA.MODULUS, parts.modulus],
      [CKA.PUBLIC_EXPONENT, parts.publicExponent],
    ];
  } else if (parts.kind === "EC" && parts.curve === curveOf(spec)) {
    values = [
      [CKA.EC_PARAMS, parts.curve.oid],
      [CKA.EC_POINT, encodeElement(TAG.OCTET_STRING, parts.point)],
    ];
  } else {
    throw new ValidationException(`the public key is not a ${spec} key`);
  }
  return hsm.createObject([...publicKeyTemplate(spec, usage), ...values]);
}

/** The curve of an EC or Edwards spec. */
function curveOf(spec: KeySpec) {
  const material = KEY_SPECS[spec].material;
  if (material.kind !== "EC") {
    throw new ValidationException(`KeySpec ${spec} is not an elliptic curve`);
  }
  return material.curve;
}
