/**
 * RSA-PSS mechanisms with their `CK_RSA_PKCS_PSS_PARAMS`.
 * @module
 */
import { CK_ULONG_SIZE } from "./constants.ts";
import { HASH_MECHANISMS } from "./hashes.ts";
import { fixedBuffer, Mechanism, writeUlong } from "./structs.ts";

// CK_RSA_PKCS_PSS_PARAMS: hashAlg, mgf, sLen.
const PARAMS_SIZE = 3 * CK_ULONG_SIZE;

/** The hash of RSA-PSS (and of its MGF1), by its WebCrypto name. */
export type PssHash = "SHA-256" | "SHA-384" | "SHA-512";

const HASH_BYTES: Readonly<Record<PssHash, number>> = {
  "SHA-256": 32,
  "SHA-384": 48,
  "SHA-512": 64,
};

/**
 * A `CK_MECHANISM` of type `mechanism` (`CKM_RSA_PKCS_PSS` on a digest, or
 * `CKM_SHA*_RSA_PKCS_PSS` on a message) with `hash` for the message and
 * MGF1, and a salt as long as the hash (what AWS KMS and WebCrypto users
 * expect of RSASSA_PSS_SHA_*).
 *
 * @example
 * ```ts
 * const pss = pssMechanism(CKM.RSA_PKCS_PSS, "SHA-256");
 * p11.signInit(session, pss, privateKey);
 * ```
 */
export function pssMechanism(mechanism: number, hash: PssHash): Mechanism {
  const [hashAlg, mgf] = HASH_MECHANISMS[hash];
  const params = fixedBuffer(PARAMS_SIZE);
  writeUlong(params, hashAlg, 0);
  writeUlong(params, mgf, CK_ULONG_SIZE);
  writeUlong(params, HASH_BYTES[hash], 2 * CK_ULONG_SIZE);
  return new Mechanism(mechanism, params);
}
