/**
 * The KMS operations of one account, named as in AWS KMS (camelCase).
 * @module
 */
import { parseBlob } from "./ciphertext_blob.ts";
import { open, seal } from "./cmk_cipher.ts";
import { DataKey } from "./data_key.ts";
import {
  encodeEncryptionContext,
  type EncryptionContext,
} from "./encryption_context.ts";
import {
  IncorrectKeyException,
  InvalidCiphertextException,
  InvalidMarkerException,
  NotFoundException,
  UnsupportedOperationException,
  ValidationException,
} from "./errors.ts";
import type { Hsm } from "./hsm.ts";
import { keyArn, parseKeyReference } from "./key_id.ts";
import { type KeyMetadata, keyMetadata } from "./key_metadata.ts";
import type { KeyRing, LiveKey } from "./key_ring.ts";
import { assertCryptoAllowed } from "./key_state.ts";
import type { KeyCursor, Tag } from "./metadata_store.ts";
import { OkmsKey } from "./okms_key.ts";
import { OkmsSubtle } from "./okms_subtle.ts";
import {
  MAX_TAGS_PER_KEY,
  requireBytes,
  requireInteger,
  requireOneOf,
  requireString,
  requireTags,
} from "./validation.ts";

/** What every account's operations share: the HSM, the keys, the settings. */
export interface KmsContext {
  readonly hsm: Hsm;
  readonly ring: KeyRing;
  /** Region in ARNs. */
  readonly region: string;
  /** Keys an account may hold, its default key included. */
  readonly keyQuota: number;
}

/** The only encryption algorithm of symmetric CMKs. */
export type EncryptionAlgorithm = "SYMMETRIC_DEFAULT";

/** CreateKey's input. */
export interface CreateKeyInput {
  /** At most 8192 characters. */
  description?: string;
  /** At most 50; key 1..128 characters, value 0..256. */
  tags?: Tag[];
  /** Only `ENCRYPT_DECRYPT`. */
  keyUsage?: string;
  /** Only `SYMMETRIC_DEFAULT`. */
  keySpec?: string;
  /** Only `AWS_KMS`: material is always generated in the HSM. */
  origin?: string;
}

/** Encrypt's input. */
export interface EncryptInput {
  /** Key id, key ARN, alias name or alias ARN. */
  keyId: string;
  /** 1 to 4096 bytes. */
  plaintext: Uint8Array;
  encryptionContext?: EncryptionContext;
  encryptionAlgorithm?: EncryptionAlgorithm;
}

/** Encrypt's output. */
export interface EncryptOutput {
  ciphertextBlob: Uint8Array;
  /** The key ARN. */
  keyId: string;
  encryptionAlgorithm: EncryptionAlgorithm;
}

/** Decrypt's input. */
export interface DecryptInput {
  ciphertextBlob: Uint8Array;
  /** The exact context the ciphertext was made with. */
  encryptionContext?: EncryptionContext;
  /** When given, the ciphertext must be under this key. */
  keyId?: string;
  encryptionAlgorithm?: EncryptionAlgorithm;
}

/** Decrypt's output. */
export interface DecryptOutput {
  plaintext: Uint8Array;
  /** The ARN of the key that decrypted. */
  keyId: string;
  encryptionAlgorithm: EncryptionAlgorithm;
}

/** GenerateDataKey's input: exactly one of `keySpec` and `numberOfBytes`. */
export interface GenerateDataKeyInput {
  keyId: string;
  keySpec?: "AES_128" | "AES_256";
  /** 1 to 1024. */
  numberOfBytes?: number;
  encryptionContext?: EncryptionContext;
}

/** GenerateDataKeyWithoutPlaintext's output. */
export interface DataKeyCiphertext {
  ciphertextBlob: Uint8Array;
  /** The key ARN. */
  keyId: string;
}

/** ListKeys' input. */
export interface ListKeysInput {
  /** 1 to 1000; 100 when absent. */
  limit?: number;
  /** `nextMarker` of the previous page. */
  marker?: string;
}

/** ListKeys' output. */
export interface ListKeysOutput {
  keys: { keyId: string; keyArn: string }[];
  /** Present when `truncated`: pass it as `marker` for the next page. */
  nextMarker?: string;
  truncated: boolean;
}

/** Largest plaintext a CMK encrypts, as AWS KMS. */
export const MAX_PLAINTEXT_BYTES = 4096;
/** Largest data key, as AWS KMS. */
export const MAX_DATA_KEY_BYTES = 1024;
/** Longest key description, as AWS KMS. */
export const MAX_DESCRIPTION_LENGTH = 8192;

const DATA_KEY_SPEC_BYTES = { AES_128: 16, AES_256: 32 } as const;

function checkAlgorithm(value: unknown): void {
  if (value !== undefined) {
    requireOneOf("EncryptionAlgorithm", value, ["SYMMETRIC_DEFAULT"]);
  }
}

