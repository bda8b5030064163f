/**
 * okms's tables in PostgreSQL, made on first open, in a schema of their own
 * (`okms` by default), with a schema version in `okms_schema`.
 *
 * Kept to SQL that PostgreSQL-compatible distributed databases accept too
 * (CockroachDB, YugabyteDB): no sequences, triggers, advisory locks or
 * `RETURNING OLD`; `ON CONFLICT DO NOTHING` for idempotent inserts; `COLLATE
 * "C"` where SQLite's byte order is the listing order.
 * @module
 */
import {
  PgDatabase,
  type PostgresOptions,
  type Sql,
  sqlState,
} from "./postgres_db.ts";

/** The schema version this okms writes. */
export const POSTGRES_SCHEMA_VERSION = 3;

/**
 * Version 1: everything SQLite's version 3 holds (wrapped material and
 * domain keys included), the server's access keys, and what SQLite does
 * without: `serial` (bumped by every change that must be serialized on its
 * row), `reserved_before` (the count an encryption reservation started
 * from, so that one UPDATE both adds and tells the range) and
 * `domain_keys.seq` (insertion order, which SQLite's rowid gives).
 */
function schemaV1(s: string): string {
  return `
CREATE TABLE ${s}.accounts (
  id TEXT COLLATE "C" PRIMARY KEY,
  is_default BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  serial BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX one_default_account ON ${s}.accounts (is_default)
  WHERE is_default;
CREATE TABLE ${s}.keys (
  id TEXT COLLATE "C" PRIMARY KEY,
  account_id TEXT COLLATE "C" NOT NULL REFERENCES ${s}.accounts (id),
  description TEXT NOT NULL,
  state TEXT NOT NULL,
  is_default BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  deletion_date BIGINT,
  pending_window_days INTEGER,
  tags TEXT NOT NULL,
  rotation_period_days INTEGER,
  next_rotation_at BIGINT,
  serial BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX keys_by_account ON ${s}.keys (account_id, created_at, id);
CREATE UNIQUE INDEX one_default_key ON ${s}.keys (account_id) WHERE is_default;
CREATE INDEX keys_pending_deletion ON ${s}.keys (deletion_date)
  WHERE state = 'PendingDeletion';
CREATE INDEX keys_rotating ON ${s}.keys (next_rotation_at)
  WHERE rotation_period_days IS NOT NULL;
CREATE TABLE ${s}.key_versions (
  key_id TEXT COLLATE "C" NOT NULL REFERENCES ${s}.keys (id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  material_id BYTEA NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  encryptions_reserved BIGINT NOT NULL,
  reserved_before BIGINT NOT NULL DEFAULT 0,
  origin TEXT NOT NULL,
  PRIMARY KEY (key_id, version)
);
CREATE TABLE ${s}.aliases (
  account_id TEXT COLLATE "C" NOT NULL REFERENCES ${s}.accounts (id),
  name TEXT COLLATE "C" NOT NULL,
  key_id TEXT COLLATE "C" NOT NULL REFERENCES ${s}.keys (id),
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (account_id, name)
);
CREATE INDEX aliases_by_key ON ${s}.aliases (key_id);
CREATE TABLE ${s}.material_journal (
  material_id BYTEA PRIMARY KEY,
  since BIGINT NOT NULL
);
CREATE TABLE ${s}.token_binding (
  only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
  embedded BOOLEAN NOT NULL,
  module_path TEXT NOT NULL,
  label TEXT NOT NULL,
  serial_number TEXT NOT NULL,
  key_material TEXT NOT NULL DEFAULT 'token'
);
CREATE TABLE ${s}.domain_keys (
  id BYTEA PRIMARY KEY,
  created_at BIGINT NOT NULL,
  seq BIGINT NOT NULL UNIQUE
);
CREATE TABLE ${s}.wrapped_material (
  material_id BYTEA PRIMARY KEY
    REFERENCES ${s}.key_versions (material_id) ON DELETE CASCADE,
  domain_key_id BYTEA NOT NULL REFERENCES ${s}.domain_keys (id),
  algorithm TEXT NOT NULL,
  blob BYTEA NOT NULL
);
CREATE INDEX wrapped_by_domain_key ON ${s}.wrapped_material (domain_key_id);
CREATE TABLE ${s}.server_meta (
  name TEXT COLLATE "C" PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE ${s}.access_keys (
  access_key_id TEXT COLLATE "C" PRIMARY KEY,
  account_id TEXT COLLATE "C" NOT NULL,
  sealed_secret BYTEA NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE INDEX access_keys_by_account ON ${s}.access_keys (account_id, created_at);
CREATE TABLE ${s}.access_key_changes (
  only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
  version BIGINT NOT NULL
);
INSERT INTO ${s}.access_key_changes (only_row, version) VALUES (1, 0);
`;
}

/**
 * Version 2, for several nodes: the feed of changes they apply to their
 * caches (`changes`, numbered by the one-row `change_counter`, whose row
 * lock orders them as they commit), leases (maintenance on one node at a
 * time) and the tokens admitted to hold the domain keys.
 */
