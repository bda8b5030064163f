/**
 * The embedded metadata store: SQLite through `node:sqlite`.
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { openSqliteFile } from "./sqlite_file.ts";
import { KMSInternalException, NotFoundException } from "./errors.ts";
import {
  type AliasRecord,
  type DomainKeyRecord,
  type DomainKeyStore,
  type JournalEntry,
  type KeyCursor,
  keyKind,
  type KeyRecord,
  type KeyVersionRecord,
  type MetadataStore,
  NameTakenError,
  QuotaReachedError,
  type TokenBinding,
  type VersionRef,
  type WrappedMaterial,
} from "./metadata_store.ts";

const SCHEMA_VERSION = 4;

/**
 * Version 4: asymmetric and HMAC keys, with their spec and usage (absent
 * for symmetric keys) and each version's public key.
 */
const KEY_SPECS = `
ALTER TABLE keys ADD COLUMN key_spec TEXT;
ALTER TABLE keys ADD COLUMN key_usage TEXT;
ALTER TABLE key_versions ADD COLUMN public_key BLOB;
`;

/**
 * Version 3: the key material mode, the domain keys, and each wrapped
 * version's material (deleted with its version).
 */
const WRAPPED_MATERIAL = `
ALTER TABLE token_binding ADD COLUMN key_material TEXT NOT NULL DEFAULT 'token';
CREATE TABLE domain_keys (
  id BLOB PRIMARY KEY,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE wrapped_material (
  material_id BLOB PRIMARY KEY
    REFERENCES key_versions(material_id) ON DELETE CASCADE,
  domain_key_id BLOB NOT NULL REFERENCES domain_keys(id),
  algorithm TEXT NOT NULL,
  blob BLOB NOT NULL
) STRICT;
CREATE INDEX wrapped_by_domain_key ON wrapped_material(domain_key_id);
`;

/** Version 2: the token the keys are in (one row). */
const TOKEN_BINDING = `
CREATE TABLE token_binding (
  only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
  embedded INTEGER NOT NULL,
  module_path TEXT NOT NULL,
  label TEXT NOT NULL,
  serial_number TEXT NOT NULL
) STRICT;
`;

const SCHEMA_V1 = `
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  is_default INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE keys (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  description TEXT NOT NULL,
  state TEXT NOT NULL,
  is_default INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  deletion_date INTEGER,
  pending_window_days INTEGER,
  tags TEXT NOT NULL,
  rotation_period_days INTEGER,
  next_rotation_at INTEGER
) STRICT;
CREATE INDEX keys_by_account ON keys(account_id, created_at, id);
CREATE UNIQUE INDEX one_default_key ON keys(account_id) WHERE is_default = 1;
CREATE TABLE key_versions (
  key_id TEXT NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  material_id BLOB NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  encryptions_reserved INTEGER NOT NULL,
  origin TEXT NOT NULL,
  PRIMARY KEY (key_id, version)
) STRICT;
CREATE TABLE aliases (
  account_id TEXT NOT NULL REFERENCES accounts(id),
  name TEXT NOT NULL,
  key_id TEXT NOT NULL REFERENCES keys(id),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, name)
) STRICT;
CREATE INDEX aliases_by_key ON aliases(key_id);
CREATE TABLE material_journal (
  material_id BLOB PRIMARY KEY,
  since INTEGER NOT NULL
) STRICT;
`;

interface KeyRow {
  id: string;
  account_id: string;
  description: string;
  state: string;
  is_default: number;
  created_at: number;
  deletion_date: number | null;
  pending_window_days: number | null;
  tags: string;
  rotation_period_days: number | null;
  next_rotation_at: number | null;
  key_spec: string | null;
  key_usage: string | null;
}

interface AliasRow {
  account_id: string;
  name: string;
  key_id: string;
  created_at: number;
  updated_at: number;
}

interface VersionRow {
  version: number;
  material_id: Uint8Array;
  created_at: number;
  encryptions_reserved: number;
  origin: string;
  domain_key_id: Uint8Array | null;
  algorithm: string | null;
  blob: Uint8Array | null;
  public_key: Uint8Array | null;
}

/**
 * {@linkcode MetadataStore} in one SQLite file: WAL with synchronous commits
 * (a committed change survives a crash or power loss). Other processes may
 * read and write it too (administration beside a running server); each
 * transaction is atomic, and writers wait up to 1 s for each other.
 * Deleted rows are overwritten (`secure_delete`), so a deleted version's
 * wrapped material does not linger in the file.
 *
 * @example
 * ```ts
 * const store = SqliteStore.open(".okms/okms.db");
 * console.log(await store.listAccounts());
 * store.close();
 * ```
 */
