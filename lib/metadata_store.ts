/**
 * What okms keeps outside the HSM: accounts, key metadata, versions and the
 * material journal. `SqliteStore` implements it for one node, `PostgresStore`
 * (with {@linkcode SharedStore}) for a cluster of nodes.
 * @module
 */
import type { KeySpec, KeyUsage } from "./asymmetric/key_specs.ts";
import { KMSInternalException } from "./errors.ts";

/** AWS key states okms uses. */
export type KeyState = "Enabled" | "Disabled" | "PendingDeletion";

/** A tag on a key. */
export interface Tag {
  tagKey: string;
  tagValue: string;
}

/**
 * Where CMK versions' material is kept: `"token"`, each a token object in
 * the HSM; `"wrapped"`, each wrapped under an HSM-resident domain key and
 * kept in the store ({@linkcode WrappedMaterial}).
 */
export type KeyMaterialMode = "wrapped" | "token";

/**
 * How material is wrapped: AES key wrap with padding (RFC 5649,
 * `CKM_AES_KEY_WRAP_PAD`) or without (RFC 3394, `CKM_AES_KEY_WRAP`).
 */
export type WrapAlgorithm = "RFC5649" | "RFC3394";

/**
 * A CMK version's material as the store keeps it in wrapped mode: its
 * AES-256 key encrypted under a domain key, which never leaves the HSM.
 * Deleting this record shreds the version.
 */
export interface WrappedMaterial {
  /** The `CKA_ID` of the domain key it is wrapped under (16 bytes). */
  domainKeyId: Uint8Array;
  algorithm: WrapAlgorithm;
  /** The wrapped key (40 bytes for AES-256 with either algorithm). */
  blob: Uint8Array;
}

/** One version of a CMK: a piece of HSM material. */
export interface KeyVersionRecord {
  /** 1 for the material made with the key, +1 per rotation. */
  version: number;
  /**
   * The material's name (16 random bytes): the `CKA_ID` of its token
   * object, or, wrapped, the name its journal entries carry.
   */
  materialId: Uint8Array;
  /** The wrapped material; absent for a token object. */
  wrapped?: WrappedMaterial;
  /** An asymmetric key's public key, DER SubjectPublicKeyInfo. */
  publicKey?: Uint8Array;
  /** Creation time, epoch milliseconds. */
  createdAt: number;
  /**
   * Encryptions reserved so far under this version. It is written before
   * they are made, so after a crash the count is over, never under.
   */
  encryptionsReserved: number;
  /** How the version came to be: with the key, by schedule, or on demand. */
  origin: "CREATE" | "AUTOMATIC" | "ON_DEMAND";
}

/** A CMK as stored. */
export interface KeyRecord {
  keyId: string;
  accountId: string;
  description: string;
  state: KeyState;
  /** The account's default CMK, which cannot be deleted. */
  isDefault: boolean;
  /** Epoch milliseconds. */
  createdAt: number;
  /** When a key pending deletion will be destroyed (epoch ms), else null. */
  deletionDate: number | null;
  /** The waiting period chosen when the deletion was scheduled. */
  pendingWindowDays: number | null;
  tags: Tag[];
  /** Automatic rotation period in days, or null when it is off. */
  rotationPeriodDays: number | null;
  /** When automatic rotation is next due (epoch ms), or null when it is off. */
  nextRotationAt: number | null;
  /** Versions, oldest first; the last encrypts. */
  versions: KeyVersionRecord[];
  /**
   * An asymmetric or HMAC key's AWS `KeySpec` and `KeyUsage`, set
   * together; absent for the default symmetric AES-256-GCM key
   * (`SYMMETRIC_DEFAULT`, `ENCRYPT_DECRYPT`), as the stores read it back.
   */
  keySpec?: KeySpec;
  keyUsage?: KeyUsage;
  /**
   * How many times the stored row has changed, where the store counts
   * (PostgreSQL): {@linkcode MetadataStore.updateKey} then refuses a record
   * read before another node's change ({@linkcode StaleRecordError}).
   */
  serial?: number;
}

/** An alias: a friendly name for a key, unique in its account. */
export interface AliasRecord {
  accountId: string;
  /** `alias/…` */
  aliasName: string;
  keyId: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds. */
  updatedAt: number;
}

/** Thrown by the store when a unique name is taken. */
export class NameTakenError extends Error {
  override name = "NameTakenError";
}

/**
 * Thrown by the store when a change was computed from a record that another
 * node has changed since: read the key again and redo the change.
 */
export class StaleRecordError extends KMSInternalException {}

/** A position in a listing: the last item of the previous page. */
export interface KeyCursor {
  createdAt: number;
  keyId: string;
}

