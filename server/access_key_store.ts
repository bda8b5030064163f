/**
 * The access key table of one node: a SQLite database of its own under the
 * data directory, holding each key's account and its secret sealed under an
 * HSM key (never the secret itself). Opened by the server and by the admin
 * CLI at once: revoking a key takes effect on the running server within
 * `REVALIDATE_MS`. A cluster keeps the same table in PostgreSQL
 * (`PostgresAccessKeyStore`), behind the same {@linkcode AccessKeys}.
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { openSqliteFile } from "../lib/sqlite_file.ts";
import {
  type AccessKeyColumns,
  type AccessKeyInfo,
  type AccessKeyRow,
  type AccessKeys,
  fromColumns,
  listedColumns,
} from "../lib/store/access_keys.ts";
import { NotFoundException } from "../mod.ts";

/**
 * The access key table and a few settings (`meta`) of the server, in
 * SQLite. The work is synchronous; the methods answer with promises to
 * implement {@linkcode AccessKeys}.
 *
 * @example
 * ```ts
 * await using store = AccessKeyStore.open(".okms/access_keys.db");
 * console.log(await store.list());
 * ```
 */
export class AccessKeyStore implements AccessKeys {
  readonly #db: DatabaseSync;
  readonly #get: StatementSync;
  readonly #dataVersion: StatementSync;

  private constructor(db: DatabaseSync) {
    this.#db = db;
    this.#dataVersion = db.prepare("PRAGMA data_version");
    this.#get = db.prepare(
      "SELECT * FROM access_keys WHERE access_key_id = ?",
    );
  }

  /** Opens (creating if need be) the database at `path`. */
  static open(path: string): AccessKeyStore {
    const db = openSqliteFile(path);
    try {
      db.exec(`
        CREATE TABLE IF NOT EXISTS meta (
          name TEXT PRIMARY KEY,
          value TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS access_keys (
          access_key_id TEXT PRIMARY KEY,
          account_id TEXT NOT NULL,
          sealed_secret BLOB NOT NULL,
          created_at INTEGER NOT NULL,
          revoked_at INTEGER
        );
        CREATE INDEX IF NOT EXISTS access_keys_by_account
          ON access_keys (account_id);
      `);
      return new AccessKeyStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** A setting, if set. */
  meta(name: string): Promise<string | undefined> {
    return Promise.try(() => this.#meta(name));
  }

  /** Sets `name` unless it is set already; returns the value in force. */
  initMeta(name: string, value: string): Promise<string> {
    return Promise.try(() => {
      this.#db.prepare("INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)")
        .run(name, value);
      return this.#meta(name)!;
    });
  }

  /** Stores a new access key. */
  insert(
    accessKeyId: string,
    accountId: string,
    sealedSecret: Uint8Array,
    createdAt: number,
  ): Promise<void> {
    return Promise.try(() => {
      this.#db.prepare(
        "INSERT INTO access_keys (access_key_id, account_id, sealed_secret, created_at) VALUES (?, ?, ?, ?)",
      ).run(accessKeyId, accountId, sealedSecret, createdAt);
    });
  }

  /**
   * A number that changes whenever another connection (another process: the
   * admin CLI) commits to the table; cheaper than reading a row.
   */
  dataVersion(): Promise<number> {
    return Promise.try(() => Number(this.#dataVersion.get()?.data_version));
  }

  /** The access key, revoked or not, if it exists. */
  get(accessKeyId: string): Promise<AccessKeyRow | undefined> {
    return Promise.try(() => {
      const row = this.#get.get(accessKeyId) as AccessKeyColumns | undefined;
      return row === undefined ? undefined : fromColumns(row);
    });
  }

  /** Access keys, oldest first; of one account when `accountId` is given. */
  list(accountId?: string): Promise<AccessKeyInfo[]> {
    return Promise.try(() => {
      const rows = accountId === undefined
        ? this.#db.prepare("SELECT * FROM access_keys ORDER BY created_at")
          .all()
        : this.#db.prepare(
          "SELECT * FROM access_keys WHERE account_id = ? ORDER BY created_at",
        ).all(accountId);
      return (rows as unknown as AccessKeyColumns[]).map(listedColumns);
    });
  }

  /**
   * Revokes an access key for good (revoking twice keeps the first date).
   *
   * @throws {NotFoundException} when there is no such key.
   */
  revoke(accessKeyId: string, at: number): Promise<AccessKeyInfo> {
    return Promise.try(() => {
      this.#db.prepare(
        "UPDATE access_keys SET revoked_at = ? WHERE access_key_id = ? AND revoked_at IS NULL",
      ).run(at, accessKeyId);
      const row = this.#get.get(accessKeyId) as AccessKeyColumns | undefined;
      if (row === undefined) {
        throw new NotFoundException(`access key ${accessKeyId} does not exist`);
      }
      return listedColumns(row);
    });
  }

  /** Closes the database. Idempotent. */
  close(): Promise<void> {
    return Promise.try(() => {
      if (this.#db.isOpen) this.#db.close();
    });
  }

  /** As {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #meta(name: string): string | undefined {
    const row = this.#db.prepare("SELECT value FROM meta WHERE name = ?").get(
      name,
    ) as { value: string } | undefined;
    return row?.value;
  }
}
