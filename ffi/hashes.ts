/**
 * The hash mechanisms of PKCS#11 and their MGF1 companions, by WebCrypto name.
 * @module
 */
import { CKG, CKM } from "./constants.ts";

/** A hash, by its WebCrypto name. */
export type HashName = "SHA-1" | "SHA-224" | "SHA-256" | "SHA-384" | "SHA-512";

/**
 * Each hash's `CKM_*` digest mechanism and the `CKG_MGF1_*` mask generation
 * function built on it (the pair RSA-OAEP and RSA-PSS parameters name).
 *
 * @example
 * ```ts
 * const [hashAlg, mgf] = HASH_MECHANISMS["SHA-256"]; // CKM_SHA256, CKG_MGF1_SHA256
 * ```
 */
export const HASH_MECHANISMS: Readonly<
  Record<HashName, readonly [hash: number, mgf: number]>
> = {
  "SHA-1": [CKM.SHA_1, CKG.MGF1_SHA1],
  "SHA-224": [CKM.SHA224, CKG.MGF1_SHA224],
  "SHA-256": [CKM.SHA256, CKG.MGF1_SHA256],
  "SHA-384": [CKM.SHA384, CKG.MGF1_SHA384],
  "SHA-512": [CKM.SHA512, CKG.MGF1_SHA512],
};