export class SqliteStore implements MetadataStore, DomainKeyStore {
  readonly #db: DatabaseSync;

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Opens (creating if need be) the database at `path`. */
  static open(path: string): SqliteStore {
    const db = openSqliteFile(path);
    try {
      db.exec("PRAGMA secure_delete = ON");
      migrate(db);
    } catch (error) {
      db.close();
      throw error;
    }
    return new SqliteStore(db);
  }

  createAccount(accountId: string, createdAt: number): Promise<void> {
    return this.#async(() => {
      this.#db.prepare(
        `INSERT INTO accounts (id, is_default, created_at)
         VALUES (?, NOT EXISTS (SELECT 1 FROM accounts), ?)`,
      ).run(accountId, createdAt);
    });
  }

  hasAccount(accountId: string): Promise<boolean> {
    return this.#async(() =>
      this.#db.prepare("SELECT 1 FROM accounts WHERE id = ?").get(accountId) !==
        undefined
    );
  }

  ping(): Promise<void> {
    return this.#async(() => {
      this.#db.prepare("SELECT 1 FROM accounts LIMIT 1").get();
    });
  }

  listAccounts(): Promise<string[]> {
    return this.#async(() =>
      this.#db.prepare(
        "SELECT id FROM accounts ORDER BY is_default DESC, created_at, id",
      ).all().map((row) => String(row.id))
    );
  }

  insertKey(record: KeyRecord, quota: number): Promise<undefined> {
    return this.#async(() =>
      this.#transaction(() => {
        if (this.#count(record.accountId) >= quota) {
          throw new QuotaReachedError(
            `account ${record.accountId} holds ${quota} keys already`,
          );
        }
        this.#db.prepare(
          `INSERT INTO keys (id, account_id, description, state, is_default,
             created_at, deletion_date, pending_window_days, tags,
             rotation_period_days, next_rotation_at, key_spec, key_usage)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          record.keyId,
          record.accountId,
          record.description,
          record.state,
          record.isDefault ? 1 : 0,
          record.createdAt,
          record.deletionDate,
          record.pendingWindowDays,
          JSON.stringify(record.tags),
          record.rotationPeriodDays,
          record.nextRotationAt,
          record.keySpec ?? null,
          record.keyUsage ?? null,
        );
        for (const version of record.versions) {
          this.#insertVersion(record.keyId, version);
        }
        return undefined; // one node: no serials
      })
    );
  }

  getKey(keyId: string): Promise<KeyRecord | undefined> {
    return this.#async(() => {
      const row = this.#db.prepare("SELECT * FROM keys WHERE id = ?").get(
        keyId,
      );
      return row && this.#toRecord(row as unknown as KeyRow);
    });
  }

  getDefaultKey(accountId: string): Promise<KeyRecord | undefined> {
    return this.#async(() => {
      const row = this.#db.prepare(
        "SELECT * FROM keys WHERE account_id = ? AND is_default = 1",
      ).get(accountId);
      return row && this.#toRecord(row as unknown as KeyRow);
    });
  }

  countKeys(accountId: string): Promise<number> {
    return this.#async(() => this.#count(accountId));
  }

  listKeys(
    accountId: string,
    cursor: KeyCursor | undefined,
    limit: number,
  ): Promise<KeyRecord[]> {
    return this.#async(() => {
      const after = cursor ?? { createdAt: -1, keyId: "" };
      const rows = this.#db.prepare(
        `SELECT * FROM keys WHERE account_id = ? AND (created_at, id) > (?, ?)
         ORDER BY created_at, id LIMIT ?`,
      ).all(accountId, after.createdAt, after.keyId, limit);
      return rows.map((row) => this.#toRecord(row as unknown as KeyRow));
    });
  }

  updateKey(record: KeyRecord): Promise<undefined> {
    return this.#async(() => {
      const result = this.#db.prepare(
        `UPDATE keys SET description = ?, state = ?, deletion_date = ?,
           pending_window_days = ?, tags = ?, rotation_period_days = ?,
           next_rotation_at = ?
         WHERE id = ?`,
      ).run(
        record.description,
        record.state,
        record.deletionDate,
        record.pendingWindowDays,
        JSON.stringify(record.tags),
        record.rotationPeriodDays,
        record.nextRotationAt,
        record.keyId,
      );
      if (Number(result.changes) === 0) {
        throw new NotFoundException(`key ${record.keyId} no longer exists`);
      }
      return undefined;
    });
  }

  addVersion(keyId: string, version: KeyVersionRecord): Promise<void> {
    return this.#async(() =>
      this.#transaction(() => this.#insertVersion(keyId, version))
    );
  }

  deleteKey(keyId: string, at: number): Promise<Uint8Array[]> {
    return this.#async(() =>
      this.#transaction(() => {
        const materials = this.#db.prepare(
          "SELECT material_id FROM key_versions WHERE key_id = ?",
        ).all(keyId).map((row) => row.material_id as Uint8Array);
        for (const materialId of materials) this.#journal(materialId, at);
        this.#db.prepare("DELETE FROM aliases WHERE key_id = ?").run(keyId);
        this.#db.prepare("DELETE FROM keys WHERE id = ?").run(keyId);
        return materials;
      })
    );
  }

  dueKeys(now: number): Promise<string[]> {
    return this.#async(() =>
      this.#db.prepare(
        `SELECT id FROM keys
         WHERE (state = 'PendingDeletion' AND deletion_date <= ?)
            OR (state = 'Enabled' AND rotation_period_days IS NOT NULL
                AND next_rotation_at <= ?)
         ORDER BY id`,
      ).all(now, now).map((row) => String(row.id))
    );
  }

  createAlias(alias: AliasRecord, maxPerKey: number): Promise<void> {
    return this.#async(() =>
      this.#transaction(() => {
        if (this.#alias(alias.accountId, alias.aliasName)) {
          throw new NameTakenError(`${alias.aliasName} exists already`);
        }
        this.#checkAliasQuota(alias, maxPerKey);
        this.#db.prepare(
          `INSERT INTO aliases (account_id, name, key_id, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?)`,
        ).run(
          alias.accountId,
          alias.aliasName,
          alias.keyId,
          alias.createdAt,
          alias.updatedAt,
        );
      })
    );
  }

  updateAlias(alias: AliasRecord, maxPerKey: number): Promise<void> {
    return this.#async(() =>
      this.#transaction(() => {
        this.#checkAliasQuota(alias, maxPerKey);
        this.#db.prepare(
          `UPDATE aliases SET key_id = ?, updated_at = ?
           WHERE account_id = ? AND name = ?`,
        ).run(alias.keyId, alias.updatedAt, alias.accountId, alias.aliasName);
      })
    );
  }

  deleteAlias(accountId: string, aliasName: string): Promise<boolean> {
    return this.#async(() =>
      Number(
        this.#db.prepare(
          "DELETE FROM aliases WHERE account_id = ? AND name = ?",
        ).run(accountId, aliasName).changes,
      ) > 0
    );
  }

  getAlias(
    accountId: string,
    aliasName: string,
  ): Promise<AliasRecord | undefined> {
    return this.#async(() => this.#alias(accountId, aliasName));
  }

  listAliases(
    accountId: string,
    keyId: string | undefined,
    afterName: string,
    limit: number,
  ): Promise<AliasRecord[]> {
    return this.#async(() =>
      this.#db.prepare(
        `SELECT * FROM aliases
         WHERE account_id = ? AND (? IS NULL OR key_id = ?) AND name > ?
         ORDER BY name LIMIT ?`,
      ).all(accountId, keyId ?? null, keyId ?? null, afterName, limit)
        .map((row) => toAlias(row as unknown as AliasRow))
    );
  }

  reserveEncryptions(
    keyId: string,
    version: number,
    block: number,
    max: number,
  ): Promise<{ from: number; to: number } | undefined> {
    return this.#async(() =>
      this.#transaction(() => {
        const row = this.#db.prepare(
          `SELECT encryptions_reserved AS n FROM key_versions
           WHERE key_id = ? AND version = ?`,
        ).get(keyId, version);
        if (row === undefined) {
          throw new NotFoundException(
            `key ${keyId} version ${version} no longer exists`,
          );
        }
        const from = Number(row.n);
        if (from >= max) return undefined;
        const to = Math.min(from + block, max);
        this.#db.prepare(
          `UPDATE key_versions SET encryptions_reserved = ?
           WHERE key_id = ? AND version = ?`,
        ).run(to, keyId, version);
        return { from, to };
      })
    );
  }

  journalMaterial(materialId: Uint8Array, at: number): Promise<void> {
    return this.#async(() => this.#journal(materialId, at));
  }

  journal(): Promise<JournalEntry[]> {
    return this.#async(() =>
      this.#db.prepare("SELECT material_id, since FROM material_journal")
        .all().map((row) => ({
          materialId: row.material_id as Uint8Array,
          since: Number(row.since),
        }))
    );
  }

  clearMaterial(materialId: Uint8Array): Promise<void> {
    return this.#async(() => this.#unjournal(materialId));
  }

  tokenBinding(): Promise<TokenBinding | undefined> {
    return this.#async(() => {
      const row = this.#db.prepare("SELECT * FROM token_binding").get();
      return row && {
        embedded: row.embedded === 1,
        modulePath: String(row.module_path),
        label: String(row.label),
        serialNumber: String(row.serial_number),
        keyMaterial: row.key_material as TokenBinding["keyMaterial"],
      };
    });
  }

  async bindToken(binding: TokenBinding): Promise<TokenBinding> {
    await this.#async(() => {
      this.#db.prepare(
        `INSERT OR IGNORE INTO token_binding
           (only_row, embedded, module_path, label, serial_number, key_material)
         VALUES (1, ?, ?, ?, ?, ?)`,
      ).run(
        binding.embedded ? 1 : 0,
        binding.modulePath,
        binding.label,
        binding.serialNumber,
        binding.keyMaterial ?? "token",
      );
    });
    return (await this.tokenBinding())!;
  }

  domainKeys(): Promise<DomainKeyRecord[]> {
    return this.#async(() =>
      this.#db.prepare(
        // Insertion order, not the clock: a clock stepping back must not make
        // the newest domain key look older.
        "SELECT id, created_at FROM domain_keys ORDER BY rowid",
      ).all().map((row) => ({
        id: row.id as Uint8Array,
        createdAt: Number(row.created_at),
      }))
    );
  }

  addDomainKey(record: DomainKeyRecord): Promise<void> {
    return this.#async(() =>
      this.#transaction(() => {
        this.#db.prepare(
          "INSERT INTO domain_keys (id, created_at) VALUES (?, ?)",
        ).run(record.id, record.createdAt);
        this.#unjournal(record.id);
      })
    );
  }

  wrappedOutside(
    domainKeyId: Uint8Array,
    after: VersionRef | undefined,
    limit: number,
  ): Promise<VersionRef[]> {
    return this.#async(() =>
      this.#db.prepare(
        `SELECT v.key_id, v.version
         FROM wrapped_material w JOIN key_versions v USING (material_id)
         WHERE w.domain_key_id != ? AND (v.key_id, v.version) > (?, ?)
         ORDER BY v.key_id, v.version LIMIT ?`,
      ).all(domainKeyId, after?.keyId ?? "", after?.version ?? 0, limit)
        .map((row) => ({
          keyId: String(row.key_id),
          version: Number(row.version),
        }))
    );
  }

  rewrapVersion(
    ref: VersionRef,
    from: Uint8Array,
    wrapped: WrappedMaterial,
  ): Promise<boolean> {
    return this.#async(() =>
      Number(
        this.#db.prepare(
          `UPDATE wrapped_material SET domain_key_id = ?, algorithm = ?, blob = ?
           WHERE domain_key_id = ? AND material_id =
             (SELECT material_id FROM key_versions WHERE key_id = ? AND version = ?)`,
        ).run(
          wrapped.domainKeyId,
          wrapped.algorithm,
          wrapped.blob,
          from,
          ref.keyId,
          ref.version,
        ).changes,
      ) > 0
    );
  }

  retireDomainKey(id: Uint8Array, at: number): Promise<boolean> {
    return this.#async(() =>
      this.#transaction(() => {
        const used = this.#db.prepare(
          "SELECT 1 FROM wrapped_material WHERE domain_key_id = ? LIMIT 1",
        ).get(id);
        if (used !== undefined) return false;
        const removed = this.#db.prepare("DELETE FROM domain_keys WHERE id = ?")
          .run(id).changes;
        if (Number(removed) === 0) return false;
        this.#journal(id, at);
        return true;
      })
    );
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #journal(materialId: Uint8Array, at: number): void {
    this.#db.prepare(
      "INSERT OR IGNORE INTO material_journal (material_id, since) VALUES (?, ?)",
    ).run(materialId, at);
  }

  #alias(accountId: string, aliasName: string): AliasRecord | undefined {
    const row = this.#db.prepare(
      "SELECT * FROM aliases WHERE account_id = ? AND name = ?",
    ).get(accountId, aliasName);
    return row && toAlias(row as unknown as AliasRow);
  }

  /** Counts the key's other aliases: re-pointing one at its key is no growth. */
  #checkAliasQuota(alias: AliasRecord, maxPerKey: number): void {
    const row = this.#db.prepare(
      `SELECT count(*) AS n FROM aliases
       WHERE key_id = ? AND NOT (account_id = ? AND name = ?)`,
    ).get(alias.keyId, alias.accountId, alias.aliasName);
    if (Number(row?.n ?? 0) >= maxPerKey) {
      throw new QuotaReachedError(`the key has ${maxPerKey} aliases already`);
    }
  }

  #count(accountId: string): number {
    const row = this.#db.prepare(
      "SELECT count(*) AS n FROM keys WHERE account_id = ?",
    ).get(accountId);
    return Number(row?.n ?? 0);
  }

  #insertVersion(keyId: string, version: KeyVersionRecord): void {
    this.#db.prepare(
      `INSERT INTO key_versions (key_id, version, material_id, created_at,
         encryptions_reserved, origin, public_key)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      keyId,
      version.version,
      version.materialId,
      version.createdAt,
      version.encryptionsReserved,
      version.origin,
      version.publicKey ?? null,
    );
    if (version.wrapped !== undefined) {
      const { domainKeyId, algorithm, blob } = version.wrapped;
      this.#db.prepare(
        `INSERT INTO wrapped_material (material_id, domain_key_id, algorithm, blob)
         VALUES (?, ?, ?, ?)`,
      ).run(version.materialId, domainKeyId, algorithm, blob);
    }
    this.#unjournal(version.materialId);
  }

  #unjournal(materialId: Uint8Array): void {
    this.#db.prepare("DELETE FROM material_journal WHERE material_id = ?")
      .run(materialId);
  }

  #toRecord(row: KeyRow): KeyRecord {
    const versions = this.#db.prepare(
      `SELECT * FROM key_versions LEFT JOIN wrapped_material USING (material_id)
       WHERE key_id = ? ORDER BY version`,
    ).all(row.id) as unknown as VersionRow[];
    return {
      keyId: row.id,
      accountId: row.account_id,
      description: row.description,
      state: row.state as KeyRecord["state"],
      isDefault: row.is_default === 1,
      createdAt: row.created_at,
      deletionDate: row.deletion_date,
      pendingWindowDays: row.pending_window_days,
      tags: JSON.parse(row.tags),
      rotationPeriodDays: row.rotation_period_days,
      nextRotationAt: row.next_rotation_at,
      versions: versions.map(toVersion),
      ...keyKind(row.key_spec, row.key_usage),
    };
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** Runs synchronous SQLite work behind the interface's promise. */
  #async<T>(work: () => T): Promise<T> {
    if (!this.#db.isOpen) {
      return Promise.reject(new KMSInternalException("okms is closed"));
    }
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

