/**
 * The AWS KMS key specs beyond SYMMETRIC_DEFAULT: the usages each allows,
 * the algorithms of each usage as AWS KMS names them (DescribeKey's
 * `SigningAlgorithms`, `EncryptionAlgorithms`, `MacAlgorithms`,
 * `KeyAgreementAlgorithms`), and the key material the HSM makes for it.
 * @module
 */
import { ValidationException } from "../errors.ts";
import { type Curve, CURVES } from "./curves.ts";

/** Asymmetric and HMAC key specs (AWS `KeySpec`). */
export type KeySpec =
  | "RSA_2048"
  | "RSA_3072"
  | "RSA_4096"
  | "ECC_NIST_P256"
  | "ECC_NIST_P384"
  | "ECC_NIST_P521"
  | "ECC_SECG_P256K1"
  | "ECC_NIST_EDWARDS25519"
  | "HMAC_224"
  | "HMAC_256"
  | "HMAC_384"
  | "HMAC_512";

/** AWS `KeyUsage` of these specs. */
export type KeyUsage =
  | "SIGN_VERIFY"
  | "ENCRYPT_DECRYPT"
  | "KEY_AGREEMENT"
  | "GENERATE_VERIFY_MAC";

/** AWS `SigningAlgorithmSpec` values these specs use. */
export type SigningAlgorithm =
  | "RSASSA_PSS_SHA_256"
  | "RSASSA_PSS_SHA_384"
  | "RSASSA_PSS_SHA_512"
  | "RSASSA_PKCS1_V1_5_SHA_256"
  | "RSASSA_PKCS1_V1_5_SHA_384"
  | "RSASSA_PKCS1_V1_5_SHA_512"
  | "ECDSA_SHA_256"
  | "ECDSA_SHA_384"
  | "ECDSA_SHA_512"
  | "ED25519_SHA_512"
  | "ED25519_PH_SHA_512";
/** AWS `EncryptionAlgorithmSpec` values of RSA keys. */
export type EncryptionAlgorithm = "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256";
/** AWS `MacAlgorithmSpec` values. */
export type MacAlgorithm =
  | "HMAC_SHA_224"
  | "HMAC_SHA_256"
  | "HMAC_SHA_384"
  | "HMAC_SHA_512";
/** AWS `KeyAgreementAlgorithmSpec` values. */
export type KeyAgreementAlgorithm = "ECDH";

/** The algorithms of one usage, under DescribeKey's field names. */
export interface UsageAlgorithms {
  readonly SigningAlgorithms?: readonly SigningAlgorithm[];
  readonly EncryptionAlgorithms?: readonly EncryptionAlgorithm[];
  readonly MacAlgorithms?: readonly MacAlgorithm[];
  readonly KeyAgreementAlgorithms?: readonly KeyAgreementAlgorithm[];
}

/** The key material the HSM makes for a spec. */
export type KeyMaterialKind =
  | { readonly kind: "RSA"; readonly bits: 2048 | 3072 | 4096 }
  | { readonly kind: "EC"; readonly curve: Curve }
  | { readonly kind: "HMAC"; readonly bytes: 28 | 32 | 48 | 64 };

/** One key spec. */
export interface KeySpecDefinition {
  readonly material: KeyMaterialKind;
  /** Each usage the spec allows, with its algorithms. */
  readonly usages: Readonly<Partial<Record<KeyUsage, UsageAlgorithms>>>;
}

const RSA_USAGES: KeySpecDefinition["usages"] = {
  SIGN_VERIFY: {
    SigningAlgorithms: [
      "RSASSA_PSS_SHA_256",
      "RSASSA_PSS_SHA_384",
      "RSASSA_PSS_SHA_512",
      "RSASSA_PKCS1_V1_5_SHA_256",
      "RSASSA_PKCS1_V1_5_SHA_384",
      "RSASSA_PKCS1_V1_5_SHA_512",
    ],
  },
  ENCRYPT_DECRYPT: {
    EncryptionAlgorithms: ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
  },
};

