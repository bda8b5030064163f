/**
 * The live keys: metadata cached from the store, material handles from the
 * HSM, and each version's encryption budget.
 * @module
 */
import {
  KeyUnavailableException,
  LimitExceededException,
  NotFoundException,
  UnsupportedOperationException,
} from "./errors.ts";
import { keyIdToBytes } from "./key_id.ts";
import type {
  KeyMaterial,
  MaterialKind,
  NewMaterial,
} from "./material/key_material.ts";
import {
  type DomainKeyStore,
  type KeyRecord,
  type KeyVersionRecord,
  type MetadataStore,
  QuotaReachedError,
  StaleRecordError,
} from "./metadata_store.ts";

/**
 * NIST SP 800-38D bounds one key to 2^32 encryptions with random 96-bit IVs.
 * okms rotates to a new version well before: at 2^30 by default.
 */
export const NIST_RANDOM_IV_BOUND = 2 ** 32;
/** How old a journal entry must be before recovery may act on it. */
export const JOURNAL_GRACE_MS = 60_000;
/** Encryptions reserved in the store at a time, per version. */
export const RESERVATION_BLOCK = 2 ** 16;

/** A version in use: its record, HSM handle and encryption count. */
export interface LiveVersion {
  readonly record: KeyVersionRecord;
  /** The material's handle, once located. */
  handle: number | undefined;
  /** Encryptions made (or possibly made before a crash) under it. */
  used: number;
}

/** A key in use. */
export interface LiveKey {
  record: KeyRecord;
  /** The key id's 16 bytes, as ciphertext headers carry them. */
  readonly idBytes: Uint8Array;
  /** Versions by number. */
  readonly versions: Map<number, LiveVersion>;
  /** The version that encrypts. */
  current: LiveVersion;
  /** The reservation or rotation under way, shared by concurrent callers. */
  refill?: Promise<void>;
  /** Set once the key is deleted: holders of this object must not use it. */
  deleted?: true;
  /** The tail of the key's queue of rotations and reservations. */
  lock?: Promise<void>;
  /** Set when another node changed it: read it again before use. */
  stale?: true;
}

/**
 * Whether cached state may be used, in a cluster (see `ChangeFeed`): false
 * while this node may have missed other nodes' changes.
 */
export interface CacheTrust {
  trusted(): boolean;
  /** Catches up with the other nodes' changes (one read, shared by callers). */
  poll(): Promise<void>;
}

/** What {@linkcode KeyRing.recover} did. */
export interface Recovery {
  /** Pieces of material and leftovers destroyed. */
  recovered: number;
  /** Why some could not be (their journal entries stay for the next run). */
  failures: string[];
}

/** What a new key starts with. */
export interface NewKey extends MaterialKind {
  keyId: string;
  accountId: string;
  description: string;
  tags: KeyRecord["tags"];
  isDefault: boolean;
}

function live(record: KeyRecord): LiveKey {
  const versions = new Map(
    record.versions.map((v) => [v.version, liveVersion(v)]),
  );
  return {
    record,
    idBytes: keyIdToBytes(record.keyId),
    versions,
    current: versions.get(record.versions.at(-1)!.version)!,
  };
}

/**
 * `key` brought up to date with its stored record, keeping budgets and
 * handles in use; a version's wrapped material may have been re-wrapped
 * under a newer domain key meanwhile.
 */
function refreshed(key: LiveKey, record: KeyRecord): LiveKey {
  for (const version of record.versions) {
    const known = key.versions.get(version.version);
    if (known === undefined) {
      key.versions.set(version.version, liveVersion(version));
    } else if (version.wrapped !== undefined) {
      known.record.wrapped = version.wrapped;
    }
  }
  key.record = record;
  key.current = key.versions.get(record.versions.at(-1)!.version)!;
  return key;
}

function liveVersion(record: KeyVersionRecord): LiveVersion {
  // After a restart, every reserved encryption counts as made.
  return { record, handle: undefined, used: record.encryptionsReserved };
}

