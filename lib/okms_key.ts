/**
 * `OkmsKey`: a CMK shaped like WebCrypto's `CryptoKey`.
 * @module
 */
import type { KeyMetadata } from "./key_metadata.ts";
import {
  type AlgorithmChoice,
  type KeyHandle,
  keyHandle,
  type OkmsKeyAlgorithm,
} from "./subtle/key_algorithms.ts";

/**
 * A handle on a CMK that looks like a WebCrypto `CryptoKey`. It holds no key
 * material (that stays in the HSM), only the key's identity, the metadata
 * seen when the handle was made, and the WebCrypto algorithm it is used
 * with: an AES-GCM 256 `"secret"` key for a SYMMETRIC_DEFAULT CMK, an HMAC
 * `"secret"` key, or the `"private"` half of an RSA or EC key pair (whose
 * public half is a plain WebCrypto key, see `okms.subtle.publicKey`). It
 * is never extractable.
 *
 * A handle made from a key's metadata alone (`okms.key(id)`) takes the
 * first algorithm the key serves: RSA-PSS with SHA-256 for RSA SIGN_VERIFY
 * keys, RSA-OAEP with SHA-1 for RSA ENCRYPT_DECRYPT keys; pick another with
 * {@linkcode OkmsKey.withAlgorithm}.
 *
 * @example
 * ```ts
 * const key = await okms.createKey({ description: "orders" });
 * const sealed = await okms.subtle.encrypt({ name: "AES-GCM" }, key, data);
 * const signer = await okms.key("alias/signer"); // RSA_3072, SIGN_VERIFY
 * const pkcs1 = signer.withAlgorithm({ name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" });
 * const signature = await okms.subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, pkcs1, data);
 * ```
 */
export class OkmsKey {
  /** As `CryptoKey.type`: `"secret"` or `"private"`. */
  readonly type: "secret" | "private";
  /** As `CryptoKey.extractable`: CMK material never leaves the HSM. */
  readonly extractable = false as const;
  /** As `CryptoKey.algorithm`. */
  readonly algorithm: Readonly<OkmsKeyAlgorithm>;
  /** As `CryptoKey.usages`. */
  readonly usages: readonly KeyUsage[];
  /** The key id (a UUID). */
  readonly keyId: string;
  /** The key ARN. */
  readonly arn: string;
  /** The key's metadata when this handle was made. */
  readonly metadata: Readonly<KeyMetadata>;

  /**
   * A handle on the key of `metadata`, as `handle` describes it (by default
   * the first algorithm the key serves, with all its usages).
   */
  constructor(
    metadata: KeyMetadata,
    handle: KeyHandle = keyHandle(metadata.keySpec, metadata.keyUsage),
  ) {
    this.type = handle.type;
    this.algorithm = handle.algorithm;
    this.usages = handle.usages;
    this.keyId = metadata.keyId;
    this.arn = metadata.arn;
    this.metadata = Object.freeze(metadata);
  }

  /**
   * A handle on the same key for another WebCrypto algorithm it serves,
   * with the same usages: an RSA SIGN_VERIFY key signs RSA-PSS and
   * RSASSA-PKCS1-v1_5 with SHA-256, SHA-384 or SHA-512; an RSA
   * ENCRYPT_DECRYPT key does RSA-OAEP with SHA-1 or SHA-256.
   *
   * @throws {DOMException} `NotSupportedError` when the key cannot serve it.
   * @example
   * ```ts
   * const oaep256 = (await okms.key(keyId)).withAlgorithm({ name: "RSA-OAEP", hash: "SHA-256" });
   * ```
   */
  withAlgorithm(algorithm: AlgorithmChoice): OkmsKey {
    const { keySpec, keyUsage } = this.metadata;
    return new OkmsKey(
      this.metadata,
      keyHandle(keySpec, keyUsage, algorithm, this.usages),
    );
  }

  /** As WebCrypto keys print: no secrets to show. */
  get [Symbol.toStringTag](): string {
    return "OkmsKey";
  }
}
