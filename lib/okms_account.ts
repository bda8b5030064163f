/**
 * The KMS operations of one account, named as in AWS KMS (camelCase). Each
 * is implemented in `lib/ops/`, by area; this class is their one face.
 * @module
 */
import { AccountScope, type KmsContext } from "./account_scope.ts";
import { unsupportedAlgorithms } from "./asymmetric/hsm_support.ts";
import type { DataKey } from "./data_key.ts";
import type { KeyMetadata } from "./key_metadata.ts";
import { OkmsKey } from "./okms_key.ts";
import { OkmsSubtle } from "./okms_subtle.ts";
import * as aliases from "./ops/aliases.ts";
import * as cryptography from "./ops/crypto.ts";
import * as dataKeyPairs from "./ops/data_key_pairs.ts";
import type { DataKeyPair } from "./data_key_pair.ts";
import * as keyAgreement from "./ops/key_agreement.ts";
import * as keys from "./ops/keys.ts";
import * as lifecycle from "./ops/lifecycle.ts";
import * as mac from "./ops/mac.ts";
import * as rotation from "./ops/rotation.ts";
import * as signing from "./ops/signing.ts";
import * as tags from "./ops/tags.ts";
import { StaleRecordError, type Tag } from "./metadata_store.ts";

export type { KmsContext } from "./account_scope.ts";
export type * from "./ops/aliases.ts";
export type * from "./ops/crypto.ts";
export type * from "./ops/data_key_pairs.ts";
export type * from "./ops/key_agreement.ts";
export type * from "./ops/keys.ts";
export type * from "./ops/lifecycle.ts";
export type * from "./ops/mac.ts";
export type * from "./ops/rotation.ts";
export type * from "./ops/signing.ts";
export type * from "./ops/tags.ts";
export { MAX_DATA_KEY_BYTES, MAX_PLAINTEXT_BYTES } from "./ops/crypto.ts";
export { KEY_PAIR_SPECS } from "./ops/data_key_pairs.ts";
export { MAX_DESCRIPTION_LENGTH } from "./ops/keys.ts";
export { MAC_ALGORITHMS } from "./ops/mac.ts";
export {
  MAX_MESSAGE_BYTES,
  MAX_SIGNATURE_BYTES,
  SIGNING_ALGORITHMS,
} from "./ops/signing.ts";

/** How often a change is redone after another node changed its key first. */
const MAX_REDOS = 4;

/**
 * Runs a change to a key, again (on the key as the store now has it) when
 * another node changed the key between this node's read and its write.
 */
async function redoneIfStale<T>(change: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await change();
    } catch (error) {
      if (!(error instanceof StaleRecordError) || attempt === MAX_REDOS) {
        throw error;
      }
    }
  }
}

/**
 * The KMS operations of one account. Every key argument is looked up in this
 * account only: another account's key, or a ciphertext made under one, is
 * treated exactly as if it did not exist.
 *
 * @example
 * ```ts
 * const tenant = await okms.account("123456789012");
 * const key = await tenant.createKey({ description: "orders" });
 * await tenant.createAlias({ aliasName: "alias/orders", targetKeyId: key.keyId });
 * const { ciphertextBlob } = await tenant.encrypt({ keyId: "alias/orders", plaintext });
 * ```
 */
export class OkmsAccount {
  /** The 12-digit account id. */
  readonly accountId: string;
  /** The `SubtleCrypto`-shaped face of this account's keys. */
  readonly subtle: OkmsSubtle;
  readonly #scope: AccountScope;

  constructor(kms: KmsContext, accountId: string) {
    this.#scope = new AccountScope(kms, accountId);
    this.accountId = accountId;
    this.subtle = new OkmsSubtle(this);
  }

