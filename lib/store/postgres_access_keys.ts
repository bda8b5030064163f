/**
 * The server's access key table in PostgreSQL, beside the metadata store's
 * tables (same schema): what `server/access_key_store.ts` keeps in SQLite,
 * with the same method names, made asynchronous.
 * @module
 */
import { NotFoundException } from "../errors.ts";
import type { PgDatabase, PostgresOptions, Sql } from "./postgres_db.ts";
import { connectMigrated } from "./postgres_schema.ts";

/** An access key as listed: never its secret (as in `server/access_key_store.ts`). */
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
 * The access key table and the server's settings (`meta`), shared by every
 * node. Every insert and revocation also bumps one counter in the same
 * transaction: {@linkcode dataVersion} reads it, the cheap "has anything
 * changed" check SQLite's `PRAGMA data_version` gives the SQLite table.
 *
 * @example
 * ```ts
 * await using store = await PostgresAccessKeyStore.open("postgres://okms@127.0.0.1/okms");
 * console.log(await store.list());
 * ```
 */
export class PostgresAccessKeyStore implements AsyncDisposable {
  readonly #db: PgDatabase;
  readonly #s: string;

  private constructor(db: PgDatabase) {
    this.#db = db;
    this.#s = db.schema;
  }

  /**
   * Connects to the database at `url` (a small pool: 2 connections unless
   * `options` says otherwise) and makes okms's schema if need be.
   */
  static async open(
    url: string,
    options: PostgresOptions = {},
  ): Promise<PostgresAccessKeyStore> {
    return new PostgresAccessKeyStore(
      await connectMigrated(url, { maxConnections: 2, ...options }),
    );
  }

  /** A setting, if set. */
  async meta(name: string): Promise<string | undefined> {
    const [row] = await this.#db.query<{ value: string }>(
      `SELECT value FROM ${this.#s}.server_meta WHERE name = $1`,
      [name],
    );
    return row?.value;
  }

  /** Sets `name` unless it is set already (by any node); returns the value in force. */
  async initMeta(name: string, value: string): Promise<string> {
    await this.#db.query(
      `INSERT INTO ${this.#s}.server_meta (name, value) VALUES ($1, $2)
       ON CONFLICT (name) DO NOTHING`,
      [name, value],
    );
    return (await this.meta(name))!;
  }

  /** Stores a new access key. */
  insert(
    accessKeyId: string,
    accountId: string,
    sealedSecret: Uint8Array,
    createdAt: number,
  ): Promise<void> {
    return this.#db.transaction(async (sql) => {
      await sql.query(
        `INSERT INTO ${this.#s}.access_keys
           (access_key_id, account_id, sealed_secret, created_at)
         VALUES ($1, $2, $3, $4)`,
        [accessKeyId, accountId, sealedSecret, createdAt],
      );
      await this.#changed(sql);
    });
  }

  /**
   * A number that changes whenever any node commits a change to the table
   * (one indexed read of one row).
   */
  async dataVersion(): Promise<number> {
    const [row] = await this.#db.query<{ version: number }>(
      `SELECT version FROM ${this.#s}.access_key_changes WHERE only_row = 1`,
    );
    return row.version;
  }

  /** The access key, revoked or not, if it exists. */
  async get(accessKeyId: string): Promise<AccessKeyRow | undefined> {
    const [row] = await this.#db.query<Row>(
      `SELECT * FROM ${this.#s}.access_keys WHERE access_key_id = $1`,
      [accessKeyId],
    );
    return row === undefined ? undefined : fromRow(row);
  }

  /** Access keys, oldest first; of one account when `accountId` is given. */
  async list(accountId?: string): Promise<AccessKeyInfo[]> {
    const rows = accountId === undefined
      ? await this.#db.query<Row>(
        `SELECT * FROM ${this.#s}.access_keys
         ORDER BY created_at, access_key_id`,
      )
      : await this.#db.query<Row>(
        `SELECT * FROM ${this.#s}.access_keys WHERE account_id = $1
         ORDER BY created_at, access_key_id`,
        [accountId],
      );
    return rows.map((row) => info(fromRow(row)));
  }

  /**
   * Revokes an access key for good (revoking twice keeps the first date).
   *
   * @throws {NotFoundException} when there is no such key.
   */
  async revoke(accessKeyId: string, at: number): Promise<AccessKeyInfo> {
    const row = await this.#db.transaction(async (sql) => {
      const revoked = await sql.query(
        `UPDATE ${this.#s}.access_keys SET revoked_at = $1
         WHERE access_key_id = $2 AND revoked_at IS NULL RETURNING 1`,
        [at, accessKeyId],
      );
      if (revoked.length > 0) await this.#changed(sql);
      const [row] = await sql.query<Row>(
        `SELECT * FROM ${this.#s}.access_keys WHERE access_key_id = $1`,
        [accessKeyId],
      );
      return row;
    });
    if (row === undefined) {
      throw new NotFoundException(`access key ${accessKeyId} does not exist`);
    }
    return info(fromRow(row));
  }

  /** Closes the connections. Idempotent. */
  close(): Promise<void> {
    return this.#db.close();
  }

  /** As {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #changed(sql: Sql): Promise<void> {
    await sql.query(
      `UPDATE ${this.#s}.access_key_changes SET version = version + 1
       WHERE only_row = 1`,
    );
  }
}