/** A journal entry: material about to be made, or to be destroyed. */
export interface JournalEntry {
  materialId: Uint8Array;
  /** When it was journaled, epoch milliseconds. */
  since: number;
}

/**
 * The PKCS#11 token that holds a data directory's keys, as `C_GetTokenInfo`
 * named it when the directory was first used.
 */
export interface TokenBinding {
  /** Whether it is the embedded SoftHSM2 token kept in the data directory. */
  embedded: boolean;
  /** The module it was first reached through (informative: modules move). */
  modulePath: string;
  label: string;
  serialNumber: string;
  /** How the keys' material is kept; absent (recorded before modes): token. */
  keyMaterial?: KeyMaterialMode;
}

/** A domain key: an AES-256 token object that only wraps and unwraps. */
export interface DomainKeyRecord {
  /** Its `CKA_ID` (16 random bytes). */
  id: Uint8Array;
  /** When it was made, epoch milliseconds. */
  createdAt: number;
}

/** A key version, by key id and number. */
export interface VersionRef {
  keyId: string;
  version: number;
}

/** Thrown by {@linkcode MetadataStore.insertKey} when the quota is reached. */
export class QuotaReachedError extends Error {
  override name = "QuotaReachedError";
}

/**
 * The metadata store. Every change of state is one transaction.
 */
export interface MetadataStore {
  /** Resolves once the store has answered a read (for health checks). */
  ping(): Promise<void>;
  /** Creates an account; the first one created is the default. */
  createAccount(accountId: string, createdAt: number): Promise<void>;
  /** Whether the account exists. */
  hasAccount(accountId: string): Promise<boolean>;
  /** Every account id, the default first. */
  listAccounts(): Promise<string[]>;

  /**
   * Inserts a key with its first version (and its wrapped material, if any:
   * refused when its domain key is not recorded), only if the account then
   * holds at most `quota` keys, and clears the material's journal entry, in
   * one transaction.
   *
   * Returns the new row's `serial` where the store keeps one.
   *
   * @throws {QuotaReachedError} when the account holds `quota` keys already.
   */
  insertKey(record: KeyRecord, quota: number): Promise<number | undefined>;
  /** A key with its versions, or `undefined`. */
  getKey(keyId: string): Promise<KeyRecord | undefined>;
  /** The account's default key, or `undefined` if it has none yet. */
  getDefaultKey(accountId: string): Promise<KeyRecord | undefined>;
  /** How many keys an account holds, in any state. */
  countKeys(accountId: string): Promise<number>;
  /** Up to `limit` keys of an account in creation order, after `cursor`. */
  listKeys(
    accountId: string,
    cursor: KeyCursor | undefined,
    limit: number,
  ): Promise<KeyRecord[]>;
  /**
   * Writes a key's mutable fields (not its versions); returns the row's new
   * `serial` where the store keeps one.
   *
   * @throws {NotFoundException} when the key no longer exists.
   * @throws {StaleRecordError} when `record.serial` is given and the row
   * has changed since it was read.
   */
  updateKey(record: KeyRecord): Promise<number | undefined>;
  /**
   * Appends a version (and its wrapped material, as {@linkcode insertKey})
   * and clears its material's journal entry.
   *
   * @throws {StaleRecordError} when another node added that version first,
   * or `serial` is given and the key has changed since it was read.
   */
  addVersion(
    keyId: string,
    version: KeyVersionRecord,
    serial?: number,
  ): Promise<void>;
  /**
   * Deletes a key, its versions (with their wrapped material) and aliases,
   * and journals its versions' material for destruction, in one
   * transaction; returns the material ids (none when it is gone already).
   *
   * @throws {StaleRecordError} when `serial` is given and the key has
   * changed since it was read (e.g. its deletion was cancelled).
   */
  deleteKey(keyId: string, at: number, serial?: number): Promise<Uint8Array[]>;
  /** Ids of keys whose deletion or automatic rotation is due at `now`. */
  dueKeys(now: number): Promise<string[]>;
  /**
   * Reserves up to `block` more encryptions of a version, never past `max`,
   * atomically; returns the reserved range, or `undefined` when the version
   * has reached `max`.
   */
  reserveEncryptions(
    keyId: string,
    version: number,
    block: number,
    max: number,
  ): Promise<{ from: number; to: number } | undefined>;

