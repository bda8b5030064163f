/**
 * The shared metadata store: PostgreSQL, for several okms nodes on one
 * database (`--database-url postgres://…`).
 * @module
 */
import { AlreadyExistsException, NotFoundException } from "../errors.ts";
import {
  type AliasRecord,
  type Change,
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
  type SharedStore,
  StaleRecordError,
  type TokenBinding,
  type VersionRef,
  type WrappedMaterial,
} from "../metadata_store.ts";
import {
  type PgDatabase,
  type PostgresOptions,
  type Sql,
  sqlState,
  violatedConstraint,
} from "./postgres_db.ts";
import { connectMigrated } from "./postgres_schema.ts";

export {
  type PostgresOptions,
  PostgresUnavailableError,
} from "./postgres_db.ts";

/** A key joined with one of its versions (or none). */
interface KeyVersionRow {
  id: string;
  account_id: string;
  description: string;
  state: string;
  is_default: boolean;
  created_at: number;
  deletion_date: number | null;
  pending_window_days: number | null;
  tags: string;
  rotation_period_days: number | null;
  next_rotation_at: number | null;
  serial: number;
  key_spec: string | null;
  key_usage: string | null;
  version: number | null;
  material_id: Uint8Array | null;
  version_created_at: number | null;
  encryptions_reserved: number | null;
  origin: string | null;
  domain_key_id: Uint8Array | null;
  algorithm: string | null;
  blob: Uint8Array | null;
  public_key: Uint8Array | null;
}

interface AliasRow {
  account_id: string;
  name: string;
  key_id: string;
  created_at: number;
  updated_at: number;
}

const KEY_COLUMNS = `k.id, k.account_id, k.description, k.state,
  k.is_default, k.created_at, k.deletion_date, k.pending_window_days, k.tags,
  k.rotation_period_days, k.next_rotation_at, k.serial, k.key_spec,
  k.key_usage, v.version, v.material_id,
  v.created_at AS version_created_at, v.encryptions_reserved, v.origin,
  v.public_key, w.domain_key_id, w.algorithm, w.blob`;

/**
 * {@linkcode MetadataStore} in a PostgreSQL database, shared by every node
 * that opens it. The tables are made on first open, in a schema of their
 * own (see {@linkcode PostgresOptions.schema}).
 *
 * Every change is one transaction. Changes that read before they write
 * (the key quota, alias quota and names, versions, deletion, the
 * encryption reservation) first lock the row they are serialized on (the
 * account's `serial` is bumped, the key's row is locked `FOR UPDATE`, the
 * version's count is itself the write), so concurrent changes from several
 * nodes queue on that row lock at READ COMMITTED and conflict, then are run
 * again, under snapshot or serializable isolation. A key's `serial` counts
 * the changes of its own fields: a change computed from an older read is
 * refused ({@linkcode StaleRecordError}).
 *
 * While the database is down, calls fail within the connect timeout with
 * a {@linkcode PostgresUnavailableError}; they work again once it is back,
 * without reopening the store.
 *
 * @example
 * ```ts
 * const store = await PostgresStore.open("postgres://okms@127.0.0.1/okms");
 * console.log(await store.listAccounts());
 * await store.close();
 * ```
 */