function toVersion(row: VersionRow): KeyVersionRecord {
  const version: KeyVersionRecord = {
    version: row.version,
    materialId: row.material_id,
    createdAt: row.created_at,
    encryptionsReserved: row.encryptions_reserved,
    origin: row.origin as KeyVersionRecord["origin"],
  };
  if (row.blob !== null) {
    version.wrapped = {
      domainKeyId: row.domain_key_id!,
      algorithm: row.algorithm as WrappedMaterial["algorithm"],
      blob: row.blob,
    };
  }
  if (row.public_key !== null) version.publicKey = row.public_key;
  return version;
}

function toAlias(row: AliasRow): AliasRecord {
  return {
    accountId: row.account_id,
    aliasName: row.name,
    keyId: row.key_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** What each schema version adds to the one before (index 0: version 1). */
const MIGRATIONS = [SCHEMA_V1, TOKEN_BINDING, WRAPPED_MATERIAL, KEY_SPECS];

function schemaVersion(db: DatabaseSync): number {
  return Number(db.prepare("PRAGMA user_version").get()?.user_version ?? 0);
}

function migrate(db: DatabaseSync): void {
  if (schemaVersion(db) === SCHEMA_VERSION) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    const version = schemaVersion(db); // another process may have migrated
    if (version > SCHEMA_VERSION) {
      throw new Error(
        `the okms database has schema version ${version}; this okms knows up to ${SCHEMA_VERSION}: use a newer okms`,
      );
    }
    for (const step of MIGRATIONS.slice(version)) db.exec(step);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
