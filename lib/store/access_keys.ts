/**
 * The server's access key table, as one asynchronous interface with two
 * implementations: SQLite for one node (`server/access_key_store.ts`) and
 * PostgreSQL shared by a cluster (`postgres_access_keys.ts`). Both keep the
 * same columns, so the row mapping is here too.
 * @module
 */

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

/**
 * The access key table and a few settings of the server (`meta`).
 *
 * A store that cannot reach its database rejects with a
 * `DependencyTimeoutException`, which the caller may retry.
 *
 * @example
 * ```ts
 * async function active(keys: AccessKeys, accountId: string) {
 *   return (await keys.list(accountId)).filter((k) => k.status === "Active");
 * }
 * ```
 */
export interface AccessKeys extends AsyncDisposable {
  /** A setting, if set. */
  meta(name: string): Promise<string | undefined>;
  /** Sets `name` unless it is set already (by anyone); the value in force. */
  initMeta(name: string, value: string): Promise<string>;
  /** Stores a new access key (an id taken already is refused). */
  insert(
    accessKeyId: string,
    accountId: string,
    sealedSecret: Uint8Array,
    createdAt: number,
  ): Promise<void>;
  /**
   * A number that changes whenever a key is added or revoked by another
   * process (and, with PostgreSQL, by this one); cheaper than reading a row.
   */
  dataVersion(): Promise<number>;
  /** The access key, revoked or not, if it exists. */
  get(accessKeyId: string): Promise<AccessKeyRow | undefined>;
  /** Access keys, oldest first; of one account when `accountId` is given. */
  list(accountId?: string): Promise<AccessKeyInfo[]>;
  /**
   * Revokes an access key for good (revoking twice keeps the first date).
   *
   * @throws {NotFoundException} when there is no such key.
   */
  revoke(accessKeyId: string, at: number): Promise<AccessKeyInfo>;
  /** Closes the table. Idempotent. */
  close(): Promise<void>;
}

/** A row of the `access_keys` table, as both databases return it. */
export interface AccessKeyColumns {
  access_key_id: string;
  account_id: string;
  sealed_secret: Uint8Array;
  created_at: number;
  revoked_at: number | null;
}

/**
 * A table row as an {@linkcode AccessKeyRow}.
 *
 * @example
 * ```ts
 * fromColumns({ access_key_id: "AKIA1", account_id: "111111111111", sealed_secret: new Uint8Array(), created_at: 1, revoked_at: null }).status; // "Active"
 * ```
 */
export function fromColumns(row: AccessKeyColumns): AccessKeyRow {
  return {
    accessKeyId: row.access_key_id,
    accountId: row.account_id,
    status: row.revoked_at === null ? "Active" : "Revoked",
    createdAt: row.created_at,
    ...(row.revoked_at === null ? {} : { revokedAt: row.revoked_at }),
    sealedSecret: row.sealed_secret,
  };
}

/**
 * A table row as listed: without its sealed secret.
 *
 * @example
 * ```ts
 * const rows: AccessKeyColumns[] = [];
 * const listed = rows.map(listedColumns);
 * ```
 */
export function listedColumns(row: AccessKeyColumns): AccessKeyInfo {
  const { sealedSecret: _, ...info } = fromColumns(row);
  return info;
}
