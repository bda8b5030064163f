/**
 * One account's view of the keys: how every operation finds a key, checks
 * its state and changes it.
 * @module
 */
import {
  type KeyUsage,
  type UsageAlgorithms,
  usageAlgorithms,
} from "./asymmetric/key_specs.ts";
import { unsupportedAlgorithms } from "./asymmetric/hsm_support.ts";
import { seal } from "./cmk_cipher.ts";
import type { CanonicalContext } from "./encryption_context.ts";
import {
  InvalidKeyUsageException,
  NotFoundException,
  UnsupportedOperationException,
  ValidationException,
} from "./errors.ts";
import type { Hsm } from "./hsm.ts";
import { keyArn, type KeyReference, parseKeyReference } from "./key_id.ts";
import { type KeyMetadata, keyMetadata } from "./key_metadata.ts";
import type { KeyRing, LiveKey, LiveVersion } from "./key_ring.ts";
import { assertAllowed, type KeyOperation } from "./key_state.ts";
import type { KeyRecord } from "./metadata_store.ts";

/** What every account's operations share: the HSM, the keys, the settings. */
export interface KmsContext {
  readonly hsm: Hsm;
  readonly ring: KeyRing;
  /** Region in ARNs. */
  readonly region: string;
  /** Keys an account may hold, its default key included. */
  readonly keyQuota: number;
  /** The clock, epoch milliseconds. */
  readonly now: () => number;
  /**
   * Opened beside the owning process: creating and using keys is safe, but
   * a change to an existing key or alias would not reach the owner's caches.
   */
  readonly beside: boolean;
}

/**
 * The keys of one account. Every lookup stays inside the account: another
 * account's key, or an ARN of another account or region, is not found.
 *
 * @example
 * ```ts
 * const scope = new AccountScope(kms, "111122223333");
 * const key = await scope.key("alias/orders", "Encrypt");
 * ```
 */
export class AccountScope {
  readonly kms: KmsContext;
  readonly accountId: string;

  constructor(kms: KmsContext, accountId: string) {
    this.kms = kms;
    this.accountId = accountId;
  }

  /**
   * The key a `KeyId` argument names (key id, key ARN, alias name or alias
   * ARN), checked against the key state table for `operation`.
   *
   * @throws {NotFoundException} when the account has no such key.
   */
  async key(keyId: unknown, operation: KeyOperation): Promise<LiveKey> {
    const key = await this.resolve(keyId);
    assertAllowed(operation, key.record.state, () => this.arn(key));
    return key;
  }