/**
 * The keys of every account, as the KMS operations use them.
 *
 * Creation order: the material's id is journaled, then the material is made
 * in the HSM (a token object, or a wrapped key and nothing in the token),
 * then the key and version are written and the journal entry cleared in one
 * transaction. A crash anywhere leaves either a whole key or a journal entry
 * (with, on SoftHSM2 in token mode, perhaps a half-written object), and
 * {@linkcode recover} destroys both at a start or maintenance run once the
 * grace period is over: no half key is ever listed or used.
 */
export class KeyRing {
  readonly #store: MetadataStore & DomainKeyStore;
  readonly #material: KeyMaterial;
  readonly #now: () => number;
  readonly #maxEncryptionsPerVersion: number;
  readonly #cache = new Map<string, LiveKey>();
  readonly #beside: boolean;
  readonly #trust: CacheTrust | undefined;
  /** Alias targets seen, by `account/alias`; only names that exist. */
  readonly #aliases = new Map<string, string>();
  #aliasGeneration = 0;
  /** Bumped by every invalidation, so a read that overlaps one is not kept. */
  #keyGeneration = 0;
  /** Whether a sweep of leftovers has completed in this process. */
  #swept = false;

  /**
   * `beside`: another process owns the store. Keys are then read afresh on
   * every use (no cache can go stale) and never rotated here. `trust`: the
   * store is shared by a cluster, whose changes reach this ring through
   * {@linkcode invalidate}; the caches are used only while it says so.
   */
  constructor(
    store: MetadataStore & DomainKeyStore,
    material: KeyMaterial,
    now: () => number,
    maxEncryptionsPerVersion: number,
    beside = false,
    trust?: CacheTrust,
  ) {
    this.#store = store;
    this.#material = material;
    this.#now = now;
    this.#maxEncryptionsPerVersion = maxEncryptionsPerVersion;
    this.#beside = beside;
    this.#trust = trust;
  }

  /** The store, for account-level reads. */
  get store(): MetadataStore & DomainKeyStore {
    return this.#store;
  }

  /**
   * Finishes work a crash interrupted: destroys material journaled more than
   * {@linkcode JOURNAL_GRACE_MS} ago (younger entries may belong to a
   * creation under way in this or an administering process) and, at the
   * first run and after any crash, sweeps the leftovers no id names (see
   * {@linkcode KeyMaterial.sweep}). A journal entry is cleared only once its
   * material is confirmed gone and the sweep is done, so what a failed or
   * postponed run leaves is tried again at the next one.
   */
  async recover(): Promise<Recovery> {
    const graceStart = this.#now() - JOURNAL_GRACE_MS;
    const stale = (await this.#store.journal()).filter((entry) =>
      entry.since < graceStart
    );
    const recovery: Recovery = { recovered: 0, failures: [] };
    const destroyed: Uint8Array[] = [];
    // A journal entry naming a domain key the store still records is never
    // acted on: destroying it would lose every key wrapped under it.
    const recorded = new Set(
      (await this.#store.domainKeys()).map((key) => key.id.toHex()),
    );
    for (const { materialId } of stale) {
      if (recorded.has(materialId.toHex())) {
        await this.#store.clearMaterial(materialId);
        recovery.failures.push(
          `the journal named recorded domain key ${materialId.toHex()}: kept it, cleared the entry`,
        );
        continue;
      }
      try {
        this.#material.destroy(materialId);
        destroyed.push(materialId);
      } catch (error) {
        recovery.failures.push(
          `material ${materialId.toHex()}: ${(error as Error).message}`,
        );
      }
    }
    if (!this.#swept || stale.length > 0) {
      try {
        const { removed, complete } = await this.#material.sweep(
          async () =>
            (await this.#store.journal()).some((e) => e.since >= graceStart),
          graceStart,
        );
        recovery.recovered += removed;
        if (!complete) return recovery; // a creation is under way: next run
        this.#swept = true;
      } catch (error) {
        recovery.failures.push(`sweep: ${(error as Error).message}`);
        return recovery;
      }
    }
    for (const materialId of destroyed) {
      await this.#store.clearMaterial(materialId);
      recovery.recovered++;
    }
    return recovery;
  }

  /** A key by id (any account), or `undefined`. */
  async get(keyId: string): Promise<LiveKey | undefined> {
    const cached = this.cached(keyId);
    if (cached !== undefined) return cached;
    if (await this.#caughtUp(this.#cache.has(keyId))) {
      const caughtUp = this.cached(keyId);
      if (caughtUp !== undefined) return caughtUp;
    }
    return await this.#read(keyId);
  }

  /**
   * `key` read again from the store, in a cluster, where another node may
   * have changed it (e.g. added the version a ciphertext names); elsewhere
   * the cached copy is the latest.
   */
  async reread(key: LiveKey): Promise<LiveKey | undefined> {
    return this.#trust === undefined ? key : await this.#read(key.record.keyId);
  }

  /**
   * When trust lapsed (a late or failed read of the feed) and `worth` it (the
   * cache holds what is asked), one read of the feed, shared by every
   * caller, rather than one store read per request; whether it succeeded.
   */
  async #caughtUp(worth: boolean): Promise<boolean> {
    if (!worth || this.#trust === undefined || this.#trust.trusted()) {
      return false;
    }
    return await this.#trust.poll().then(() => true, () => false);
  }

