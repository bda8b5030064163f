/**
 * What envelope encryption needs of a KMS: data keys, and encrypting and
 * decrypting them under CMKs, with an encryption context. An okms account
 * in process is one ({@linkcode okmsKeyring}); a remote okms server or AWS
 * KMS reached over HTTP is another (`lib/envelope/remote_kms.ts`).
 * @module
 */
import type { EncryptionContext } from "../encryption_context.ts";
import type { OkmsAccount } from "../okms_account.ts";

/** A data key: its plaintext (the caller zeroes it) and its encrypted form. */
export interface EnvelopeDataKey {
  /** The ARN of the CMK it is encrypted under. */
  keyId: string;
  plaintext: Uint8Array;
  ciphertextBlob: Uint8Array;
}

/**
 * The KMS calls of the AWS Encryption SDK's KMS keyring: GenerateDataKey,
 * Encrypt (to add a CMK) and Decrypt, always with the message's encryption
 * context.
 */
export interface EnvelopeKeyring {
  /** A new 32-byte data key under `keyId`. */
  generateDataKey(
    keyId: string,
    encryptionContext: EncryptionContext,
  ): Promise<EnvelopeDataKey>;
  /** `plaintext` (a data key) encrypted under another CMK. */
  encrypt(
    keyId: string,
    plaintext: Uint8Array,
    encryptionContext: EncryptionContext,
  ): Promise<{ keyId: string; ciphertextBlob: Uint8Array }>;
  /**
   * The data key in `ciphertextBlob`, which must be under `keyId` (an ARN:
   * the SDK's strict mode names the key).
   */
  decrypt(
    keyId: string,
    ciphertextBlob: Uint8Array,
    encryptionContext: EncryptionContext,
  ): Promise<{ keyId: string; plaintext: Uint8Array }>;
}

/**
 * The keyring of an okms account in this process.
 *
 * @example
 * ```ts
 * const keyring = okmsKeyring(okms);
 * const key = await keyring.generateDataKey("alias/files", { purpose: "backup" });
 * ```
 */
export function okmsKeyring(account: OkmsAccount): EnvelopeKeyring {
  return {
    async generateDataKey(keyId, encryptionContext) {
      const key = await account.generateDataKey({
        keyId,
        keySpec: "AES_256",
        encryptionContext,
      });
      // The caller owns the copy and zeroes it; this object's is zeroed now.
      const plaintext = key.plaintext.slice();
      key[Symbol.dispose]();
      return {
        keyId: key.keyId,
        plaintext,
        ciphertextBlob: key.ciphertextBlob,
      };
    },
    async encrypt(keyId, plaintext, encryptionContext) {
      const { keyId: arn, ciphertextBlob } = await account.encrypt({
        keyId,
        plaintext,
        encryptionContext,
      });
      return { keyId: arn, ciphertextBlob };
    },
    async decrypt(keyId, ciphertextBlob, encryptionContext) {
      const { keyId: arn, plaintext } = await account.decrypt({
        keyId,
        ciphertextBlob,
        encryptionContext,
      });
      return { keyId: arn, plaintext };
    },
  };
}
