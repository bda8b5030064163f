/**
 * A `SubtleCrypto`-shaped face over the KMS operations.
 * @module
 */
import type {
  EncryptionAlgorithm,
  MacAlgorithm,
  SigningAlgorithm,
} from "./asymmetric/key_specs.ts";
import { digestOf, type SigningHash } from "./asymmetric/algorithms.ts";
import { type CurveName, CURVES } from "./asymmetric/curves.ts";
import { ecdsaDerToRaw } from "./asymmetric/ecdsa_signature.ts";
import type { EncryptionContext } from "./encryption_context.ts";
import {
  KMSInvalidMacException,
  UnsupportedOperationException,
} from "./errors.ts";
import { OkmsKey } from "./okms_key.ts";
import { arrayBuffer, bytes } from "./subtle/buffers.ts";
import {
  generatedUsages,
  keyHandle,
  publicUsages,
} from "./subtle/key_algorithms.ts";
import { keyRequest, type OkmsKeyGenParams } from "./subtle/key_requests.ts";
import {
  algorithmName,
  hashName,
  invalidAccess,
  notSupported,
} from "./subtle/names.ts";
import type { AlgorithmChoice } from "./subtle/key_algorithms.ts";
import { oaep, requireKey, signing } from "./subtle/operations.ts";

export type { OkmsKeyGenParams } from "./subtle/key_requests.ts";
export type {
  AlgorithmChoice,
  OkmsKeyAlgorithm,
} from "./subtle/key_algorithms.ts";

/** `AesGcmParams` as okms takes them: the IV is okms's, the context yours. */
export interface OkmsAesGcmParams {
  name: "AES-GCM";
  /** Bound to the ciphertext: decryption needs the same pairs. */
  encryptionContext?: EncryptionContext;
}

/** A generated key pair: the private half in the HSM, the public half WebCrypto's. */
export interface OkmsKeyPair {
  /** A plain, extractable WebCrypto public key: it works without okms. */
  publicKey: CryptoKey;
  /** The HSM half, never extractable. */
  privateKey: OkmsKey;
}

/** Parameters of `sign` and `verify`. */
export type OkmsSignParams = EcdsaParams | RsaPssParams | Algorithm;

/** What the face needs of the KMS (an account's operations). */
export interface SubtleBackend {
  createKey(
    input: { keySpec?: string; keyUsage?: string },
  ): Promise<OkmsKey>;
  encrypt(input: {
    keyId: string;
    plaintext: Uint8Array;
    encryptionContext?: EncryptionContext;
  }): Promise<{ ciphertextBlob: Uint8Array }>;
  decrypt(input: {
    ciphertextBlob: Uint8Array;
    keyId: string;
    encryptionContext?: EncryptionContext;
    encryptionAlgorithm?: EncryptionAlgorithm;
  }): Promise<{ plaintext: Uint8Array }>;
  getPublicKey(input: { keyId: string }): Promise<{ publicKey: Uint8Array }>;
  sign(input: {
    keyId: string;
    message: Uint8Array<ArrayBuffer>;
    messageType: "RAW" | "DIGEST";
    signingAlgorithm: SigningAlgorithm;
  }): Promise<{ signature: Uint8Array }>;
  generateMac(input: {
    keyId: string;
    message: Uint8Array;
    macAlgorithm: MacAlgorithm;
  }): Promise<{ mac: Uint8Array }>;
  verifyMac(input: {
    keyId: string;
    message: Uint8Array;
    mac: Uint8Array;
    macAlgorithm: MacAlgorithm;
  }): Promise<unknown>;
  deriveSharedSecret(input: {
    keyId: string;
    keyAgreementAlgorithm: "ECDH";
    publicKey: Uint8Array;
  }): Promise<{ sharedSecret: Uint8Array }>;
  /** Whether the HSM runs an AWS algorithm (e.g. `RSAES_OAEP_SHA_256`). */
  offers(algorithm: string): boolean;
}

/** What the KMS cannot do is, to WebCrypto, an algorithm it does not support. */
async function supported<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (error instanceof UnsupportedOperationException) {
      throw notSupported(error.message, error);
    }
    throw error;
  }
}