  async #read(keyId: string): Promise<LiveKey | undefined> {
    const generation = this.#keyGeneration;
    const record = await this.#store.getKey(keyId);
    // Another caller may have loaded it while this one awaited the store.
    const known = this.#cache.get(keyId);
    if (record === undefined) {
      if (known !== undefined) {
        // Deleted by another process: its HSM objects here go too.
        this.#forget(known);
        for (const version of known.versions.values()) {
          version.handle = undefined;
          this.#material.release(version.record.materialId);
        }
      }
      return undefined;
    }
    let key: LiveKey;
    if (known === undefined) {
      key = live(record);
      this.#cache.set(keyId, key);
    } else if (this.#beside || this.#trust !== undefined) {
      // Beside the owner or in a cluster, the store has the latest.
      key = refreshed(known, record);
    } else {
      return known; // the owner's copy is the latest: changes go through it
    }
    // An invalidation while the store answered may postdate this record.
    if (generation === this.#keyGeneration) delete key.stale;
    else key.stale = true;
    return key;
  }

  /** A cached key, without touching the store. */
  cached(keyId: string): LiveKey | undefined {
    if (this.#beside) return undefined;
    const key = this.#cache.get(keyId);
    if (key === undefined || key.stale) return undefined;
    return this.#trust === undefined || this.#trust.trusted() ? key : undefined;
  }

  /** The key id an alias names, if it is cached. */
  cachedAliasTarget(accountId: string, aliasName: string): string | undefined {
    if (this.#beside || this.#trust?.trusted() === false) return undefined;
    return this.#aliases.get(`${accountId}/${aliasName}`);
  }

  /** Marks a cached key as changed elsewhere: the next use reads it again. */
  invalidate(keyId: string): void {
    this.#keyGeneration++;
    const key = this.#cache.get(keyId);
    if (key !== undefined) key.stale = true;
  }

  /** Marks every cached key and alias as possibly changed elsewhere. */
  invalidateAll(): void {
    this.#keyGeneration++;
    for (const key of this.#cache.values()) key.stale = true;
    this.forgetAliases();
  }

  /** The key id an alias of an account names, or `undefined`. */
  async aliasTarget(
    accountId: string,
    aliasName: string,
  ): Promise<string | undefined> {
    const name = `${accountId}/${aliasName}`;
    const cached = this.cachedAliasTarget(accountId, aliasName) ??
      (await this.#caughtUp(this.#aliases.has(name))
        ? this.cachedAliasTarget(accountId, aliasName)
        : undefined);
    if (cached !== undefined) return cached;
    const generation = this.#aliasGeneration;
    const alias = await this.#store.getAlias(accountId, aliasName);
    // Cache only if no alias changed while the store answered.
    if (
      alias !== undefined && generation === this.#aliasGeneration &&
      !this.#beside
    ) {
      this.#aliases.set(name, alias.keyId);
    }
    return alias?.keyId;
  }

  /** Forgets cached alias targets (after any alias change). */
  forgetAliases(): void {
    this.#aliases.clear();
    this.#aliasGeneration++;
  }

  /**
   * Deletes a key for good: metadata, aliases and, through the journal, the
   * HSM material of every version. Its ciphertexts can never be decrypted
   * again. Queued after the key's rotations; `precondition` runs first.
   */
  delete(key: LiveKey, precondition: () => void = () => {}): Promise<void> {
    return this.#exclusive(key, async () => {
      precondition();
      const keyId = key.record.keyId;
      let materials: Uint8Array[];
      try {
        materials = await this.#store.deleteKey(
          keyId,
          this.#now(),
          key.record.serial,
        );
      } catch (error) {
        // Changed by another node (its deletion cancelled?): take its state.
        if (error instanceof StaleRecordError) await this.#read(keyId);
        throw error;
      }
      this.#forget(key);
      for (const materialId of materials) await this.#discard(materialId);
    });
  }

