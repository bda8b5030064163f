/**
 * The server's access key table in PostgreSQL, beside the metadata store's
 * tables (same schema), shared by every node of a cluster: the
 * {@linkcode AccessKeys} that `server/access_key_store.ts` keeps in SQLite
 * for one node.
 * @module
 */
import { DependencyTimeoutException, NotFoundException } from "../errors.ts";
import {
  type AccessKeyColumns,
  type AccessKeyInfo,
  type AccessKeyRow,
  type AccessKeys,
  fromColumns,
  listedColumns,
} from "./access_keys.ts";
import {
  type PgDatabase,
  type PostgresOptions,
  PostgresUnavailableError,
  type Sql,
  type SqlValue,
} from "./postgres_db.ts";
import { connectMigrated } from "./postgres_schema.ts";

/**
 * The pool's defaults: a signature check may wait on it, so it is small and
 * gives up within seconds (1 s to connect, 2 s per statement) when the
 * database is gone.
 */
const POOL_DEFAULTS: PostgresOptions = {
  maxConnections: 2,
  connectTimeoutMs: 1_000,
  statementTimeoutMs: 2_000,
};

/** `error` as a {@linkcode DependencyTimeoutException} when the database is unreachable. */
function dependency(error: unknown): unknown {
  if (!(error instanceof PostgresUnavailableError)) return error;
  const timeout = new DependencyTimeoutException(
    "the access key database is unreachable; retry later",
  );
  timeout.cause = error;
  return timeout;
}

/**
 * The access key table and the server's settings (`meta`), shared by every
 * node. Every insert and revocation also bumps one counter in the same
 * transaction: {@linkcode dataVersion} reads it, the cheap "has anything
 * changed" check SQLite's `PRAGMA data_version` gives the SQLite table.
 * While the database cannot be reached, every method rejects with a
 * `DependencyTimeoutException` (its `cause` says why); the next call once
 * it is back reconnects.
 *
 * @example
 * ```ts
 * await using store = await PostgresAccessKeyStore.open("postgres://okms@127.0.0.1/okms?schema=okms");
 * console.log(await store.list());
 * ```
 */
export class PostgresAccessKeyStore implements AccessKeys {
  readonly #db: PgDatabase;
  readonly #s: string;

  private constructor(db: PgDatabase) {
    this.#db = db;
    this.#s = db.schema;
  }

  /**
   * Connects to the database at `url` and makes okms's schema if need be:
   * the same URL and options as the metadata store's give the same schema.
   * The pool is 2 connections that give up within seconds unless `options`
   * says otherwise.
   */
  static async open(
    url: string,
    options: PostgresOptions = {},
  ): Promise<PostgresAccessKeyStore> {
    try {
      return new PostgresAccessKeyStore(
        await connectMigrated(url, { ...POOL_DEFAULTS, ...options }),
      );
    } catch (error) {
      throw dependency(error);
    }
  }

  /** A setting, if set. */
  async meta(name: string): Promise<string | undefined> {
    const [row] = await this.#query<{ value: string }>(
      `SELECT value FROM ${this.#s}.server_meta WHERE name = $1`,
      [name],
    );
    return row?.value;
  }

  /** Sets `name` unless it is set already (by any node); returns the value in force. */
  async initMeta(name: string, value: string): Promise<string> {
    await this.#query(
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
    return this.#transaction(async (sql) => {
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
    const [row] = await this.#query<{ version: number }>(
      `SELECT version FROM ${this.#s}.access_key_changes WHERE only_row = 1`,
    );
    return row.version;
  }

  /** The access key, revoked or not, if it exists. */
  async get(accessKeyId: string): Promise<AccessKeyRow | undefined> {
    const [row] = await this.#query<AccessKeyColumns>(
      `SELECT * FROM ${this.#s}.access_keys WHERE access_key_id = $1`,
      [accessKeyId],
    );
    return row === undefined ? undefined : fromColumns(row);
  }

  /** Access keys, oldest first; of one account when `accountId` is given. */
  async list(accountId?: string): Promise<AccessKeyInfo[]> {
    const rows = accountId === undefined
      ? await this.#query<AccessKeyColumns>(
        `SELECT * FROM ${this.#s}.access_keys
         ORDER BY created_at, access_key_id`,
      )
      : await this.#query<AccessKeyColumns>(
        `SELECT * FROM ${this.#s}.access_keys WHERE account_id = $1
         ORDER BY created_at, access_key_id`,
        [accountId],
      );
    return rows.map(listedColumns);
  }

  /**
   * Revokes an access key for good (revoking twice keeps the first date).
   *
   * @throws {NotFoundException} when there is no such key.
   */
  async revoke(accessKeyId: string, at: number): Promise<AccessKeyInfo> {
    const row = await this.#transaction(async (sql) => {
      const revoked = await sql.query(
        `UPDATE ${this.#s}.access_keys SET revoked_at = $1
         WHERE access_key_id = $2 AND revoked_at IS NULL RETURNING 1`,
        [at, accessKeyId],
      );
      if (revoked.length > 0) await this.#changed(sql);
      const [row] = await sql.query<AccessKeyColumns>(
        `SELECT * FROM ${this.#s}.access_keys WHERE access_key_id = $1`,
        [accessKeyId],
      );
      return row;
    });
    if (row === undefined) {
      throw new NotFoundException(`access key ${accessKeyId} does not exist`);
    }
    return listedColumns(row);
  }

  /** Closes the connections. Idempotent. */
  close(): Promise<void> {
    return this.#db.close();
  }

  /** As {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #query<T>(text: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.#db.query<T>(text, params).catch((error) => {
      throw dependency(error);
    });
  }

  #transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.#db.transaction(work).catch((error) => {
      throw dependency(error);
    });
  }

  async #changed(sql: Sql): Promise<void> {
    await sql.query(
      `UPDATE ${this.#s}.access_key_changes SET version = version + 1
       WHERE only_row = 1`,
    );
  }
}
