/**
 * `OkmsKey`: a CMK shaped like WebCrypto's `CryptoKey`.
 * @module
 */
import type { KeyMetadata } from "./key_metadata.ts";

/**
 * A handle on a CMK that looks like a WebCrypto `CryptoKey`: a secret,
 * non-extractable AES-GCM 256 key for encrypt and decrypt. It holds no key
 * material (that stays in the HSM), only the key's identity and the metadata
 * seen when the handle was made.
 *
 * @example
 * ```ts
 * const key = await okms.createKey({ description: "orders" });
 * const sealed = await okms.subtle.encrypt({ name: "AES-GCM" }, key, data);
 * ```
 */
export class OkmsKey {
  /** As `CryptoKey.type`. */
  readonly type = "secret" as const;
  /** As `CryptoKey.extractable`: CMK material never leaves the HSM. */
  readonly extractable = false as const;
  /** As `CryptoKey.algorithm`. */
  readonly algorithm: Readonly<AesKeyAlgorithm> = Object.freeze({
    name: "AES-GCM",
    length: 256,
  });
  /** As `CryptoKey.usages`. */
  readonly usages: readonly KeyUsage[] = Object.freeze([
    "encrypt",
    "decrypt",
  ] as KeyUsage[]);
  /** The key id (a UUID). */
  readonly keyId: string;
  /** The key ARN. */
  readonly arn: string;
  /** The key's metadata when this handle was made. */
  readonly metadata: Readonly<KeyMetadata>;

  constructor(metadata: KeyMetadata) {
    this.keyId = metadata.keyId;
    this.arn = metadata.arn;
    this.metadata = Object.freeze(metadata);
  }

  /** As WebCrypto keys print: no secrets to show. */
  get [Symbol.toStringTag](): string {
    return "OkmsKey";
  }
}