export class PostgresStore
  implements MetadataStore, DomainKeyStore, SharedStore {
  readonly #db: PgDatabase;
  /** The schema, quoted, for statements. */
  readonly #s: string;

  private constructor(db: PgDatabase) {
    this.#db = db;
    this.#s = db.schema;
  }

  /**
   * Connects to the database at `url` and makes or upgrades okms's schema
   * in it.
   *
   * @throws {PostgresUnavailableError} when it cannot be reached.
   */
  static async open(
    url: string,
    options: PostgresOptions = {},
  ): Promise<PostgresStore> {
    return new PostgresStore(await connectMigrated(url, options));
  }

  /** The schema the tables are in. */
  get schema(): string {
    return this.#db.schemaName;
  }

  async ping(): Promise<void> {
    await this.#db.query(`SELECT version FROM ${this.#s}.okms_schema`);
  }

  async createAccount(accountId: string, createdAt: number): Promise<void> {
    for (let attempt = 0;; attempt++) {
      try {
        await this.#db.query(
          `INSERT INTO ${this.#s}.accounts (id, is_default, created_at)
           VALUES ($1, NOT EXISTS (SELECT 1 FROM ${this.#s}.accounts), $2)`,
          [accountId, createdAt],
        );
        return;
      } catch (error) {
        // Two first accounts at once: the loser is not the default.
        if (
          attempt < 3 && violatedConstraint(error) === "one_default_account"
        ) continue;
        if (violatedConstraint(error) === "accounts_pkey") {
          throw new AlreadyExistsException(
            `account ${accountId} exists already`,
          );
        }
        throw error;
      }
    }
  }

  async hasAccount(accountId: string): Promise<boolean> {
    const rows = await this.#db.query(
      `SELECT 1 FROM ${this.#s}.accounts WHERE id = $1`,
      [accountId],
    );
    return rows.length > 0;
  }

  async listAccounts(): Promise<string[]> {
    const rows = await this.#db.query<{ id: string }>(
      `SELECT id FROM ${this.#s}.accounts
       ORDER BY is_default DESC, created_at, id`,
    );
    return rows.map((row) => row.id);
  }

  insertKey(record: KeyRecord, quota: number): Promise<number> {
    const s = this.#s;
    return this.#db.transaction(async (sql) => {
      // Creations in one account queue here, so the count below is theirs.
      const locked = await sql.query(
        `UPDATE ${s}.accounts SET serial = serial + 1 WHERE id = $1
         RETURNING id`,
        [record.accountId],
      );
      if (locked.length === 0) {
        throw new NotFoundException(
          `account ${record.accountId} does not exist`,
        );
      }
      const [{ n }] = await sql.query<{ n: number }>(
        `SELECT count(*) AS n FROM ${s}.keys WHERE account_id = $1`,
        [record.accountId],
      );
      if (n >= quota) {
        throw new QuotaReachedError(
          `account ${record.accountId} holds ${quota} keys already`,
        );
      }
      await sql.query(
        `INSERT INTO ${s}.keys (id, account_id, description, state,
           is_default, created_at, deletion_date, pending_window_days, tags,
           rotation_period_days, next_rotation_at, key_spec, key_usage)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [
          record.keyId,
          record.accountId,
          record.description,
          record.state,
          record.isDefault,
          record.createdAt,
          record.deletionDate,
          record.pendingWindowDays,
          JSON.stringify(record.tags),
          record.rotationPeriodDays,
          record.nextRotationAt,
          record.keySpec ?? null,
          record.keyUsage ?? null,
        ],
      );
      for (const version of record.versions) {
        await this.#insertVersion(sql, record.keyId, version);
      }
      return 0; // the new row's serial
    });
  }

  async getKey(keyId: string): Promise<KeyRecord | undefined> {
    const rows = await this.#db.query<KeyVersionRow>(
      `SELECT ${KEY_COLUMNS} FROM ${this.#s}.keys k
       LEFT JOIN ${this.#s}.key_versions v ON v.key_id = k.id
       LEFT JOIN ${this.#s}.wrapped_material w ON w.material_id = v.material_id
       WHERE k.id = $1 ORDER BY v.version`,
      [keyId],
    );
    return toRecords(rows)[0];
  }

  async getDefaultKey(accountId: string): Promise<KeyRecord | undefined> {
    const rows = await this.#db.query<KeyVersionRow>(
      `SELECT ${KEY_COLUMNS} FROM ${this.#s}.keys k
       LEFT JOIN ${this.#s}.key_versions v ON v.key_id = k.id
       LEFT JOIN ${this.#s}.wrapped_material w ON w.material_id = v.material_id
       WHERE k.account_id = $1 AND k.is_default ORDER BY v.version`,
      [accountId],
    );
    return toRecords(rows)[0];
  }

  async countKeys(accountId: string): Promise<number> {
    const [{ n }] = await this.#db.query<{ n: number }>(
      `SELECT count(*) AS n FROM ${this.#s}.keys WHERE account_id = $1`,
      [accountId],
    );
    return n;
  }

  async listKeys(
    accountId: string,
    cursor: KeyCursor | undefined,
    limit: number,
  ): Promise<KeyRecord[]> {
    const after = cursor ?? { createdAt: -1, keyId: "" };
    const rows = await this.#db.query<KeyVersionRow>(
      `WITH page AS (
         SELECT * FROM ${this.#s}.keys
         WHERE account_id = $1 AND (created_at, id) > ($2::BIGINT, $3::TEXT)
         ORDER BY created_at, id LIMIT $4
       )
       SELECT ${KEY_COLUMNS} FROM page k
       LEFT JOIN ${this.#s}.key_versions v ON v.key_id = k.id
       LEFT JOIN ${this.#s}.wrapped_material w ON w.material_id = v.material_id
       ORDER BY k.created_at, k.id, v.version`,
      [accountId, after.createdAt, after.keyId, limit],
    );
    return toRecords(rows);
  }

  updateKey(record: KeyRecord): Promise<number> {
    const s = this.#s;
    return this.#db.transaction(async (sql) => {
      const [row] = await sql.query<{ serial: number }>(
        `UPDATE ${s}.keys SET description = $1, state = $2,
           deletion_date = $3, pending_window_days = $4, tags = $5,
           rotation_period_days = $6, next_rotation_at = $7,
           serial = serial + 1
         WHERE id = $8 AND ($9::BIGINT IS NULL OR serial = $9)
         RETURNING serial`,
        [
          record.description,
          record.state,
          record.deletionDate,
          record.pendingWindowDays,
          JSON.stringify(record.tags),
          record.rotationPeriodDays,
          record.nextRotationAt,
          record.keyId,
          record.serial ?? null,
        ],
      );
      if (row === undefined) {
        const exists = await sql.query(
          `SELECT 1 FROM ${s}.keys WHERE id = $1`,
          [record.keyId],
        );
        if (exists.length === 0) {
          throw new NotFoundException(`key ${record.keyId} no longer exists`);
        }
        throw new StaleRecordError(
          `key ${record.keyId} was changed by another node meanwhile`,
        );
      }
      await this.#recordChange(sql, record.keyId, null);
      return row.serial;
    });
  }

  addVersion(
    keyId: string,
    version: KeyVersionRecord,
    serial?: number,
  ): Promise<void> {
    return this.#db.transaction(async (sql) => {
      await this.#lockKey(sql, keyId, serial);
      try {
        await this.#insertVersion(sql, keyId, version);
      } catch (error) {
        if (violatedConstraint(error) === "key_versions_pkey") {
          throw new StaleRecordError(
            `version ${version.version} of key ${keyId} was made by another node meanwhile`,
          );
        }
        throw error;
      }
      await this.#recordChange(sql, keyId, null);
    });
  }

  deleteKey(
    keyId: string,
    at: number,
    serial?: number,
  ): Promise<Uint8Array[]> {
    const s = this.#s;
    return this.#db.transaction(async (sql) => {
      try {
        await this.#lockKey(sql, keyId, serial);
      } catch (error) {
        if (error instanceof NotFoundException) return []; // gone already
        throw error;
      }
      const materials = (await sql.query<{ material_id: Uint8Array }>(
        `SELECT material_id FROM ${s}.key_versions WHERE key_id = $1
         ORDER BY version`,
        [keyId],
      )).map((row) => row.material_id);
      await sql.query(
        `INSERT INTO ${s}.material_journal (material_id, since)
         SELECT material_id, $2 FROM ${s}.key_versions WHERE key_id = $1
         ON CONFLICT (material_id) DO NOTHING`,
        [keyId, at],
      );
      const aliases = await sql.query<{ account_id: string }>(
        `DELETE FROM ${s}.aliases WHERE key_id = $1 RETURNING account_id`,
        [keyId],
      );
      await sql.query(`DELETE FROM ${s}.keys WHERE id = $1`, [keyId]);
      await this.#recordChange(sql, keyId, aliases[0]?.account_id ?? null);
      return materials;
    });
  }

  async dueKeys(now: number): Promise<string[]> {
    const rows = await this.#db.query<{ id: string }>(
      `SELECT id FROM ${this.#s}.keys
       WHERE (state = 'PendingDeletion' AND deletion_date <= $1)
          OR (state = 'Enabled' AND rotation_period_days IS NOT NULL
              AND next_rotation_at <= $1)
       ORDER BY id`,
      [now],
    );
    return rows.map((row) => row.id);
  }

  async reserveEncryptions(
    keyId: string,
    version: number,
    block: number,
    max: number,
  ): Promise<{ from: number; to: number } | undefined> {
    // One atomic add: SET reads the row as it was, so `reserved_before`
    // keeps where this reservation starts; concurrent ones queue on the row.
    const [range] = await this.#db.query<{ from_n: number; to_n: number }>(
      `UPDATE ${this.#s}.key_versions
       SET reserved_before = encryptions_reserved,
           encryptions_reserved = LEAST(encryptions_reserved + $3, $4)
       WHERE key_id = $1 AND version = $2 AND encryptions_reserved < $4
       RETURNING reserved_before AS from_n, encryptions_reserved AS to_n`,
      [keyId, version, block, max],
    );
    if (range !== undefined) return { from: range.from_n, to: range.to_n };
    const exists = await this.#db.query(
      `SELECT 1 FROM ${this.#s}.key_versions WHERE key_id = $1 AND version = $2`,
      [keyId, version],
    );
    if (exists.length === 0) {
      throw new NotFoundException(
        `key ${keyId} version ${version} no longer exists`,
      );
    }
    return undefined;
  }

  createAlias(alias: AliasRecord, maxPerKey: number): Promise<void> {
    const s = this.#s;
    return this.#db.transaction(async (sql) => {
      await this.#lockKey(sql, alias.keyId);
      const taken = await sql.query(
        `SELECT 1 FROM ${s}.aliases WHERE account_id = $1 AND name = $2`,
        [alias.accountId, alias.aliasName],
      );
      if (taken.length > 0) {
        throw new NameTakenError(`${alias.aliasName} exists already`);
      }
      await this.#checkAliasQuota(sql, alias, maxPerKey);
      try {
        await sql.query(
          `INSERT INTO ${s}.aliases
             (account_id, name, key_id, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5)`,
          [
            alias.accountId,
            alias.aliasName,
            alias.keyId,
            alias.createdAt,
            alias.updatedAt,
          ],
        );
      } catch (error) {
        // Created meanwhile for another key (whose lock we do not hold).
        if (sqlState(error) === "23505") {
          throw new NameTakenError(`${alias.aliasName} exists already`);
        }
        throw error;
      }
      await this.#recordChange(sql, null, alias.accountId);
    });
  }

  updateAlias(alias: AliasRecord, maxPerKey: number): Promise<void> {
    const s = this.#s;
    return this.#db.transaction(async (sql) => {
      await this.#lockKey(sql, alias.keyId);
      await this.#checkAliasQuota(sql, alias, maxPerKey);
      await sql.query(
        `UPDATE ${s}.aliases SET key_id = $1, updated_at = $2
         WHERE account_id = $3 AND name = $4`,
        [alias.keyId, alias.updatedAt, alias.accountId, alias.aliasName],
      );
      await this.#recordChange(sql, null, alias.accountId);
    });
  }

  deleteAlias(accountId: string, aliasName: string): Promise<boolean> {
    return this.#db.transaction(async (sql) => {
      const rows = await sql.query(
        `DELETE FROM ${this.#s}.aliases WHERE account_id = $1 AND name = $2
         RETURNING name`,
        [accountId, aliasName],
      );
      if (rows.length === 0) return false;
      await this.#recordChange(sql, null, accountId);
      return true;
    });
  }

  async getAlias(
    accountId: string,
    aliasName: string,
  ): Promise<AliasRecord | undefined> {
    const [row] = await this.#db.query<AliasRow>(
      `SELECT * FROM ${this.#s}.aliases WHERE account_id = $1 AND name = $2`,
      [accountId, aliasName],
    );
    return row && toAlias(row);
  }

  async listAliases(
    accountId: string,
    keyId: string | undefined,
    afterName: string,
    limit: number,
  ): Promise<AliasRecord[]> {
    const rows = keyId === undefined
      ? await this.#db.query<AliasRow>(
        `SELECT * FROM ${this.#s}.aliases WHERE account_id = $1 AND name > $2
         ORDER BY name LIMIT $3`,
        [accountId, afterName, limit],
      )
      : await this.#db.query<AliasRow>(
        `SELECT * FROM ${this.#s}.aliases
         WHERE account_id = $1 AND key_id = $2 AND name > $3
         ORDER BY name LIMIT $4`,
        [accountId, keyId, afterName, limit],
      );
    return rows.map(toAlias);
  }

  async journalMaterial(materialId: Uint8Array, at: number): Promise<void> {
    await this.#db.query(
      `INSERT INTO ${this.#s}.material_journal (material_id, since)
       VALUES ($1, $2) ON CONFLICT (material_id) DO NOTHING`,
      [materialId, at],
    );
  }

  async journal(): Promise<JournalEntry[]> {
    const rows = await this.#db.query<
      { material_id: Uint8Array; since: number }
    >(
      `SELECT material_id, since FROM ${this.#s}.material_journal
       ORDER BY since, material_id`,
    );
    return rows.map((row) => ({
      materialId: row.material_id,
      since: row.since,
    }));
  }

  async clearMaterial(materialId: Uint8Array): Promise<void> {
    await this.#db.query(
      `DELETE FROM ${this.#s}.material_journal WHERE material_id = $1`,
      [materialId],
    );
  }

  async tokenBinding(): Promise<TokenBinding | undefined> {
    const [row] = await this.#db.query<{
      embedded: boolean;
      module_path: string;
      label: string;
      serial_number: string;
      key_material: string;
    }>(`SELECT * FROM ${this.#s}.token_binding WHERE only_row = 1`);
    return row && {
      embedded: row.embedded,
      modulePath: row.module_path,
      label: row.label,
      serialNumber: row.serial_number,
      keyMaterial: row.key_material as TokenBinding["keyMaterial"],
    };
  }

  async bindToken(binding: TokenBinding): Promise<TokenBinding> {
    await this.#db.transaction(async (sql) => {
      const bound = await sql.query(
        `INSERT INTO ${this.#s}.token_binding
           (only_row, embedded, module_path, label, serial_number, key_material)
         VALUES (1, $1, $2, $3, $4, $5) ON CONFLICT (only_row) DO NOTHING
         RETURNING only_row`,
        [
          binding.embedded,
          binding.modulePath,
          binding.label,
          binding.serialNumber,
          binding.keyMaterial ?? "token",
        ],
      );
      if (bound.length > 0) await this.#admit(sql, binding, 0);
    });
    return (await this.tokenBinding())!;
  }

  async admittedTokens(): Promise<TokenBinding[]> {
    const [first] = await this.#db.query<{ key_material: string }>(
      `SELECT key_material FROM ${this.#s}.token_binding WHERE only_row = 1`,
    );
    const rows = await this.#db.query<{
      embedded: boolean;
      module_path: string;
      label: string;
      serial_number: string;
    }>(
      `SELECT * FROM ${this.#s}.admitted_tokens
       ORDER BY admitted_at, label, serial_number`,
    );
    return rows.map((row) => ({
      embedded: row.embedded,
      modulePath: row.module_path,
      label: row.label,
      serialNumber: row.serial_number,
      keyMaterial: first?.key_material as TokenBinding["keyMaterial"],
    }));
  }

  admitToken(binding: TokenBinding, at: number): Promise<void> {
    return this.#db.transaction((sql) => this.#admit(sql, binding, at));
  }

  async changesSince(seq: number, limit: number): Promise<Change[]> {
    const rows = await this.#db.query<
      { seq: number; key_id: string | null; alias_account_id: string | null }
    >(
      `SELECT seq, key_id, alias_account_id FROM ${this.#s}.changes
       WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [seq, limit],
    );
    return rows.map((row) => ({
      seq: row.seq,
      keyId: row.key_id,
      aliasAccountId: row.alias_account_id,
    }));
  }

  async lastChange(): Promise<number> {
    const [row] = await this.#db.query<{ seq: number }>(
      `SELECT seq FROM ${this.#s}.change_counter WHERE only_row = 1`,
    );
    return row.seq;
  }

  async pruneChanges(before: number): Promise<void> {
    await this.#db.query(
      `DELETE FROM ${this.#s}.changes WHERE at < $1
         AND seq < (SELECT seq FROM ${this.#s}.change_counter)`,
      [before],
    );
  }

  async takeLease(
    name: string,
    holder: string,
    ttlMs: number,
  ): Promise<boolean> {
    // The database's clock, not the nodes': theirs may disagree.
    const now = `(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT`;
    const rows = await this.#db.query(
      `INSERT INTO ${this.#s}.leases AS l (name, holder, until)
       VALUES ($1, $2, ${now} + $3)
       ON CONFLICT (name) DO UPDATE SET holder = $2, until = ${now} + $3
       WHERE l.holder = $2 OR l.until <= ${now}
       RETURNING holder`,
      [name, holder, ttlMs],
    );
    return rows.length > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.#db.query(
      `DELETE FROM ${this.#s}.leases WHERE name = $1 AND holder = $2`,
      [name, holder],
    );
  }

  async domainKeys(): Promise<DomainKeyRecord[]> {
    const rows = await this.#db.query<{ id: Uint8Array; created_at: number }>(
      // Insertion order, not the clock (see SqliteStore.domainKeys).
      `SELECT id, created_at FROM ${this.#s}.domain_keys ORDER BY seq`,
    );
    return rows.map((row) => ({ id: row.id, createdAt: row.created_at }));
  }

  async addDomainKey(record: DomainKeyRecord): Promise<void> {
    const s = this.#s;
    for (let attempt = 0;; attempt++) {
      try {
        return await this.#db.transaction(async (sql) => {
          await sql.query(
            `INSERT INTO ${s}.domain_keys (id, created_at, seq)
             SELECT $1, $2, COALESCE(max(seq), 0) + 1 FROM ${s}.domain_keys`,
            [record.id, record.createdAt],
          );
          await sql.query(
            `DELETE FROM ${s}.material_journal WHERE material_id = $1`,
            [record.id],
          );
        });
      } catch (error) {
        // Another node took the same place in the order: take the next.
        if (
          attempt < 5 && violatedConstraint(error) === "domain_keys_seq_key"
        ) {
          continue;
        }
        throw error;
      }
    }
  }

  async wrappedOutside(
    domainKeyId: Uint8Array,
    after: VersionRef | undefined,
    limit: number,
  ): Promise<VersionRef[]> {
    const rows = await this.#db.query<{ key_id: string; version: number }>(
      `SELECT v.key_id, v.version
       FROM ${this.#s}.wrapped_material w
       JOIN ${this.#s}.key_versions v ON v.material_id = w.material_id
       WHERE w.domain_key_id <> $1
         AND (v.key_id, v.version) > ($2::TEXT, $3::INTEGER)
       ORDER BY v.key_id, v.version LIMIT $4`,
      [domainKeyId, after?.keyId ?? "", after?.version ?? 0, limit],
    );
    return rows.map((row) => ({ keyId: row.key_id, version: row.version }));
  }

  rewrapVersion(
    ref: VersionRef,
    from: Uint8Array,
    wrapped: WrappedMaterial,
  ): Promise<boolean> {
    // One conditional UPDATE: a concurrent re-wrap or deletion makes it miss.
    return this.#db.transaction(async (sql) => {
      const rows = await sql.query(
        `UPDATE ${this.#s}.wrapped_material
       SET domain_key_id = $1, algorithm = $2, blob = $3
       WHERE domain_key_id = $4 AND material_id = (
         SELECT material_id FROM ${this.#s}.key_versions
         WHERE key_id = $5 AND version = $6)
       RETURNING 1`,
        [
          wrapped.domainKeyId,
          wrapped.algorithm,
          wrapped.blob,
          from,
          ref.keyId,
          ref.version,
        ],
      );
      if (rows.length === 0) return false;
      // Other nodes must unwrap it from its new blob before the old domain
      // key is retired.
      await this.#recordChange(sql, ref.keyId, null);
      return true;
    });
  }

  async retireDomainKey(id: Uint8Array, at: number): Promise<boolean> {
    const s = this.#s;
    try {
      return await this.#db.transaction(async (sql) => {
        const used = await sql.query(
          `SELECT 1 FROM ${s}.wrapped_material WHERE domain_key_id = $1 LIMIT 1`,
          [id],
        );
        if (used.length > 0) return false;
        // A version wrapped under it meanwhile makes this DELETE fail on the
        // foreign key; one written later fails on it.
        const removed = await sql.query(
          `DELETE FROM ${s}.domain_keys WHERE id = $1 RETURNING id`,
          [id],
        );
        if (removed.length === 0) return false;
        await sql.query(
          `INSERT INTO ${s}.material_journal (material_id, since)
           VALUES ($1, $2) ON CONFLICT (material_id) DO NOTHING`,
          [id, at],
        );
        return true;
      });
    } catch (error) {
      if (sqlState(error) === "23503") return false; // foreign_key_violation
      throw error;
    }
  }

  /**
   * Closes the connections (the interface's `close(): void` may ignore the
   * promise; awaiting it waits until they are closed). Idempotent.
   */
  close(): Promise<void> {
    return this.#db.close();
  }

  /** As {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * Serializes the transaction on the key's row (a row lock, which also
   * makes concurrent writers conflict under snapshot or serializable
   * isolation) without changing its serial: only a change of the key's own
   * fields does.
   *
   * @throws {NotFoundException} when the key does not exist.
   * @throws {StaleRecordError} when `serial` is given and the row has
   * changed since.
   */
  async #lockKey(sql: Sql, keyId: string, serial?: number): Promise<void> {
    const [row] = await sql.query<{ serial: number }>(
      `SELECT serial FROM ${this.#s}.keys WHERE id = $1 FOR UPDATE`,
      [keyId],
    );
    if (row === undefined) {
      throw new NotFoundException(`key ${keyId} no longer exists`);
    }
    if (serial !== undefined && row.serial !== serial) {
      throw new StaleRecordError(
        `key ${keyId} was changed by another node meanwhile`,
      );
    }
  }

  /**
   * Appends a change to the feed. The counter's row lock, held until the
   * transaction ends, makes the changes commit in seq order.
   */
  async #recordChange(
    sql: Sql,
    keyId: string | null,
    aliasAccountId: string | null,
  ): Promise<void> {
    const [{ seq }] = await sql.query<{ seq: number }>(
      `UPDATE ${this.#s}.change_counter SET seq = seq + 1
       WHERE only_row = 1 RETURNING seq`,
    );
    await sql.query(
      `INSERT INTO ${this.#s}.changes (seq, key_id, alias_account_id, at)
       VALUES ($1, $2, $3, $4)`,
      [seq, keyId, aliasAccountId, Date.now()],
    );
  }

  async #admit(sql: Sql, binding: TokenBinding, at: number): Promise<void> {
    await sql.query(
      `INSERT INTO ${this.#s}.admitted_tokens
         (label, serial_number, embedded, module_path, admitted_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (label, serial_number) DO NOTHING`,
      [
        binding.label,
        binding.serialNumber,
        binding.embedded,
        binding.modulePath,
        at,
      ],
    );
  }

  /** Counts the key's other aliases: re-pointing one at its key is no growth. */
  async #checkAliasQuota(
    sql: Sql,
    alias: AliasRecord,
    maxPerKey: number,
  ): Promise<void> {
    const [{ n }] = await sql.query<{ n: number }>(
      `SELECT count(*) AS n FROM ${this.#s}.aliases
       WHERE key_id = $1 AND NOT (account_id = $2 AND name = $3)`,
      [alias.keyId, alias.accountId, alias.aliasName],
    );
    if (n >= maxPerKey) {
      throw new QuotaReachedError(`the key has ${maxPerKey} aliases already`);
    }
  }

  async #insertVersion(
    sql: Sql,
    keyId: string,
    version: KeyVersionRecord,
  ): Promise<void> {
    await sql.query(
      `INSERT INTO ${this.#s}.key_versions (key_id, version, material_id,
         created_at, encryptions_reserved, origin, public_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        keyId,
        version.version,
        version.materialId,
        version.createdAt,
        version.encryptionsReserved,
        version.origin,
        version.publicKey ?? null,
      ],
    );
    if (version.wrapped !== undefined) {
      const { domainKeyId, algorithm, blob } = version.wrapped;
      await sql.query(
        `INSERT INTO ${this.#s}.wrapped_material
           (material_id, domain_key_id, algorithm, blob)
         VALUES ($1, $2, $3, $4)`,
        [version.materialId, domainKeyId, algorithm, blob],
      );
    }
    await sql.query(
      `DELETE FROM ${this.#s}.material_journal WHERE material_id = $1`,
      [version.materialId],
    );
  }
}

/** Keys from rows ordered by key, then version. */
function toRecords(rows: KeyVersionRow[]): KeyRecord[] {
  const records: KeyRecord[] = [];
  for (const row of rows) {
    let record = records.at(-1);
    if (record?.keyId !== row.id) {
      record = {
        keyId: row.id,
        accountId: row.account_id,
        description: row.description,
        state: row.state as KeyRecord["state"],
        isDefault: row.is_default,
        createdAt: row.created_at,
        deletionDate: row.deletion_date,
        pendingWindowDays: row.pending_window_days,
        tags: JSON.parse(row.tags),
        rotationPeriodDays: row.rotation_period_days,
        nextRotationAt: row.next_rotation_at,
        versions: [],
        serial: row.serial,
        ...keyKind(row.key_spec, row.key_usage),
      };
      records.push(record);
    }
    if (row.version !== null) {
      const version: KeyVersionRecord = {
        version: row.version,
        materialId: row.material_id!,
        createdAt: row.version_created_at!,
        encryptionsReserved: row.encryptions_reserved!,
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
      record.versions.push(version);
    }
  }
  return records;
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