  /**
   * Creates an alias unless its name is taken in the account or the key has
   * `maxPerKey` aliases already.
   *
   * @throws {NameTakenError} when the name is taken.
   * @throws {QuotaReachedError} when the key has `maxPerKey` aliases.
   */
  createAlias(alias: AliasRecord, maxPerKey: number): Promise<void>;
  /** Points an existing alias at another key (same rules as create). */
  updateAlias(alias: AliasRecord, maxPerKey: number): Promise<void>;
  /** Deletes an alias; false when there was none. */
  deleteAlias(accountId: string, aliasName: string): Promise<boolean>;
  /** An alias, or `undefined`. */
  getAlias(
    accountId: string,
    aliasName: string,
  ): Promise<AliasRecord | undefined>;
  /** Up to `limit` aliases by name after `afterName`, optionally of one key. */
  listAliases(
    accountId: string,
    keyId: string | undefined,
    afterName: string,
    limit: number,
  ): Promise<AliasRecord[]>;

  /** Journals material about to be made or destroyed. */
  journalMaterial(materialId: Uint8Array, at: number): Promise<void>;
  /** Every journal entry: work under way, or that a crash interrupted. */
  journal(): Promise<JournalEntry[]>;
  /** Clears a journal entry. */
  clearMaterial(materialId: Uint8Array): Promise<void>;

  /** The token the keys are in, once recorded. */
  tokenBinding(): Promise<TokenBinding | undefined>;
  /**
   * Records the token (with its `keyMaterial`) unless one is recorded
   * already; returns the one recorded.
   */
  bindToken(binding: TokenBinding): Promise<TokenBinding>;

  /** Closes the store. */
  close(): void;
}

/**
 * What wrapped key material needs of the store beside
 * {@linkcode MetadataStore}: the domain keys, and re-wrapping versions
 * under a new one. Every method is one transaction.
 */
export interface DomainKeyStore {
  /** The domain keys, oldest first (by `createdAt`, then insertion): the last wraps new material. */
  domainKeys(): Promise<DomainKeyRecord[]>;
  /** Records a domain key and clears its journal entry. */
  addDomainKey(record: DomainKeyRecord): Promise<void>;
  /**
   * Up to `limit` versions wrapped under any domain key but `domainKeyId`,
   * ordered by key id then version, after `after`.
   */
  wrappedOutside(
    domainKeyId: Uint8Array,
    after: VersionRef | undefined,
    limit: number,
  ): Promise<VersionRef[]>;
  /**
   * Replaces a version's wrapped material, only if it is still wrapped
   * under `from`; false when it is not (re-wrapped meanwhile, or deleted).
   */
  rewrapVersion(
    ref: VersionRef,
    from: Uint8Array,
    wrapped: WrappedMaterial,
  ): Promise<boolean>;
  /**
   * Forgets domain key `id` and journals it for destruction, only if no
   * version is wrapped under it (a version written under it later is
   * refused); false when one is.
   */
  retireDomainKey(id: Uint8Array, at: number): Promise<boolean>;
}

/** One change another node may have cached the old state of. */
export interface Change {
  /** Its place in the feed: 1, 2, 3… with no gaps. */
  seq: number;
  /** The key whose metadata or versions changed, or that was deleted. */
  keyId: string | null;
  /** Set when an alias of this account changed (created, moved, deleted). */
  aliasAccountId: string | null;
}

/**
 * What a store shared by several nodes adds (PostgreSQL): a feed of the
 * changes each node must apply to its caches, a lease so that one node at a
 * time runs maintenance, and the HSMs admitted to hold the domain keys.
 */
export interface SharedStore {
  /**
   * Changes after `seq`, in order, at most `limit`. Seqs have no gaps and a
   * change is visible only once every smaller one is.
   */
  changesSince(seq: number, limit: number): Promise<Change[]>;
  /** The newest change's seq (0 before any). */
  lastChange(): Promise<number>;
  /** Deletes the changes made before `before` (epoch ms), but not the newest. */
  pruneChanges(before: number): Promise<void>;
  /**
   * Takes or renews lease `name` for `holder`, for `ttlMs` by the
   * database's clock, unless another holder's lease is still running; true
   * when `holder` has it.
   */
  takeLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives up lease `name` if `holder` has it. */
  releaseLease(name: string, holder: string): Promise<void>;
  /** The tokens admitted to hold the domain keys, first the one bound first. */
  admittedTokens(): Promise<TokenBinding[]>;
  /** Admits a token (no change if it is already admitted). */
  admitToken(binding: TokenBinding, at: number): Promise<void>;
}

/**
 * A record's `keySpec` and `keyUsage` from the columns that store them
 * (null for symmetric keys), to spread into the record.
 *
 * @example
 * ```ts
 * const record = { ...fields, ...keyKind(row.key_spec, row.key_usage) };
 * ```
 */
export function keyKind(
  keySpec: string | null,
  keyUsage: string | null,
): Pick<KeyRecord, "keySpec" | "keyUsage"> {
  return keySpec === null
    ? {}
    : { keySpec: keySpec as KeySpec, keyUsage: keyUsage as KeyUsage };
}
