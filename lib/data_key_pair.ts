/**
 * A data key pair: a public key and a plaintext private key for local use,
 * the private key encrypted under a CMK for storage.
 * @module
 */

/** AWS `KeyPairSpec` values okms generates (SM2 is China regions only). */
export type KeyPairSpec =
  | "RSA_2048"
  | "RSA_3072"
  | "RSA_4096"
  | "ECC_NIST_P256"
  | "ECC_NIST_P384"
  | "ECC_NIST_P521"
  | "ECC_SECG_P256K1";

/** What a data key pair shows beside its plaintext private key. */
export interface DataKeyPairCiphertext {
  /** The ARN of the symmetric CMK that encrypted the private key. */
  keyId: string;
  keyPairSpec: KeyPairSpec;
  /** DER SubjectPublicKeyInfo. */
  publicKey: Uint8Array;
  /** The PKCS#8 private key encrypted under the CMK: store this. */
  privateKeyCiphertextBlob: Uint8Array;
}

/**
 * A data key pair from GenerateDataKeyPair. Its plaintext private key
 * (PKCS#8 DER) lives only in this object's memory and is zeroed when the
 * object is disposed (`using`), as {@linkcode DataKey}'s plaintext is.
 *
 * @example
 * ```ts
 * using pair = await okms.generateDataKeyPair({ keyId, keyPairSpec: "ECC_NIST_P256" });
 * const signer = await pair.toCryptoKey({ name: "ECDSA", namedCurve: "P-256" }, ["sign"]);
 * const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, signer, document);
 * store(pair.publicKey, pair.privateKeyCiphertextBlob, signature);
 * // here pair.privateKeyPlaintext is all zeroes
 * ```
 */
export class DataKeyPair implements DataKeyPairCiphertext, Disposable {
  readonly keyId: string;
  readonly keyPairSpec: KeyPairSpec;
  readonly publicKey: Uint8Array;
  readonly privateKeyCiphertextBlob: Uint8Array;
  readonly #privateKey: Uint8Array<ArrayBuffer>;
  #disposed = false;

  constructor(
    pair: DataKeyPairCiphertext,
    privateKeyPlaintext: Uint8Array<ArrayBuffer>,
  ) {
    this.keyId = pair.keyId;
    this.keyPairSpec = pair.keyPairSpec;
    this.publicKey = pair.publicKey;
    this.privateKeyCiphertextBlob = pair.privateKeyCiphertextBlob;
    this.#privateKey = privateKeyPlaintext;
  }

  /**
   * The private key, PKCS#8 DER. Use it and drop it: disposal zeroes this
   * very buffer, and reading it after disposal throws.
   */
  get privateKeyPlaintext(): Uint8Array<ArrayBuffer> {
    if (this.#disposed) throw new TypeError("the data key pair was disposed");
    return this.#privateKey;
  }

  /**
   * The private key as a non-extractable WebCrypto key (RSA and NIST
   * curves; WebCrypto has no secp256k1), so its bytes need not stay in
   * JavaScript memory: dispose of this object right after.
   */
  toCryptoKey(
    algorithm: RsaHashedImportParams | EcKeyImportParams,
    usages: KeyUsage[],
  ): Promise<CryptoKey> {
    return crypto.subtle.importKey(
      "pkcs8",
      this.privateKeyPlaintext,
      algorithm,
      false,
      usages,
    );
  }

  /** Zeroes the plaintext private key. */
  [Symbol.dispose](): void {
    this.#privateKey.fill(0);
    this.#disposed = true;
  }
}
