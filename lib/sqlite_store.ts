/**
 * The embedded metadata store: SQLite through `node:sqlite`.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import {
  type KeyCursor,
  type KeyRecord,
  type KeyVersionRecord,
  type MetadataStore,
  QuotaReachedError,
} from "./metadata_store.ts";

const SCHEMA_VERSION = 1;

const SCHEMA = `
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
  rotation_period_days INTEGER
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
}

interface VersionRow {
  version: number;
  material_id: Uint8Array;
  created_at: number;
  encryptions_reserved: number;
  origin: string;
}

/**
 * {@linkcode MetadataStore} in one SQLite file: WAL with synchronous commits
 * (a committed change survives a crash or power loss), and an exclusive lock
 * so that a second okms process cannot open the same data directory.
 *
 * @example
 * ```ts
 * const store = SqliteStore.open(".okms/okms.db");
 * console.log(await store.listAccounts());
 * store.close();
 * ```
 */
export class SqliteStore implements MetadataStore {
  readonly #db: DatabaseSync;

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Opens (creating if need be) the database at `path`. */
  static open(path: string): SqliteStore {
    const db = new DatabaseSync(path);
    try {
      db.exec("PRAGMA locking_mode = EXCLUSIVE");
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      db.exec("PRAGMA foreign_keys = ON");
      migrate(db);
    } catch (error) {
      db.close();
      if (/locked|busy/i.test((error as Error).message)) {
        throw new Error(
          `the okms database ${path} is in use by another process`,
        );
      }
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

  listAccounts(): Promise<string[]> {
    return this.#async(() =>
      this.#db.prepare(
        "SELECT id FROM accounts ORDER BY is_default DESC, created_at, id",
      ).all().map((row) => String(row.id))
    );
  }

  insertKey(record: KeyRecord, quota: number): Promise<void> {
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
             rotation_period_days)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        );
        for (const version of record.versions) {
          this.#insertVersion(record.keyId, version);
        }
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

  updateKey(record: KeyRecord): Promise<void> {
    return this.#async(() => {
      this.#db.prepare(
        `UPDATE keys SET description = ?, state = ?, deletion_date = ?,
           pending_window_days = ?, tags = ?, rotation_period_days = ?
         WHERE id = ?`,
      ).run(
        record.description,
        record.state,
        record.deletionDate,
        record.pendingWindowDays,
        JSON.stringify(record.tags),
        record.rotationPeriodDays,
        record.keyId,
      );
    });
  }

  addVersion(keyId: string, version: KeyVersionRecord): Promise<void> {
    return this.#async(() =>
      this.#transaction(() => this.#insertVersion(keyId, version))
    );
  }

  reserveEncryptions(
    keyId: string,
    version: number,
    reserved: number,
  ): Promise<void> {
    return this.#async(() => {
      this.#db.prepare(
        `UPDATE key_versions SET encryptions_reserved = ?
         WHERE key_id = ? AND version = ?`,
      ).run(reserved, keyId, version);
    });
  }

  journalMaterial(materialId: Uint8Array, at: number): Promise<void> {
    return this.#async(() => {
      this.#db.prepare(
        "INSERT OR IGNORE INTO material_journal (material_id, since) VALUES (?, ?)",
      ).run(materialId, at);
    });
  }

  journaledMaterial(): Promise<Uint8Array[]> {
    return this.#async(() =>
      this.#db.prepare("SELECT material_id FROM material_journal").all()
        .map((row) => row.material_id as Uint8Array)
    );
  }

  clearMaterial(materialId: Uint8Array): Promise<void> {
    return this.#async(() => {
      this.#db.prepare("DELETE FROM material_journal WHERE material_id = ?")
        .run(materialId);
    });
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
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
         encryptions_reserved, origin)
       VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(
      keyId,
      version.version,
      version.materialId,
      version.createdAt,
      version.encryptionsReserved,
      version.origin,
    );
    this.#db.prepare("DELETE FROM material_journal WHERE material_id = ?")
      .run(version.materialId);
  }

  #toRecord(row: KeyRow): KeyRecord {
    const versions = this.#db.prepare(
      "SELECT * FROM key_versions WHERE key_id = ? ORDER BY version",
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
      versions: versions.map((v) => ({
        version: v.version,
        materialId: v.material_id,
        createdAt: v.created_at,
        encryptionsReserved: v.encryptions_reserved,
        origin: v.origin as KeyVersionRecord["origin"],
      })),
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
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

function migrate(db: DatabaseSync): void {
  const row = db.prepare("PRAGMA user_version").get();
  const version = Number(row?.user_version ?? 0);
  if (version === SCHEMA_VERSION) return;
  if (version !== 0) {
    throw new Error(
      `the okms database has schema version ${version}; this okms knows ${SCHEMA_VERSION}`,
    );
  }
  db.exec("BEGIN IMMEDIATE");
  db.exec(SCHEMA);
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  db.exec("COMMIT");
}
