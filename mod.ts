/**
 * okms: a key management service with AWS KMS semantics whose master keys
 * live in a PKCS#11 HSM (SoftHSM2 embedded by default).
 *
 * @example
 * ```ts
 * import { Okms } from "./mod.ts";
 * await using okms = await Okms.open();
 * const key = await okms.createKey({ description: "orders" });
 * const ctx = { order: "42" };
 * const { ciphertextBlob } = await okms.encrypt({ keyId: key.keyId, plaintext: new TextEncoder().encode("hi"), encryptionContext: ctx });
 * const { plaintext } = await okms.decrypt({ ciphertextBlob, encryptionContext: ctx });
 * using dataKey = await okms.generateDataKey({ keyId: key.keyId, keySpec: "AES_256", encryptionContext: ctx });
 * const aes = await dataKey.toCryptoKey();
 * ```
 * @module
 */
export { Okms } from "./lib/okms.ts";
export type { OkmsOptions, Pkcs11Options } from "./lib/config.ts";
export * from "./lib/okms_account.ts";
export { OkmsKey } from "./lib/okms_key.ts";
export { OkmsSubtle } from "./lib/okms_subtle.ts";
export type {
  AlgorithmChoice,
  OkmsAesGcmParams,
  OkmsKeyAlgorithm,
  OkmsKeyGenParams,
  OkmsKeyPair,
  OkmsSignParams,
} from "./lib/okms_subtle.ts";
export { DataKey } from "./lib/data_key.ts";
export { DataKeyPair } from "./lib/data_key_pair.ts";
export type { KeyMetadata } from "./lib/key_metadata.ts";
export type { KeyMaterialMode, KeyState, Tag } from "./lib/metadata_store.ts";
export type { EncryptionContext } from "./lib/encryption_context.ts";
export * from "./lib/errors.ts";
export * as envelope from "./lib/envelope/mod.ts";
