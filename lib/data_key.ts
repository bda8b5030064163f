/**
 * A data key: plaintext for local use, ciphertext for storage.
 * @module
 */

/**
 * A data key from GenerateDataKey. Its plaintext lives only in this object's
 * memory and is zeroed when the object is disposed (`using`), so it never
 * outlives the scope that needs it.
 *
 * @example
 * ```ts
 * using dataKey = await okms.generateDataKey({ keyId, keySpec: "AES_256" });
 * const aesKey = await dataKey.toCryptoKey();        // non-extractable WebCrypto key
 * const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aesKey, bigFile);
 * store(dataKey.ciphertextBlob, sealed);
 * // here dataKey.plaintext is all zeroes
 * ```
 */
export class DataKey implements Disposable {
  /** The ARN of the CMK that encrypted the data key. */
  readonly keyId: string;
  /** The data key encrypted under the CMK: store this. */
  readonly ciphertextBlob: Uint8Array;
  readonly #plaintext: Uint8Array<ArrayBuffer>;
  #disposed = false;

  constructor(
    keyId: string,
    ciphertextBlob: Uint8Array,
    plaintext: Uint8Array<ArrayBuffer>,
  ) {
    this.keyId = keyId;
    this.ciphertextBlob = ciphertextBlob;
    this.#plaintext = plaintext;
  }

  /**
   * The plaintext data key. Use it and drop it: disposal zeroes this very
   * buffer, and reading it after disposal throws.
   */
  get plaintext(): Uint8Array<ArrayBuffer> {
    if (this.#disposed) throw new TypeError("the data key was disposed");
    return this.#plaintext;
  }

  /**
   * The data key as a non-extractable WebCrypto AES-GCM key, so its raw bytes
   * need not stay in JavaScript memory: dispose of this object right after.
   */
  toCryptoKey(
    usages: KeyUsage[] = ["encrypt", "decrypt"],
  ): Promise<CryptoKey> {
    return crypto.subtle.importKey(
      "raw",
      this.plaintext,
      { name: "AES-GCM" },
      false,
      usages,
    );
  }

  /** Zeroes the plaintext. */
  [Symbol.dispose](): void {
    this.#plaintext.fill(0);
    this.#disposed = true;
  }
}
