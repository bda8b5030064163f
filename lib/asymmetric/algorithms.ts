/**
 * The PKCS#11 mechanism behind each AWS KMS algorithm, chosen by what
 * SoftHSM2 2.6.1 offers (tests/asymmetric_hsm_test.ts checks each finding):
 * every signature is made on a digest computed in process (node:crypto), so one
 * mechanism serves both MessageType RAW and DIGEST and a key allows only
 * that one. SoftHSM2 2.6.1 has no `CKM_ECDSA_SHA*` at all, and its
 * `CKM_SHA*_RSA_PKCS*` would need a second mechanism per key for DIGEST.
 * @module
 */
import { createHash } from "node:crypto";
import {
  CKM,
  type MechanismStruct,
  oaepMechanism,
  pssMechanism,
} from "../../ffi/mod.ts";
import type {
  EncryptionAlgorithm,
  KeyAgreementAlgorithm,
  MacAlgorithm,
  SigningAlgorithm,
} from "./key_specs.ts";

/** The hash of a signing algorithm, by WebCrypto name. */
export type SigningHash = "SHA-256" | "SHA-384" | "SHA-512";

/** Each signing hash's digest length, in bytes. */
export const DIGEST_BYTES: Readonly<Record<SigningHash, number>> = {
  "SHA-256": 32,
  "SHA-384": 48,
  "SHA-512": 64,
};

/** The same hashes as node:crypto names them. */
const NODE_HASHES: Readonly<Record<SigningHash, string>> = {
  "SHA-256": "sha256",
  "SHA-384": "sha384",
  "SHA-512": "sha512",
};

/**
 * `message`'s digest, computed in place with node:crypto (WebCrypto's
 * `digest` costs a hop to another thread: about 100 µs, twice an ECDSA
 * signature in the HSM).
 *
 * @example
 * ```ts
 * const digest = digestOf("SHA-384", message); // 48 bytes
 * ```
 */
export function digestOf(hash: SigningHash, message: Uint8Array): Uint8Array {
  return createHash(NODE_HASHES[hash]).update(message).digest();
}

/** How the HSM makes one AWS signing algorithm's signature. */
export interface SigningMechanism {
  /**
   * The message's hash (RAW is hashed in JS, DIGEST must be this long);
   * absent for pure Ed25519, which signs the message itself and takes RAW
   * only.
   */
  readonly hash?: SigningHash;
  /** The `CKM_*` mechanism on the digest (or message), for `CKA_ALLOWED_MECHANISMS`. */
  readonly type: number;
  /** The mechanism with its parameters, for `C_SignInit`/`C_VerifyInit`. */
  readonly mechanism: number | MechanismStruct;
  /** Bytes put before the digest: the DER DigestInfo header of PKCS#1 v1.5. */
  readonly digestInfo?: Uint8Array;
  /** Whether the HSM returns `r ‖ s`, which AWS returns as DER. */
  readonly ecdsa?: boolean;
}

/** DER DigestInfo headers (RFC 8017 §9.2, note 1). */
const DIGEST_INFO: Readonly<Record<SigningHash, Uint8Array>> = {
  "SHA-256": Uint8Array.fromHex("3031300d060960864801650304020105000420"),
  "SHA-384": Uint8Array.fromHex("3041300d060960864801650304020205000430"),
  "SHA-512": Uint8Array.fromHex("3051300d060960864801650304020305000440"),
};

const pss = (hash: SigningHash): SigningMechanism => ({
  hash,
  type: CKM.RSA_PKCS_PSS,
  mechanism: pssMechanism(CKM.RSA_PKCS_PSS, hash),
});
const pkcs1 = (hash: SigningHash): SigningMechanism => ({
  hash,
  type: CKM.RSA_PKCS,
  mechanism: CKM.RSA_PKCS,
  digestInfo: DIGEST_INFO[hash],
});
const ecdsa = (hash: SigningHash): SigningMechanism => ({
  hash,
  type: CKM.ECDSA,
  mechanism: CKM.ECDSA,
  ecdsa: true,
});

/**
 * The mechanism of each signing algorithm, `undefined` where the HSM
 * cannot make it: ED25519_PH_SHA_512 needs Ed25519ph (`CKM_EDDSA` with
 * `CK_EDDSA_PARAMS.phFlag`), and SoftHSM2 2.6.1 accepts the flag but
 * ignores it, signing as pure Ed25519.
 *
 * @example
 * ```ts
 * const { hash, mechanism } = SIGNING_MECHANISMS.ECDSA_SHA_256!; // "SHA-256", CKM_ECDSA
 * ```
 */
export const SIGNING_MECHANISMS: Readonly<
  Record<SigningAlgorithm, SigningMechanism | undefined>
> = {
  RSASSA_PSS_SHA_256: pss("SHA-256"),
  RSASSA_PSS_SHA_384: pss("SHA-384"),
  RSASSA_PSS_SHA_512: pss("SHA-512"),
  RSASSA_PKCS1_V1_5_SHA_256: pkcs1("SHA-256"),
  RSASSA_PKCS1_V1_5_SHA_384: pkcs1("SHA-384"),
  RSASSA_PKCS1_V1_5_SHA_512: pkcs1("SHA-512"),
  ECDSA_SHA_256: ecdsa("SHA-256"),
  ECDSA_SHA_384: ecdsa("SHA-384"),
  ECDSA_SHA_512: ecdsa("SHA-512"),
  ED25519_SHA_512: { type: CKM.EDDSA, mechanism: CKM.EDDSA },
  ED25519_PH_SHA_512: undefined,
};

/**
 * The `CKM_RSA_PKCS_OAEP` mechanism of each RSA encryption algorithm: its
 * hash for the label hash and MGF1, and no label, as AWS KMS does.
 * SoftHSM2 2.6.1 refuses SHA-256 here (`CKR_ARGUMENTS_BAD` from
 * `C_EncryptInit`/`C_DecryptInit`), so RSAES_OAEP_SHA_256 needs another HSM.
 */
export const ENCRYPTION_MECHANISMS: Readonly<
  Record<EncryptionAlgorithm, MechanismStruct>
> = {
  RSAES_OAEP_SHA_1: oaepMechanism("SHA-1"),
  RSAES_OAEP_SHA_256: oaepMechanism("SHA-256"),
};

/** The `CKM_SHA*_HMAC` mechanism of each MAC algorithm. */
export const MAC_MECHANISMS: Readonly<Record<MacAlgorithm, number>> = {
  HMAC_SHA_224: CKM.SHA224_HMAC,
  HMAC_SHA_256: CKM.SHA256_HMAC,
  HMAC_SHA_384: CKM.SHA384_HMAC,
  HMAC_SHA_512: CKM.SHA512_HMAC,
};

/** The mechanism of each key agreement algorithm (ECDH, raw shared secret). */
export const KEY_AGREEMENT_MECHANISMS: Readonly<
  Record<KeyAgreementAlgorithm, number>
> = { ECDH: CKM.ECDH1_DERIVE };