  /**
   * Creates a key with new HSM material, within the account's quota.
   *
   * @throws {LimitExceededException} when the account holds `quota` keys.
   */
  async create(key: NewKey, quota: number): Promise<LiveKey> {
    if (await this.#store.countKeys(key.accountId) >= quota) {
      throw quotaError(quota);
    }
    const version = await this.#newMaterial(1, "CREATE", key);
    const record: KeyRecord = {
      ...key,
      state: "Enabled",
      createdAt: version.record.createdAt,
      deletionDate: null,
      pendingWindowDays: null,
      rotationPeriodDays: null,
      nextRotationAt: null,
      versions: [version.record],
    };
    try {
      const serial = await this.#store.insertKey(record, quota);
      if (serial !== undefined) record.serial = serial;
    } catch (error) {
      await this.#discardAfterFailure(version.record.materialId);
      throw error instanceof QuotaReachedError ? quotaError(quota) : error;
    }
    const created: LiveKey = {
      record,
      idBytes: keyIdToBytes(record.keyId),
      versions: new Map([[1, version]]),
      current: version,
    };
    this.#cache.set(key.keyId, created);
    return created;
  }

  /**
   * Changes a key's metadata durably; on failure the key is left as it was.
   * `precondition` runs right before the change, with nothing awaited in
   * between, so a check of the key's state cannot be overtaken by another
   * change.
   */
  async update(
    key: LiveKey,
    changes: Partial<KeyRecord>,
    precondition: () => void = () => {},
  ): Promise<void> {
    precondition();
    const previous = key.record;
    const next = { ...previous, ...changes };
    key.record = next;
    try {
      const serial = await this.#store.updateKey(next);
      if (serial !== undefined) next.serial = serial;
    } catch (error) {
      // Undo only our own change: a later one may already build on it.
      if (key.record === next) key.record = previous;
      // Changed by another node: take its state, so a retry builds on it.
      if (error instanceof StaleRecordError) await this.#read(key.record.keyId);
      throw error;
    }
  }