  /**
   * As {@linkcode key}, without waiting, when the key (and alias) is cached:
   * the hot path. `undefined` means "not cached": await `key()` instead.
   */
  keyNow(keyId: unknown, operation: KeyOperation): LiveKey | undefined {
    // A key id as the cache holds it needs no parsing.
    const cached = typeof keyId === "string"
      ? this.cachedOwnKey(keyId)
      : undefined;
    if (cached !== undefined) {
      assertAllowed(operation, cached.record.state, () => this.arn(cached));
      return cached;
    }
    const reference = parseKeyReference(keyId);
    if (!this.#inScope(reference)) return undefined;
    const id = reference.kind === "key"
      ? reference.keyId
      : this.kms.ring.cachedAliasTarget(this.accountId, reference.aliasName);
    const key = id === undefined ? undefined : this.cachedOwnKey(id);
    if (key !== undefined) {
      assertAllowed(operation, key.record.state, () => this.arn(key));
    }
    return key;
  }

  /** As {@linkcode key}, refusing aliases (for arguments AWS wants a key for). */
  async keyNotAlias(keyId: unknown, operation: KeyOperation): Promise<LiveKey> {
    if (parseKeyReference(keyId).kind === "alias") {
      throw new ValidationException(
        "KeyId must be a key id or key ARN, not an alias",
      );
    }
    return await this.key(keyId, operation);
  }

  /** The key a `KeyId` argument names, in any state. */
  async resolve(keyId: unknown): Promise<LiveKey> {
    const reference = parseKeyReference(keyId);
    const id = !this.#inScope(reference)
      ? undefined
      : reference.kind === "key"
      ? reference.keyId
      : await this.kms.ring.aliasTarget(this.accountId, reference.aliasName);
    const key = id === undefined ? undefined : await this.ownKey(id);
    if (key === undefined) {
      throw new NotFoundException(
        reference.kind === "alias"
          ? `${String(keyId)}: no such alias in this account`
          : `${String(keyId)} is not a key of this account`,
      );
    }
    return key;
  }

  /** The key with this id, if it exists and belongs to this account. */
  async ownKey(keyId: string): Promise<LiveKey | undefined> {
    return this.cachedOwnKey(keyId) ??
      this.#own(await this.kms.ring.get(keyId));
  }

  /** `key` read again where another node may have changed it (see `KeyRing.reread`). */
  async reread(key: LiveKey): Promise<LiveKey | undefined> {
    return this.#own(await this.kms.ring.reread(key));
  }

  /** As {@linkcode ownKey}, when the key is cached. */
  cachedOwnKey(keyId: string): LiveKey | undefined {
    return this.#own(this.kms.ring.cached(keyId));
  }

  /**
   * Refuses an asymmetric or HMAC key for a symmetric operation (or a
   * symmetric key for `wanted`'s asymmetric one), as AWS does.
   *
   * @throws {InvalidKeyUsageException} naming the key's spec and usage.
   */
  requireUsage(
    key: LiveKey,
    operation: string,
    wanted: KeyUsage | "SYMMETRIC",
  ): void {
    const { keySpec, keyUsage } = key.record;
    const fits = wanted === "SYMMETRIC"
      ? keySpec === undefined
      : keySpec !== undefined && keyUsage === wanted;
    if (!fits) {
      throw new InvalidKeyUsageException(
        `${operation} needs ${
          wanted === "SYMMETRIC" ? "a SYMMETRIC_DEFAULT key" : `a ${wanted} key`
        }; ${this.arn(key)} is ${keySpec ?? "SYMMETRIC_DEFAULT"} ${
          keyUsage ?? "ENCRYPT_DECRYPT"
        }`,
        { keyArn: this.arn(key) },
      );
    }
  }

  /**
   * Refuses an algorithm that is not among the key's `field` algorithms
   * (say Sign with ECDSA_SHA_384 on an ECC_NIST_P256 key), as AWS does.
   * Call it after {@linkcode requireUsage}.
   *
   * @throws {InvalidKeyUsageException} naming the algorithms the key takes.
   * @example
   * ```ts
   * scope.requireAlgorithm(key, "SigningAlgorithms", "ECDSA_SHA_256");
   * ```
   */
  requireAlgorithm(
    key: LiveKey,
    field: keyof UsageAlgorithms,
    algorithm: string,
  ): void {
    const { keySpec, keyUsage } = key.record;
    const allowed: readonly string[] =
      (keySpec && keyUsage && usageAlgorithms(keySpec, keyUsage)?.[field]) ??
        [];
    if (!allowed.includes(algorithm)) {
      throw new InvalidKeyUsageException(
        `${algorithm} is not one of the ${field} of ${
          this.arn(key)
        }, a ${keySpec} ${keyUsage} key: ${allowed.join(", ")}`,
        { keyArn: this.arn(key) },
      );
    }
  }

  /**
   * Encrypts under the key's current version (counted against its budget);
   * without waiting unless the budget needs a write or a rotation.
   */
  seal(
    key: LiveKey,
    plaintext: Uint8Array,
    context: CanonicalContext,
  ): Uint8Array | Promise<Uint8Array> {
    const version = this.kms.ring.encryptingVersion(key);
    return version instanceof Promise
      ? version.then((v) => this.#sealWith(key, v, plaintext, context))
      : this.#sealWith(key, version, plaintext, context);
  }

  /**
   * Changes a key's metadata durably, checking the key state table for
   * `operation` once more right before the change: two overlapping calls
   * cannot both pass a check that only one of them would pass after the
   * other.
   */
  update(
    key: LiveKey,
    operation: KeyOperation,
    changes: Partial<KeyRecord>,
  ): Promise<void> {
    this.assertOwner(operation);
    return this.kms.ring.update(
      key,
      changes,
      () => this.recheck(key, operation),
    );
  }

  /**
   * Refuses `operation` (a change to an existing key or alias) when okms
   * was opened beside the process that owns the data directory.
   */
  assertOwner(operation: string): void {
    if (this.kms.beside) {
      throw new UnsupportedOperationException(
        `${operation} beside the process that owns the data directory would not reach its caches; ask that process (the server)`,
      );
    }
  }

  /**
   * Checks again that `key` exists and its state allows `operation` (after
   * an await, another call may have changed or deleted it).
   */
  recheck(key: LiveKey, operation: KeyOperation): void {
    if (key.deleted) {
      throw new NotFoundException(
        `${this.arn(key)} is not a key of this account`,
      );
    }
    assertAllowed(operation, key.record.state, () => this.arn(key));
  }

  #sealWith(
    key: LiveKey,
    version: LiveVersion,
    plaintext: Uint8Array,
    context: CanonicalContext,
  ) {
    const handle = this.kms.ring.handle(key, version);
    return seal(
      this.kms.hsm,
      handle,
      key.idBytes,
      version.record.version,
      plaintext,
      context,
    );
  }

  #own(key: LiveKey | undefined): LiveKey | undefined {
    return key?.record.accountId === this.accountId && !key.deleted
      ? key
      : undefined;
  }

  /** Whether an ARN names this account and region (plain ids always do). */
  #inScope(reference: KeyReference): boolean {
    return (reference.accountId ?? this.accountId) === this.accountId &&
      (reference.region ?? this.kms.region) === this.kms.region;
  }

  /** The key's ARN. */
  arn(key: LiveKey): string {
    return keyArn(this.kms.region, key.record.accountId, key.record.keyId);
  }

  /** The key's AWS metadata. */
  metadata(key: LiveKey): KeyMetadata {
    const { keySpec, keyUsage } = key.record;
    const rsaEncryption = keySpec?.startsWith("RSA_") &&
      keyUsage === "ENCRYPT_DECRYPT";
    return keyMetadata(
      key.record,
      this.kms.region,
      rsaEncryption ? unsupportedAlgorithms(this.kms.hsm) : undefined,
    );
  }
}