  /**
   * Whether this okms's HSM runs an AWS algorithm of its key specs: a
   * module may list a mechanism and refuse some of its parameters
   * (SoftHSM2 2.6.1 and `RSAES_OAEP_SHA_256`).
   *
   * @example
   * ```ts
   * const hash = okms.offers("RSAES_OAEP_SHA_256") ? "SHA-256" : "SHA-1";
   * ```
   */
  offers(algorithm: string): boolean {
    return !unsupportedAlgorithms(this.#scope.kms.hsm).has(algorithm);
  }

  // Keys

  /** Creates a CMK with new AES-256 material generated in the HSM. */
  createKey(input?: keys.CreateKeyInput): Promise<OkmsKey> {
    return keys.createKey(this.#scope, input);
  }

  /** The metadata of a key, in any state. */
  describeKey(input: keys.KeyIdInput): Promise<KeyMetadata> {
    return keys.describeKey(this.#scope, input);
  }

  /** A `CryptoKey`-shaped handle on an existing key. */
  async key(keyId: string): Promise<OkmsKey> {
    return new OkmsKey(await this.describeKey({ keyId }));
  }

  /** The account's default CMK, which exists from the account's creation. */
  defaultKey(): Promise<OkmsKey> {
    return keys.defaultKey(this.#scope);
  }

  /** The account's keys in creation order, a page at a time. */
  listKeys(input?: keys.ListKeysInput): Promise<keys.ListKeysOutput> {
    return keys.listKeys(this.#scope, input);
  }

  /** Replaces a key's description. */
  updateKeyDescription(
    input: keys.KeyIdInput & { description: string },
  ): Promise<void> {
    return redoneIfStale(() => keys.updateKeyDescription(this.#scope, input));
  }

  // Cryptography

  /** Encrypts 1 to 4096 bytes under a CMK, bound to an optional context. */
  encrypt(
    input: cryptography.EncryptInput,
  ): Promise<cryptography.EncryptOutput> {
    return cryptography.encrypt(this.#scope, input);
  }

  /** Decrypts a blob; it names its key, so `keyId` is optional. */
  decrypt(
    input: cryptography.DecryptInput,
  ): Promise<cryptography.DecryptOutput> {
    return cryptography.decrypt(this.#scope, input);
  }

  /** Decrypts an encrypted data key into a disposable {@linkcode DataKey}. */
  decryptDataKey(input: cryptography.DecryptInput): Promise<DataKey> {
    return cryptography.decryptDataKey(this.#scope, input);
  }

  /** A data key in plaintext (disposable) and encrypted under the CMK. */
  generateDataKey(input: cryptography.GenerateDataKeyInput): Promise<DataKey> {
    return cryptography.generateDataKey(this.#scope, input);
  }

  /** A data key encrypted under the CMK only. */
  generateDataKeyWithoutPlaintext(
    input: cryptography.GenerateDataKeyInput,
  ): Promise<cryptography.DataKeyCiphertext> {
    return cryptography.generateDataKeyWithoutPlaintext(this.#scope, input);
  }

  /** Re-encrypts under another key or context without revealing the plaintext. */
  reEncrypt(
    input: cryptography.ReEncryptInput,
  ): Promise<cryptography.ReEncryptOutput> {
    return cryptography.reEncrypt(this.#scope, input);
  }

  /** 1 to 1024 random bytes from the HSM. */
  generateRandom(
    input: { numberOfBytes: number },
  ): Promise<{ plaintext: Uint8Array }> {
    return cryptography.generateRandom(this.#scope, input);
  }

  /** A data key pair, its private key in plaintext (disposable) and encrypted. */
  generateDataKeyPair(
    input: dataKeyPairs.GenerateDataKeyPairInput,
  ): Promise<DataKeyPair> {
    return dataKeyPairs.generateDataKeyPair(this.#scope, input);
  }

  /** A data key pair, its private key encrypted under the CMK only. */
  generateDataKeyPairWithoutPlaintext(
    input: dataKeyPairs.GenerateDataKeyPairInput,
  ): Promise<dataKeyPairs.DataKeyPairCiphertext> {
    return dataKeyPairs.generateDataKeyPairWithoutPlaintext(this.#scope, input);
  }

  /** The ECDH secret of a KEY_AGREEMENT key and a peer's public key. */
  deriveSharedSecret(
    input: keyAgreement.DeriveSharedSecretInput,
  ): Promise<keyAgreement.DeriveSharedSecretOutput> {
    return keyAgreement.deriveSharedSecret(this.#scope, input);
  }

  // Signatures and MACs

  /** Signs a message or digest with an asymmetric SIGN_VERIFY key, in the HSM. */
  sign(input: signing.SignInput): Promise<signing.SignOutput> {
    return signing.sign(this.#scope, input);
  }

  /** Checks a signature; an invalid one throws `KMSInvalidSignatureException`. */
  verify(input: signing.VerifyInput): Promise<signing.VerifyOutput> {
    return signing.verify(this.#scope, input);
  }

  /** An asymmetric key's public key (DER SPKI) and what it is for. */
  getPublicKey(input: keys.KeyIdInput): Promise<signing.GetPublicKeyOutput> {
    return signing.getPublicKey(this.#scope, input);
  }

  /** The HMAC of a message under an HMAC key, in the HSM. */
  generateMac(input: mac.GenerateMacInput): Promise<mac.GenerateMacOutput> {
    return mac.generateMac(this.#scope, input);
  }

  /** Checks a MAC; a wrong one throws `KMSInvalidMacException`. */
  verifyMac(input: mac.VerifyMacInput): Promise<mac.VerifyMacOutput> {
    return mac.verifyMac(this.#scope, input);
  }

  // Key states

  /** Enables a key. */
  enableKey(input: keys.KeyIdInput): Promise<void> {
    return redoneIfStale(() => lifecycle.enableKey(this.#scope, input));
  }

  /** Disables a key. */
  disableKey(input: keys.KeyIdInput): Promise<void> {
    return redoneIfStale(() => lifecycle.disableKey(this.#scope, input));
  }

  /** Schedules a key's deletion in 7 to 30 days. */
  scheduleKeyDeletion(
    input: lifecycle.ScheduleKeyDeletionInput,
  ): Promise<lifecycle.ScheduleKeyDeletionOutput> {
    return redoneIfStale(() =>
      lifecycle.scheduleKeyDeletion(this.#scope, input)
    );
  }

  /** Cancels a scheduled deletion; the key comes back disabled. */
  cancelKeyDeletion(input: keys.KeyIdInput): Promise<{ keyId: string }> {
    return redoneIfStale(() => lifecycle.cancelKeyDeletion(this.#scope, input));
  }

  // Aliases

  /** Names a key with an alias. */
  createAlias(input: aliases.AliasInput): Promise<void> {
    return aliases.createAlias(this.#scope, input);
  }

  /** Points an alias at another key. */
  updateAlias(input: aliases.AliasInput): Promise<void> {
    return aliases.updateAlias(this.#scope, input);
  }

  /** Deletes an alias. */
  deleteAlias(input: { aliasName: string }): Promise<void> {
    return aliases.deleteAlias(this.#scope, input);
  }

  /** The account's aliases, or one key's. */
  listAliases(
    input?: aliases.ListAliasesInput,
  ): Promise<aliases.ListAliasesOutput> {
    return aliases.listAliases(this.#scope, input);
  }

  // Tags

  /** Adds or replaces tags on a key. */
  tagResource(input: keys.KeyIdInput & { tags: Tag[] }): Promise<void> {
    return redoneIfStale(() => tags.tagResource(this.#scope, input));
  }

  /** Removes tags from a key. */
  untagResource(input: keys.KeyIdInput & { tagKeys: string[] }): Promise<void> {
    return redoneIfStale(() => tags.untagResource(this.#scope, input));
  }

  /** A key's tags. */
  listResourceTags(
    input: tags.ListResourceTagsInput,
  ): Promise<tags.ListResourceTagsOutput> {
    return tags.listResourceTags(this.#scope, input);
  }

  // Rotation

  /** Turns on automatic rotation. */
  enableKeyRotation(input: rotation.EnableKeyRotationInput): Promise<void> {
    return redoneIfStale(() => rotation.enableKeyRotation(this.#scope, input));
  }

  /** Turns off automatic rotation. */
  disableKeyRotation(input: keys.KeyIdInput): Promise<void> {
    return redoneIfStale(() => rotation.disableKeyRotation(this.#scope, input));
  }

  /** Whether automatic rotation is on, and when it is next due. */
  getKeyRotationStatus(
    input: keys.KeyIdInput,
  ): Promise<rotation.KeyRotationStatus> {
    return rotation.getKeyRotationStatus(this.#scope, input);
  }

  /** Rotates a key now. */
  rotateKeyOnDemand(input: keys.KeyIdInput): Promise<{ keyId: string }> {
    return redoneIfStale(() => rotation.rotateKeyOnDemand(this.#scope, input));
  }

  /** A key's rotations. */
  listKeyRotations(
    input: rotation.ListKeyRotationsInput,
  ): Promise<rotation.ListKeyRotationsOutput> {
    return rotation.listKeyRotations(this.#scope, input);
  }
}
