/**
 * A `CKM_RSA_PKCS_OAEP` mechanism with its `CK_RSA_PKCS_OAEP_PARAMS`.
 * @module
 */
import { CK_ULONG_SIZE, CKM, CKZ } from "./constants.ts";
import { HASH_MECHANISMS } from "./hashes.ts";
import { fixedBuffer, Mechanism, writeUlong } from "./structs.ts";

// CK_RSA_PKCS_OAEP_PARAMS: hashAlg, mgf, source, pSourceData, ulSourceDataLen.
const PARAMS_SIZE = 5 * CK_ULONG_SIZE;

/** The hash of RSA-OAEP (and of its MGF1), by its WebCrypto name. */
export type OaepHash = "SHA-256" | "SHA-1";

/**
 * A `CK_MECHANISM` for RSA-OAEP with `hash` for both the label hash and
 * MGF1, and no label (`CKZ_DATA_SPECIFIED` with no data).
 *
 * @example
 * ```ts
 * const oaep = oaepMechanism("SHA-256");
 * p11.wrapKey(session, oaep, publicKey, aesKey, new Uint8Array(512));
 * ```
 */
export function oaepMechanism(hash: OaepHash): Mechanism {
  const [hashAlg, mgf] = HASH_MECHANISMS[hash];
  const params = fixedBuffer(PARAMS_SIZE);
  writeUlong(params, hashAlg, 0);
  writeUlong(params, mgf, CK_ULONG_SIZE);
  writeUlong(params, CKZ.DATA_SPECIFIED, 2 * CK_ULONG_SIZE);
  // pSourceData (NULL) and ulSourceDataLen (0) stay zero: no label.
  return new Mechanism(CKM.RSA_PKCS_OAEP, params);
}