function checkAesGcm(algorithm: OkmsAesGcmParams) {
  if ("iv" in algorithm || "additionalData" in algorithm) {
    throw notSupported(
      "okms chooses the IV and binds encryptionContext as AAD; pass neither iv nor additionalData",
    );
  }
}

/**
 * `crypto.subtle` with {@linkcode OkmsKey}s, whose material stays in the
 * HSM: `generateKey`, `encrypt`, `decrypt`, `sign`, `verify`,
 * `deriveBits` and `exportKey`, named and parameterised as WebCrypto's,
 * plus {@linkcode OkmsSubtle.publicKey}. An argument that is a plain
 * WebCrypto `CryptoKey` (such as a pair's public key) is WebCrypto's: the
 * call goes to `crypto.subtle` unchanged.
 *
 * Keys: AES-GCM 256 (an okms ciphertext blob out, IV and key version
 * included, the encryption context in the algorithm object), HMAC
 * (SHA-224 to SHA-512, keys as long as the hash), RSA-PSS,
 * RSASSA-PKCS1-v1_5 and RSA-OAEP (2048, 3072, 4096 bits, exponent 65537),
 * ECDSA and ECDH (P-256, P-384, P-521), and Ed25519 where the HSM can keep
 * it. Errors of the KMS (a disabled key, …) come through as they are; what
 * the HSM cannot do is a `NotSupportedError`.
 *
 * @example
 * ```ts
 * const key = await okms.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
 * const algorithm = { name: "AES-GCM", encryptionContext: { file: "a.txt" } } as const;
 * const sealed = await okms.subtle.encrypt(algorithm, key, data);
 * const opened = await okms.subtle.decrypt(algorithm, key, sealed);
 *
 * const pair = await okms.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
 * const signature = await okms.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data);
 * await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, pair.publicKey, signature, data); // true
 * ```
 */
export class OkmsSubtle {
  readonly #kms: SubtleBackend;

  constructor(kms: SubtleBackend) {
    this.#kms = kms;
  }

  /**
   * Creates a CMK in the HSM, never extractable: an {@linkcode OkmsKey}
   * for AES-GCM and HMAC, a key pair for the others. `extractable: true`
   * is refused (`NotSupportedError`).
   */
  generateKey(
    algorithm:
      | { name: "AES-GCM"; length?: 256 }
      | HmacKeyGenParams & {
        name: "HMAC";
      },
    extractable: boolean,
    usages: KeyUsage[],
  ): Promise<OkmsKey>;
  generateKey(
    algorithm: RsaHashedKeyGenParams | EcKeyGenParams | { name: "Ed25519" },
    extractable: boolean,
    usages: KeyUsage[],
  ): Promise<OkmsKeyPair>;
  async generateKey(
    algorithm: OkmsKeyGenParams,
    extractable: boolean,
    usages: KeyUsage[],
  ): Promise<OkmsKey | OkmsKeyPair> {
    const { keySpec, keyUsage, choice } = keyRequest(algorithm);
    const split = generatedUsages(choice.name, usages);
    const handle = keyHandle(keySpec, keyUsage, choice, split.own);
    if (extractable) {
      throw notSupported(
        "okms private and secret keys are never extractable: their material stays in the HSM",
      );
    }
    this.#requireDecryptable(choice);
    const created = await supported(this.#kms.createKey({ keySpec, keyUsage }));
    const privateKey = new OkmsKey(created.metadata, handle);
    if (split.public === undefined) return privateKey;
    return {
      publicKey: await this.#publicKey(privateKey, split.public),
      privateKey,
    };
  }

  /**
   * The public key of an RSA or EC `key`, as a plain, extractable WebCrypto
   * key for the same algorithm (AWS GetPublicKey, then `importKey`):
   * verification and encryption need okms no more.
   *
   * @throws {DOMException} `InvalidAccessError` for secret keys.
   * @example
   * ```ts
   * const signer = await okms.key("alias/signer");
   * const verifier = await okms.subtle.publicKey(signer);
   * await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 32 }, verifier, signature, data);
   * ```
   */
  async publicKey(key: OkmsKey): Promise<CryptoKey> {
    return await this.#publicKey(
      key,
      publicUsages(algorithmName(key.algorithm)),
    );
  }