function schemaV2(s: string): string {
  return `
CREATE TABLE ${s}.change_counter (
  only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
  seq BIGINT NOT NULL
);
INSERT INTO ${s}.change_counter (only_row, seq) VALUES (1, 0);
CREATE TABLE ${s}.changes (
  seq BIGINT PRIMARY KEY,
  key_id TEXT COLLATE "C",
  alias_account_id TEXT COLLATE "C",
  at BIGINT NOT NULL
);
CREATE TABLE ${s}.leases (
  name TEXT COLLATE "C" PRIMARY KEY,
  holder TEXT NOT NULL,
  until BIGINT NOT NULL
);
CREATE TABLE ${s}.admitted_tokens (
  label TEXT NOT NULL,
  serial_number TEXT NOT NULL,
  embedded BOOLEAN NOT NULL,
  module_path TEXT NOT NULL,
  admitted_at BIGINT NOT NULL,
  PRIMARY KEY (label, serial_number)
);
INSERT INTO ${s}.admitted_tokens
  (label, serial_number, embedded, module_path, admitted_at)
SELECT label, serial_number, embedded, module_path, 0 FROM ${s}.token_binding;
`;
}

/**
 * Version 3: asymmetric and HMAC keys, with their spec and usage (null for
 * symmetric keys) and each version's public key.
 */
function schemaV3(s: string): string {
  return `
ALTER TABLE ${s}.keys ADD COLUMN key_spec TEXT;
ALTER TABLE ${s}.keys ADD COLUMN key_usage TEXT;
ALTER TABLE ${s}.key_versions ADD COLUMN public_key BYTEA;
`;
}

/** What each version adds to the one before (index 0: version 1). */
const MIGRATIONS: ((schema: string) => string)[] = [
  schemaV1,
  schemaV2,
  schemaV3,
];

/** SQLSTATEs of a concurrent creation of the same schema or table. */
const CREATED_MEANWHILE = new Set(["23505", "42P06", "42P07", "42710"]);

/**
 * Brings the schema to {@linkcode POSTGRES_SCHEMA_VERSION}: nothing to do
 * when it is there (one read, no DDL, no lock), else in one transaction
 * whose lock on the version row makes concurrent openers wait for each
 * other.
 *
 * @throws {Error} when the schema is newer than this okms.
 */
export async function migrate(db: PgDatabase): Promise<void> {
  if (await currentVersion(db) === POSTGRES_SCHEMA_VERSION) return;
  for (let attempt = 0;; attempt++) {
    try {
      await db.transaction((sql) => migrateIn(sql, db.schema));
      return;
    } catch (error) {
      // Another node created the schema or the table between our check and
      // our CREATE ... IF NOT EXISTS: its transaction is done, try again.
      if (attempt < 3 && CREATED_MEANWHILE.has(sqlState(error) ?? "")) {
        continue;
      }
      throw error;
    }
  }
}

async function currentVersion(db: PgDatabase): Promise<number | undefined> {
  try {
    const [row] = await db.query<{ version: number }>(
      `SELECT version FROM ${db.schema}.okms_schema WHERE only_row = 1`,
    );
    return row?.version;
  } catch (error) {
    if (sqlState(error) === "42P01") return undefined; // undefined_table
    throw error;
  }
}

async function migrateIn(sql: Sql, s: string): Promise<void> {
  await sql.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
  await sql.query(
    `CREATE TABLE IF NOT EXISTS ${s}.okms_schema (
       only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
       version INTEGER NOT NULL
     )`,
  );
  await sql.query(
    `INSERT INTO ${s}.okms_schema (only_row, version) VALUES (1, 0)
     ON CONFLICT (only_row) DO NOTHING`,
  );
  const [row] = await sql.query<{ version: number }>(
    `SELECT version FROM ${s}.okms_schema WHERE only_row = 1 FOR UPDATE`,
  );
  const version = row.version;
  if (version > POSTGRES_SCHEMA_VERSION) {
    throw new Error(
      `the okms schema ${s} has version ${version}; this okms knows up to ${POSTGRES_SCHEMA_VERSION}: use a newer okms`,
    );
  }
  for (const step of MIGRATIONS.slice(version)) {
    for (const statement of statements(step(s))) await sql.query(statement);
  }
  await sql.query(
    `UPDATE ${s}.okms_schema SET version = $1 WHERE only_row = 1`,
    [POSTGRES_SCHEMA_VERSION],
  );
}

/** A script's statements, one per `;` at a line's end. */
function statements(script: string): string[] {
  return script.split(/;\s*\n/).map((s) => s.trim()).filter((s) =>
    s.length > 0
  );
}

/**
 * A pool on the database at `url` whose okms schema is made or upgraded;
 * closed again if that fails.
 *
 * @example
 * ```ts
 * const db = await connectMigrated("postgres://okms@127.0.0.1/okms", {});
 * ```
 */
export async function connectMigrated(
  url: string,
  options: PostgresOptions,
): Promise<PgDatabase> {
  const db = PgDatabase.connect(url, options);
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}