const rsa = (bits: 2048 | 3072 | 4096): KeySpecDefinition => ({
  material: { kind: "RSA", bits },
  usages: RSA_USAGES,
});

const nist = (curve: Curve, signing: SigningAlgorithm): KeySpecDefinition => ({
  material: { kind: "EC", curve },
  usages: {
    SIGN_VERIFY: { SigningAlgorithms: [signing] },
    KEY_AGREEMENT: { KeyAgreementAlgorithms: ["ECDH"] },
  },
});

const hmac = (
  bytes: 28 | 32 | 48 | 64,
  algorithm: MacAlgorithm,
): KeySpecDefinition => ({
  material: { kind: "HMAC", bytes },
  usages: { GENERATE_VERIFY_MAC: { MacAlgorithms: [algorithm] } },
});

/**
 * Every spec, as the AWS KMS key spec reference describes it. HMAC keys are
 * as long as their hash's output (224 to 512 bits).
 *
 * @example
 * ```ts
 * KEY_SPECS.ECC_NIST_P256.usages.SIGN_VERIFY?.SigningAlgorithms; // ["ECDSA_SHA_256"]
 * ```
 */
export const KEY_SPECS: Readonly<Record<KeySpec, KeySpecDefinition>> = {
  RSA_2048: rsa(2048),
  RSA_3072: rsa(3072),
  RSA_4096: rsa(4096),
  ECC_NIST_P256: nist(CURVES["P-256"], "ECDSA_SHA_256"),
  ECC_NIST_P384: nist(CURVES["P-384"], "ECDSA_SHA_384"),
  ECC_NIST_P521: nist(CURVES["P-521"], "ECDSA_SHA_512"),
  ECC_SECG_P256K1: {
    material: { kind: "EC", curve: CURVES.secp256k1 },
    usages: { SIGN_VERIFY: { SigningAlgorithms: ["ECDSA_SHA_256"] } },
  },
  ECC_NIST_EDWARDS25519: {
    material: { kind: "EC", curve: CURVES.Ed25519 },
    usages: {
      SIGN_VERIFY: {
        SigningAlgorithms: ["ED25519_SHA_512", "ED25519_PH_SHA_512"],
      },
    },
  },
  HMAC_224: hmac(28, "HMAC_SHA_224"),
  HMAC_256: hmac(32, "HMAC_SHA_256"),
  HMAC_384: hmac(48, "HMAC_SHA_384"),
  HMAC_512: hmac(64, "HMAC_SHA_512"),
};

/**
 * The algorithms of `usage` for `spec`, or `undefined` when the spec does
 * not allow that usage.
 *
 * @example
 * ```ts
 * usageAlgorithms("RSA_2048", "ENCRYPT_DECRYPT"); // { EncryptionAlgorithms: [...] }
 * usageAlgorithms("ECC_SECG_P256K1", "KEY_AGREEMENT"); // undefined
 * ```
 */
export function usageAlgorithms(
  spec: KeySpec,
  usage: KeyUsage,
): UsageAlgorithms | undefined {
  return KEY_SPECS[spec].usages[usage];
}

/**
 * Checks that `algorithm` is one of the `field` algorithms of `spec` with
 * `usage`.
 *
 * @throws {ValidationException} when the spec does not allow the usage or
 * the usage does not take the algorithm.
 * @example
 * ```ts
 * requireAlgorithm("ECC_NIST_P256", "SIGN_VERIFY", "SigningAlgorithms", "ECDSA_SHA_384"); // throws
 * ```
 */
export function requireAlgorithm(
  spec: KeySpec,
  usage: KeyUsage,
  field: keyof UsageAlgorithms,
  algorithm: string,
): void {
  const allowed: readonly string[] | undefined = usageAlgorithms(spec, usage)
    ?.[field];
  if (allowed?.includes(algorithm) !== true) {
    throw new ValidationException(
      `${algorithm} is not one of the ${field} of KeySpec ${spec} with KeyUsage ${usage}`,
    );
  }
}
