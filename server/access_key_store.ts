/**
 * The access key table: a SQLite database of its own under the data
 * directory, holding each key's account and its secret sealed under an HSM
 * key (never the secret itself). Opened by the server and by the admin CLI
 * at once: revoking a key takes effect on the running server's next request.
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { openSqliteFile } from "../lib/sqlite_file.ts";
import { NotFoundException } from "../mod.ts";

/** An access key as listed: never its secret. */
export interface AccessKeyInfo {
  accessKeyId: string;
  accountId: string;
  status: "Active" | "Revoked";
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds, when revoked. */
  revokedAt?: number;
}

/** A stored access key with its sealed secret. */
export interface AccessKeyRow extends AccessKeyInfo {
  sealedSecret: Uint8Array;
}

interface Row {
  access_key_id: string;
  account_id: string;
  sealed_secret: Uint8Array;
  created_at: number;
  revoked_at: number | null;
}

function fromRow(row: Row): AccessKeyRow {
  return {
    accessKeyId: row.access_key_id,
    accountId: row.account_id,
    status: row.revoked_at === null ? "Active" : "Revoked",
    createdAt: row.created_at,
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
    sealedSecret: row.sealed_secret,
  };
}

function info({ sealedSecret: _, ...rest }: AccessKeyRow): AccessKeyInfo {
  return rest;
}

/**
 * The access key table and a few settings (`meta`) of the server.
 *
 * @example
 * ```ts
 * using store = AccessKeyStore.open(".okms/access_keys.db");
 * console.log(store.list());
 * ```
 */
export class AccessKeyStore implements Disposable {
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
  meta(name: string): string | undefined {
    const row = this.#db.prepare("SELECT value FROM meta WHERE name = ?").get(
      name,
    ) as { value: string } | undefined;
    return row?.value;
  }

  /** Sets `name` unless it is set already; returns the value in force. */
  initMeta(name: string, value: string): string {
    this.#db.prepare("INSERT OR IGNORE INTO meta (name, value) VALUES (?, ?)")
      .run(name, value);
    return this.meta(name)!;
  }

  /** Stores a new access key. */
  insert(
    accessKeyId: string,
    accountId: string,
    sealedSecret: Uint8Array,
    createdAt: number,
  ): void {
    this.#db.prepare(
      "INSERT INTO access_keys (access_key_id, account_id, sealed_secret, created_at) VALUES (?, ?, ?, ?)",
    ).run(accessKeyId, accountId, sealedSecret, createdAt);
  }

  /** The access key, revoked or not, if it exists. */
  /**
   * A number that changes whenever another connection (another process: the
   * admin CLI) commits to the table; cheaper than reading a row.
   */
  dataVersion(): number {
    return Number(this.#dataVersion.get()?.data_version);
  }

  get(accessKeyId: string): AccessKeyRow | undefined {
    const row = this.#get.get(accessKeyId) as Row | undefined;
    return row === undefined ? undefined : fromRow(row);
  }

  /** Access keys, oldest first; of one account when `accountId` is given. */
  list(accountId?: string): AccessKeyInfo[] {
    const rows =
      (accountId === undefined
        ? this.#db.prepare("SELECT * FROM access_keys ORDER BY created_at")
          .all()
        : this.#db.prepare(
          "SELECT * FROM access_keys WHERE account_id = ? ORDER BY created_at",
        ).all(accountId)) as unknown as Row[];
    return rows.map((row) => info(fromRow(row)));
  }

  /**
   * Revokes an access key for good (revoking twice keeps the first date).
   *
   * @throws {NotFoundException} when there is no such key.
   */
  revoke(accessKeyId: string, at: number): AccessKeyInfo {
    this.#db.prepare(
      "UPDATE access_keys SET revoked_at = ? WHERE access_key_id = ? AND revoked_at IS NULL",
    ).run(at, accessKeyId);
    const row = this.get(accessKeyId);
    if (row === undefined) {
      throw new NotFoundException(`access key ${accessKeyId} does not exist`);
    }
    return info(row);
  }

  /** Closes the database. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  /** As {@linkcode close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