  async #publicKey(key: OkmsKey, usages: KeyUsage[]): Promise<CryptoKey> {
    this.#requireDecryptable(key.algorithm as AlgorithmChoice);
    const { publicKey } = await this.#kms.getPublicKey({ keyId: key.keyId });
    return crypto.subtle.importKey(
      "spki",
      new Uint8Array(publicKey),
      key.algorithm,
      true,
      usages,
    );
  }

  /**
   * Refuses an RSA-OAEP hash the HSM cannot decrypt with: a public key for
   * it would encrypt what nothing can ever decrypt.
   */
  #requireDecryptable(choice: AlgorithmChoice): void {
    if (algorithmName(choice) !== "RSA-OAEP") return;
    const wanted = `RSAES_OAEP_${hashName(choice.hash).replace("-", "_")}`;
    if (!this.#kms.offers(wanted)) {
      throw notSupported(`this HSM does not decrypt ${wanted}`);
    }
  }

  /**
   * Encrypts up to 4096 bytes under an AES-GCM `key`; returns the
   * ciphertext blob. RSA-OAEP encryption is the public key's (WebCrypto).
   */
  async encrypt(
    algorithm: OkmsAesGcmParams | Parameters<SubtleCrypto["encrypt"]>[0],
    key: OkmsKey | CryptoKey,
    data: BufferSource,
  ): Promise<ArrayBuffer> {
    if (!(key instanceof OkmsKey)) {
      return crypto.subtle.encrypt(algorithm, key, data);
    }
    requireKey(key, algorithm, "encrypt");
    checkAesGcm(algorithm as OkmsAesGcmParams);
    const { ciphertextBlob } = await this.#kms.encrypt({
      keyId: key.keyId,
      plaintext: bytes(data),
      encryptionContext: (algorithm as OkmsAesGcmParams).encryptionContext,
    });
    return arrayBuffer(ciphertextBlob);
  }

  /**
   * Decrypts a blob made under an AES-GCM `key` with the same encryption
   * context, or an RSA-OAEP ciphertext of the key's public key (no label).
   */
  async decrypt(
    algorithm: OkmsAesGcmParams | Parameters<SubtleCrypto["decrypt"]>[0],
    key: OkmsKey | CryptoKey,
    data: BufferSource,
  ): Promise<ArrayBuffer> {
    if (!(key instanceof OkmsKey)) {
      return crypto.subtle.decrypt(algorithm, key, data);
    }
    const name = requireKey(key, algorithm, "decrypt");
    if (name === "AES-GCM") checkAesGcm(algorithm as OkmsAesGcmParams);
    const { plaintext } = await supported(this.#kms.decrypt({
      keyId: key.keyId,
      ciphertextBlob: bytes(data),
      ...name === "AES-GCM"
        ? {
          encryptionContext: (algorithm as OkmsAesGcmParams).encryptionContext,
        }
        : { encryptionAlgorithm: oaep(key, algorithm as RsaOaepParams) },
    }));
    return arrayBuffer(plaintext);
  }

  /**
   * Signs `data` of any length (ECDSA, RSA: hashed here, the digest signed
   * in the HSM) or up to 4096 bytes (HMAC, Ed25519: the KMS takes the
   * message). ECDSA signatures are WebCrypto's raw `r ‖ s` (IEEE P1363),
   * not AWS's DER.
   */
  async sign(
    algorithm: OkmsSignParams,
    key: OkmsKey | CryptoKey,
    data: BufferSource,
  ): Promise<ArrayBuffer> {
    if (!(key instanceof OkmsKey)) {
      return crypto.subtle.sign(algorithm, key, data);
    }
    requireKey(key, algorithm, "sign");
    const how = signing(key, algorithm);
    const message = bytes(data);
    if ("mac" in how) {
      const { mac } = await this.#kms.generateMac({
        keyId: key.keyId,
        message,
        macAlgorithm: how.mac,
      });
      return arrayBuffer(mac);
    }
    const digest = how.hash === undefined
      ? undefined
      : new Uint8Array(digestOf(how.hash as SigningHash, message));
    const { signature } = await supported(this.#kms.sign({
      keyId: key.keyId,
      message: digest ?? message,
      messageType: digest === undefined ? "RAW" : "DIGEST",
      signingAlgorithm: how.signing,
    }));
    if (key.algorithm.name !== "ECDSA") return arrayBuffer(signature);
    const curve = (key.algorithm as EcKeyAlgorithm).namedCurve as CurveName;
    return ecdsaDerToRaw(signature, CURVES[curve].coordinateBytes).buffer;
  }

  /**
   * Whether `signature` is the HMAC of `data` under an HMAC `key` (the
   * KMS's VerifyMac; a mismatch is `false`, as in WebCrypto). Signatures
   * are the public key's to verify (WebCrypto).
   */
  async verify(
    algorithm: OkmsSignParams,
    key: OkmsKey | CryptoKey,
    signature: BufferSource,
    data: BufferSource,
  ): Promise<boolean> {
    if (!(key instanceof OkmsKey)) {
      return crypto.subtle.verify(algorithm, key, signature, data);
    }
    requireKey(key, algorithm, "verify");
    // Only HMAC keys verify: signatures are the public key's.
    const how = signing(key, algorithm) as { mac: MacAlgorithm };
    const mac = bytes(signature);
    if (mac.byteLength * 8 !== (key.algorithm as HmacKeyAlgorithm).length) {
      return false;
    }
    try {
      await this.#kms.verifyMac({
        keyId: key.keyId,
        message: bytes(data),
        mac,
        macAlgorithm: how.mac,
      });
      return true;
    } catch (error) {
      if (error instanceof KMSInvalidMacException) return false;
      throw error;
    }
  }

  /**
   * ECDH between an ECDH `key` and the peer's public WebCrypto key on the
   * same curve: the shared secret (the x coordinate), or its first
   * `length` bits (a multiple of 8).
   */
  async deriveBits(
    algorithm: EcdhKeyDeriveParams,
    key: OkmsKey | CryptoKey,
    length: number | null = null,
  ): Promise<ArrayBuffer> {
    if (!(key instanceof OkmsKey)) {
      // WebCrypto takes null for the whole secret; its types say number.
      return crypto.subtle.deriveBits(algorithm, key, length as number);
    }
    requireKey(key, algorithm, "deriveBits");
    const peer = algorithm.public;
    const curve = (key.algorithm as EcKeyAlgorithm).namedCurve;
    if (
      !(peer instanceof CryptoKey) || peer.type !== "public" ||
      peer.algorithm.name !== "ECDH" ||
      (peer.algorithm as EcKeyAlgorithm).namedCurve !== curve
    ) {
      throw invalidAccess(
        `the peer's key must be a public ECDH ${curve} CryptoKey`,
      );
    }
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", peer));
    const { sharedSecret } = await this.#kms.deriveSharedSecret({
      keyId: key.keyId,
      keyAgreementAlgorithm: "ECDH",
      publicKey: spki,
    });
    const bits = length ?? sharedSecret.byteLength * 8;
    if (bits % 8 !== 0 || bits > sharedSecret.byteLength * 8) {
      sharedSecret.fill(0);
      throw new DOMException(
        `okms derives whole bytes, at most ${
          sharedSecret.byteLength * 8
        } bits; not ${bits}`,
        "OperationError",
      );
    }
    return arrayBuffer(sharedSecret.subarray(0, bits / 8));
  }

  /**
   * Exports a WebCrypto key (a pair's public key: `"spki"`, `"jwk"`, …);
   * an {@linkcode OkmsKey} is refused (`InvalidAccessError`): its material
   * never leaves the HSM.
   */
  exportKey(format: "jwk", key: OkmsKey | CryptoKey): Promise<JsonWebKey>;
  exportKey(
    format: Exclude<KeyFormat, "jwk">,
    key: OkmsKey | CryptoKey,
  ): Promise<ArrayBuffer>;
  async exportKey(
    format: KeyFormat,
    key: OkmsKey | CryptoKey,
  ): Promise<JsonWebKey | ArrayBuffer> {
    if (key instanceof OkmsKey) {
      throw invalidAccess(
        "an okms key's material never leaves the HSM; okms.subtle.publicKey gives an RSA or EC key's public key",
      );
    }
    return await crypto.subtle.exportKey(format as "jwk", key);
  }
}