function checkSupported(name: string, value: unknown, supported: string) {
  if (value !== undefined && value !== supported) {
    throw new UnsupportedOperationException(
      `${name} ${String(value)} is not supported: okms keys are ${supported}`,
    );
  }
}

function encodeMarker(cursor: KeyCursor): string {
  return new TextEncoder().encode(
    JSON.stringify([cursor.createdAt, cursor.keyId]),
  )
    .toBase64({ alphabet: "base64url", omitPadding: true });
}

function decodeMarker(marker: unknown): KeyCursor {
  try {
    const [createdAt, keyId] = JSON.parse(
      new TextDecoder().decode(
        Uint8Array.fromBase64(String(marker), { alphabet: "base64url" }),
      ),
    );
    if (Number.isInteger(createdAt) && typeof keyId === "string") {
      return { createdAt, keyId };
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidMarkerException("the marker is not one ListKeys returned");
}

/**
 * The KMS operations of one account. Every key argument is looked up in this
 * account only: another account's key, or a ciphertext made under one, is
 * treated exactly as if it did not exist.
 *
 * @example
 * ```ts
 * const tenant = await okms.account("123456789012");
 * const { ciphertextBlob } = await tenant.encrypt({ keyId: "alias/orders", plaintext });
 * ```
 */
export class OkmsAccount {
  /** The 12-digit account id. */
  readonly accountId: string;
  /** The `SubtleCrypto`-shaped face of this account's keys. */
  readonly subtle: OkmsSubtle;
  readonly #kms: KmsContext;

  constructor(kms: KmsContext, accountId: string) {
    this.#kms = kms;
    this.accountId = accountId;
    this.subtle = new OkmsSubtle(this);
  }

  /**
   * Creates a CMK: new AES-256 material generated in the HSM.
   *
   * @throws {LimitExceededException} when the account is at its key quota.
   */
  async createKey(input: CreateKeyInput = {}): Promise<OkmsKey> {
    const description = input.description === undefined ? "" : requireString(
      "Description",
      input.description,
      0,
      MAX_DESCRIPTION_LENGTH,
    );
    const tags = input.tags === undefined ? [] : requireTags(input.tags);
    if (tags.length > MAX_TAGS_PER_KEY) {
      throw new ValidationException(
        `a key carries at most ${MAX_TAGS_PER_KEY} tags`,
      );
    }
    checkSupported("KeyUsage", input.keyUsage, "ENCRYPT_DECRYPT");
    checkSupported("KeySpec", input.keySpec, "SYMMETRIC_DEFAULT");
    checkSupported("Origin", input.origin, "AWS_KMS");
    const key = await this.#kms.ring.create({
      keyId: crypto.randomUUID(),
      accountId: this.accountId,
      description,
      tags,
      isDefault: false,
    }, this.#kms.keyQuota);
    return new OkmsKey(this.#metadata(key));
  }

  /** The metadata of a key, in any state. */
  async describeKey(input: { keyId: string }): Promise<KeyMetadata> {
    return this.#metadata(await this.#resolve(input?.keyId));
  }

  /** A `CryptoKey`-shaped handle on an existing key. */
  async key(keyId: string): Promise<OkmsKey> {
    return new OkmsKey(await this.describeKey({ keyId }));
  }

  /** The account's default CMK, which exists from the account's creation. */
  async defaultKey(): Promise<OkmsKey> {
    const record = await this.#kms.ring.store.getDefaultKey(this.accountId);
    if (record === undefined) {
      throw new NotFoundException(
        `account ${this.accountId} has no default key`,
      );
    }
    return this.key(record.keyId);
  }

  /** The account's keys in creation order, a page at a time. */
  async listKeys(input: ListKeysInput = {}): Promise<ListKeysOutput> {
    const limit = input.limit === undefined
      ? 100
      : requireInteger("Limit", input.limit, 1, 1000);
    const cursor = input.marker === undefined
      ? undefined
      : decodeMarker(input.marker);
    const page = await this.#kms.ring.store.listKeys(
      this.accountId,
      cursor,
      limit + 1,
    );
    const truncated = page.length > limit;
    const keys = page.slice(0, limit);
    const last = keys.at(-1);
    return {
      keys: keys.map((k) => ({
        keyId: k.keyId,
        keyArn: keyArn(this.#kms.region, k.accountId, k.keyId),
      })),
      truncated,
      ...(truncated && last ? { nextMarker: encodeMarker(last) } : {}),
    };
  }

  /**
   * Encrypts 1 to 4096 bytes under a CMK, bound to an optional encryption
   * context.
   */
  async encrypt(input: EncryptInput): Promise<EncryptOutput> {
    const plaintext = requireBytes(
      "Plaintext",
      input?.plaintext,
      1,
      MAX_PLAINTEXT_BYTES,
    );
    const context = encodeEncryptionContext(input.encryptionContext);
    checkAlgorithm(input.encryptionAlgorithm);
    const key = await this.#usableKey(input.keyId);
    return {
      ciphertextBlob: await this.#seal(key, plaintext, context),
      keyId: this.#arn(key),
      encryptionAlgorithm: "SYMMETRIC_DEFAULT",
    };
  }

  /**
   * Decrypts a blob from Encrypt or GenerateDataKey*. The blob names its key;
   * a `keyId`, when given, must be that key.
   *
   * @throws {InvalidCiphertextException} when the blob is damaged, foreign,
   * or the encryption context is not the one it was made with.
   */
  async decrypt(input: DecryptInput): Promise<DecryptOutput> {
    const blob = requireBytes("CiphertextBlob", input?.ciphertextBlob, 1, 6144);
    const context = encodeEncryptionContext(input.encryptionContext);
    checkAlgorithm(input.encryptionAlgorithm);
    const named = input.keyId === undefined
      ? undefined
      : await this.#resolve(input.keyId);
    const parsed = parseBlob(blob);
    const key = await this.#ownKey(parsed.keyId);
    const version = key?.versions.get(parsed.keyVersion);
    if (key === undefined || version === undefined) {
      throw new InvalidCiphertextException(
        "the ciphertext was not made under a key of this account",
      );
    }
    if (named !== undefined && named !== key) {
      throw new IncorrectKeyException(
        `the ciphertext was not made under ${this.#arn(named)}`,
      );
    }
    assertCryptoAllowed(key.record.state, this.#arn(key));
    const handle = this.#kms.ring.handle(key, version);
    return {
      plaintext: open(this.#kms.hsm, handle, parsed, context),
      keyId: this.#arn(key),
      encryptionAlgorithm: "SYMMETRIC_DEFAULT",
    };
  }

  /**
   * A new data key from the HSM's RNG, in plaintext and encrypted under the
   * CMK. Dispose of it (`using`) to zero the plaintext.
   */
  async generateDataKey(input: GenerateDataKeyInput): Promise<DataKey> {
    const size = dataKeySize(input);
    const context = encodeEncryptionContext(input.encryptionContext);
    const key = await this.#usableKey(input.keyId);
    const plaintext = this.#kms.hsm.random(size);
    try {
      const blob = await this.#seal(key, plaintext, context);
      return new DataKey(this.#arn(key), blob, plaintext);
    } catch (error) {
      plaintext.fill(0);
      throw error;
    }
  }

  /** As GenerateDataKey, returning only the encrypted data key. */
  async generateDataKeyWithoutPlaintext(
    input: GenerateDataKeyInput,
  ): Promise<DataKeyCiphertext> {
    using dataKey = await this.generateDataKey(input);
    return { ciphertextBlob: dataKey.ciphertextBlob, keyId: dataKey.keyId };
  }

  /** A key of this account named in any AWS form, else NotFoundException. */
  async #resolve(keyId: unknown): Promise<LiveKey> {
    const reference = parseKeyReference(keyId);
    const missing = () =>
      new NotFoundException(`${String(keyId)} is not a key of this account`);
    if (reference.kind === "alias") throw missing();
    if (
      (reference.accountId ?? this.accountId) !== this.accountId ||
      (reference.region ?? this.#kms.region) !== this.#kms.region
    ) throw missing();
    const key = await this.#ownKey(reference.keyId);
    if (key === undefined) throw missing();
    return key;
  }

  /** The key, if it exists and belongs to this account. */
  async #ownKey(keyId: string): Promise<LiveKey | undefined> {
    const key = this.#kms.ring.cached(keyId) ?? await this.#kms.ring.get(keyId);
    return key?.record.accountId === this.accountId ? key : undefined;
  }

  async #usableKey(keyId: unknown): Promise<LiveKey> {
    const key = await this.#resolve(keyId);
    assertCryptoAllowed(key.record.state, this.#arn(key));
    return key;
  }

  async #seal(key: LiveKey, plaintext: Uint8Array, context: Uint8Array) {
    const ring = this.#kms.ring;
    const pending = ring.encryptingVersion(key);
    const version = pending instanceof Promise ? await pending : pending;
    const handle = ring.handle(key, version);
    return seal(
      this.#kms.hsm,
      handle,
      key.idBytes,
      version.record.version,
      plaintext,
      context,
    );
  }

  #arn(key: LiveKey): string {
    return keyArn(this.#kms.region, key.record.accountId, key.record.keyId);
  }

  #metadata(key: LiveKey): KeyMetadata {
    return keyMetadata(key.record, this.#kms.region);
  }
}

function dataKeySize(input: GenerateDataKeyInput): number {
  const { keySpec, numberOfBytes } = input ?? {};
  if ((keySpec === undefined) === (numberOfBytes === undefined)) {
    throw new ValidationException(
      "give exactly one of KeySpec and NumberOfBytes",
    );
  }
  if (keySpec !== undefined) {
    return DATA_KEY_SPEC_BYTES[
      requireOneOf("KeySpec", keySpec, ["AES_128", "AES_256"])
    ];
  }
  return requireInteger("NumberOfBytes", numberOfBytes, 1, MAX_DATA_KEY_BYTES);
}