  /** Makes a new version of `key` that encrypts from now on. */
  rotate(
    key: LiveKey,
    origin: KeyVersionRecord["origin"],
    precondition: () => void = () => {},
  ): Promise<LiveVersion> {
    return this.#exclusive(key, () => {
      precondition();
      return this.#rotate(key, origin);
    });
  }

  async #rotate(
    key: LiveKey,
    origin: KeyVersionRecord["origin"],
  ): Promise<LiveVersion> {
    const version = await this.#newMaterial(
      key.current.record.version + 1,
      origin,
      key.record,
    );
    try {
      await this.#store.addVersion(
        key.record.keyId,
        version.record,
        key.record.serial,
      );
    } catch (error) {
      await this.#discardAfterFailure(version.record.materialId);
      if (error instanceof StaleRecordError) await this.#read(key.record.keyId);
      throw error;
    }
    key.record.versions.push(version.record);
    key.versions.set(version.record.version, version);
    key.current = version;
    return version;
  }

  /**
   * The version to encrypt with, counted against its budget. Usually
   * synchronous; once per {@linkcode RESERVATION_BLOCK} it first records a
   * new reservation, and at the version's limit it rotates.
   */
  encryptingVersion(key: LiveKey): LiveVersion | Promise<LiveVersion> {
    const version = key.current;
    if (version.used < version.record.encryptionsReserved) {
      version.used++;
      return version;
    }
    key.refill ??= this.#exclusive(key, () => this.#refill(key))
      .finally(() => key.refill = undefined);
    return key.refill.then(() => this.encryptingVersion(key));
  }

  /** The HSM handle of a version's material. */
  handle(key: LiveKey, version: LiveVersion): number {
    if (version.handle !== undefined) return version.handle;
    const handle = this.#material.locate(version.record, key.record);
    if (handle === undefined) {
      throw new KeyUnavailableException(
        `the HSM holds no material for version ${version.record.version} of key ${key.record.keyId}`,
      );
    }
    return version.handle = handle;
  }

  /**
   * Makes room for more encryptions: a new reservation block, or a new
   * version once this one is spent. The store adds the block to what it
   * holds, so processes sharing it never reserve the same range.
   */
  async #refill(key: LiveKey): Promise<void> {
    const version = key.current;
    if (key.deleted) {
      throw new NotFoundException(`key ${key.record.keyId} was deleted`);
    }
    if (version.used < version.record.encryptionsReserved) return; // done meanwhile
    const range = await this.#store.reserveEncryptions(
      key.record.keyId,
      version.record.version,
      RESERVATION_BLOCK,
      this.#maxEncryptionsPerVersion,
    );
    if (range === undefined) {
      if (this.#beside) return this.#awaitOwnerRotation(key);
      try {
        await this.#rotate(key, "AUTOMATIC");
      } catch (error) {
        // Another node rotated (or changed) the key first: `key` now holds
        // what the store has, and the caller tries its current version.
        if (!(error instanceof StaleRecordError)) throw error;
      }
      return;
    }
    version.used = range.from;
    version.record.encryptionsReserved = range.to;
  }

  /** Beside the owner: the owner rotates; use its new version if it has. */
  async #awaitOwnerRotation(key: LiveKey): Promise<void> {
    const spent = key.current;
    await this.get(key.record.keyId);
    if (key.current === spent) {
      throw new UnsupportedOperationException(
        `version ${spent.record.version} of key ${key.record.keyId} has used its encryption budget; the process that owns the data directory rotates it`,
      );
    }
  }

  /** Runs `work` after every earlier rotation or reservation of the key. */
  #exclusive<T>(key: LiveKey, work: () => Promise<T>): Promise<T> {
    const run = (key.lock ?? Promise.resolve()).then(work);
    key.lock = run.then(() => {}, () => {});
    return run;
  }

  async #newMaterial(
    version: number,
    origin: KeyVersionRecord["origin"],
    kind: MaterialKind,
  ): Promise<LiveVersion> {
    const materialId = crypto.getRandomValues(new Uint8Array(16));
    const createdAt = this.#now();
    await this.#store.journalMaterial(materialId, createdAt);
    let made: NewMaterial;
    try {
      made = await this.#material.generate(materialId, kind);
    } catch (error) {
      await this.#discardAfterFailure(materialId);
      throw error;
    }
    const { handle, wrapped, publicKey } = made;
    const record: KeyVersionRecord = {
      version,
      materialId,
      createdAt,
      encryptionsReserved: Math.min(
        RESERVATION_BLOCK,
        this.#maxEncryptionsPerVersion,
      ),
      origin,
    };
    if (wrapped !== undefined) record.wrapped = wrapped;
    if (publicKey !== undefined) record.publicKey = publicKey;
    return { record, handle, used: 0 };
  }

  #forget(key: LiveKey): void {
    key.deleted = true;
    this.#cache.delete(key.record.keyId);
    this.forgetAliases();
  }

  async #discard(materialId: Uint8Array): Promise<void> {
    this.#material.destroy(materialId);
    await this.#store.clearMaterial(materialId);
  }

  /**
   * Discards the material of a creation that failed, keeping the caller's
   * error the one reported: if discarding fails too, the journal entry
   * stays and recovery destroys the material later.
   */
  async #discardAfterFailure(materialId: Uint8Array): Promise<void> {
    try {
      await this.#discard(materialId);
    } catch {
      // journaled: recovery finishes it
    }
  }
}

function quotaError(quota: number): LimitExceededException {
  return new LimitExceededException(
    `the account has reached its quota of ${quota} keys, keys pending deletion included (they count until they are deleted); ` +
      "raise it with --key-quota (OKMS_KEY_QUOTA)",
  );
}
