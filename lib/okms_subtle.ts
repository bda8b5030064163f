/**
 * A `SubtleCrypto`-shaped face over the KMS operations.
 * @module
 */
import type { EncryptionContext } from "./encryption_context.ts";
import type { OkmsKey } from "./okms_key.ts";

/** `AesGcmParams` as okms takes them: the IV is okms's, the context yours. */
export interface OkmsAesGcmParams {
  name: "AES-GCM";
  /** Bound to the ciphertext: decryption needs the same pairs. */
  encryptionContext?: EncryptionContext;
}

/** What the face needs of the KMS (an account's operations). */
export interface SubtleBackend {
  createKey(input: { description?: string }): Promise<OkmsKey>;
  encrypt(input: {
    keyId: string;
    plaintext: Uint8Array;
    encryptionContext?: EncryptionContext;
  }): Promise<{ ciphertextBlob: Uint8Array }>;
  decrypt(input: {
    ciphertextBlob: Uint8Array;
    keyId: string;
    encryptionContext?: EncryptionContext;
  }): Promise<{ plaintext: Uint8Array }>;
}

function bytes(data: BufferSource): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return new Uint8Array(data);
}

/** `data` as an ArrayBuffer of its own; a copied original is zeroed. */
function arrayBuffer(data: Uint8Array): ArrayBuffer {
  const whole = data.byteOffset === 0 &&
    data.byteLength === data.buffer.byteLength;
  if (whole) return data.buffer as ArrayBuffer;
  const copy = data.slice();
  data.fill(0);
  return copy.buffer;
}

function checkAlgorithm(
  algorithm: OkmsAesGcmParams,
  key: OkmsKey,
  usage: KeyUsage,
) {
  if (String(algorithm?.name).toUpperCase() !== "AES-GCM") {
    throw new DOMException("okms keys only do AES-GCM", "NotSupportedError");
  }
  if ("iv" in algorithm || "additionalData" in algorithm) {
    throw new DOMException(
      "okms chooses the IV and binds encryptionContext as AAD; pass neither iv nor additionalData",
      "NotSupportedError",
    );
  }
  if (!key?.usages?.includes(usage)) {
    throw new DOMException(
      `the key does not allow ${usage}`,
      "InvalidAccessError",
    );
  }
}

/**
 * `generateKey`, `encrypt` and `decrypt` as in `crypto.subtle`, with
 * {@linkcode OkmsKey}s whose material stays in the HSM. The ciphertext is an
 * okms ciphertext blob (IV and key version included).
 *
 * @example
 * ```ts
 * const key = await okms.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
 * const algorithm = { name: "AES-GCM", encryptionContext: { file: "a.txt" } } as const;
 * const sealed = await okms.subtle.encrypt(algorithm, key, data);
 * const opened = await okms.subtle.decrypt(algorithm, key, sealed);
 * ```
 */
export class OkmsSubtle {
  readonly #kms: SubtleBackend;

  constructor(kms: SubtleBackend) {
    this.#kms = kms;
  }

  /** Creates a CMK in the HSM (AES-GCM, 256 bits, never extractable). */
  generateKey(
    algorithm: { name: "AES-GCM"; length?: 256 },
    extractable: boolean,
    usages: KeyUsage[],
  ): Promise<OkmsKey> {
    if (String(algorithm?.name).toUpperCase() !== "AES-GCM") {
      return Promise.reject(
        new DOMException("okms keys only do AES-GCM", "NotSupportedError"),
      );
    }
    if ((algorithm.length ?? 256) !== 256 || extractable) {
      return Promise.reject(
        new DOMException(
          "okms CMKs are AES-256 and never extractable",
          "NotSupportedError",
        ),
      );
    }
    if (usages.some((usage) => usage !== "encrypt" && usage !== "decrypt")) {
      return Promise.reject(
        new DOMException("okms CMKs only encrypt and decrypt", "SyntaxError"),
      );
    }
    return this.#kms.createKey({});
  }

  /** Encrypts up to 4096 bytes under `key`; returns the ciphertext blob. */
  async encrypt(
    algorithm: OkmsAesGcmParams,
    key: OkmsKey,
    data: BufferSource,
  ): Promise<ArrayBuffer> {
    checkAlgorithm(algorithm, key, "encrypt");
    const { ciphertextBlob } = await this.#kms.encrypt({
      keyId: key.keyId,
      plaintext: bytes(data),
      encryptionContext: algorithm.encryptionContext,
    });
    return arrayBuffer(ciphertextBlob);
  }

  /** Decrypts a blob made under `key` with the same encryption context. */
  async decrypt(
    algorithm: OkmsAesGcmParams,
    key: OkmsKey,
    data: BufferSource,
  ): Promise<ArrayBuffer> {
    checkAlgorithm(algorithm, key, "decrypt");
    const { plaintext } = await this.#kms.decrypt({
      keyId: key.keyId,
      ciphertextBlob: bytes(data),
      encryptionContext: algorithm.encryptionContext,
    });
    return arrayBuffer(plaintext);
  }
}
