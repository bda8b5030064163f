/**
 * The connection layer under okms's PostgreSQL stores: one pool per store,
 * bounded connect and statement times, every state change one transaction
 * retried on serialization failures, and errors that say whether the
 * database was unreachable.
 * @module
 */
// @ts-types="@types/pg"
import pg from "pg";
import { DependencyTimeoutException, KMSInternalException } from "../errors.ts";
import { splitUrl } from "./postgres_url.ts";

/** How a PostgreSQL store connects. */
export interface PostgresOptions {
  /**
   * The schema okms's tables live in (created if missing), so that several
   * okms deployments, or tests, can share one database. Default: the URL's
   * `schema` query parameter, else `okms`.
   */
  schema?: string;
  /** Connections in the pool (default 10). */
  maxConnections?: number;
  /** Longest wait for a connection, new or from the pool, in ms (default 5000). */
  connectTimeoutMs?: number;
  /**
   * Longest wait for one statement's answer, in ms (default 10000): a
   * client-side timeout (the connection is then dropped) and the server's
   * `statement_timeout`, which also bounds waits for row locks.
   */
  statementTimeoutMs?: number;
  /** How often a transaction is run again after a serialization failure (default 8). */
  maxRetries?: number;
}

/**
 * The database could not be reached or did not answer in time: AWS's
 * `DependencyTimeoutException` (503), which clients may retry.
 */
export class PostgresUnavailableError extends DependencyTimeoutException {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/** A value bound to a statement's placeholder. */
export type SqlValue = string | number | boolean | null | Uint8Array;

/** A row as the store reads it: int8 columns are numbers, bytea Uint8Array. */
export type Row = Record<string, unknown>;

/** Statements run inside one transaction. */
export interface Sql {
  /** The rows of one statement with `$1…` placeholders. */
  query<T = Row>(text: string, params?: readonly SqlValue[]): Promise<T[]>;
}

/** SQLSTATEs after which a transaction may simply be run again. */
const RETRYABLE = new Set([
  "40001", // serialization_failure (also CockroachDB's "restart transaction")
  "40P01", // deadlock_detected
]);

/** SQLSTATEs that mean the database, not the statement, is at fault. */
function unavailableState(code: string | undefined): boolean {
  if (code === undefined) return false;
  return code.startsWith("08") || // connection exception
    code === "57P01" || // admin_shutdown
    code === "57P02" || // crash_shutdown
    code === "57P03" || // cannot_connect_now (starting up, shutting down)
    code === "57014" || // query_canceled: statement_timeout
    code === "55P03" || // lock_not_available: lock_timeout
    code === "53300" || // too_many_connections
    code === "25P03"; // idle_in_transaction_session_timeout
}

function isDatabaseError(error: unknown): error is pg.DatabaseError {
  return error instanceof pg.DatabaseError;
}

/** A valid unquoted PostgreSQL identifier, lower case, for the schema. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * A pool of connections to one PostgreSQL database and the okms schema in
 * it. Calls made while the database is down fail within the connect
 * timeout; once it is back, the next call reconnects.
 *
 * @example
 * ```ts
 * const db = PgDatabase.connect("postgres://okms@127.0.0.1/okms");
 * const rows = await db.query("SELECT 1 AS one");
 * await db.close();
 * ```
 */
export class PgDatabase {
  /** The schema, as a quoted identifier to put in statements. */
  readonly schema: string;
  /** The schema's name. */
  readonly schemaName: string;
  readonly #pool: pg.Pool;
  readonly #maxRetries: number;
  #closing: Promise<void> | undefined;

  private constructor(pool: pg.Pool, schemaName: string, maxRetries: number) {
    this.#pool = pool;
    this.schemaName = schemaName;
    this.schema = `"${schemaName}"`;
    this.#maxRetries = maxRetries;
  }

  /** A pool for `url` (`postgres://user:password@host:port/database`); connects lazily. */
  static connect(url: string, options: PostgresOptions = {}): PgDatabase {
    const { connectionString, schema: fromUrl } = splitUrl(url);
    const schemaName = options.schema ?? fromUrl ?? "okms";
    if (!IDENTIFIER.test(schemaName)) {
      throw new TypeError(
        `the schema name ${
          JSON.stringify(schemaName)
        } is not a lower-case SQL identifier`,
      );
    }
    const statementTimeout = options.statementTimeoutMs ?? 10_000;
    const types = new pg.TypeOverrides();
    // Epoch milliseconds and counts fit in a double; material ids are bytes.
    types.setTypeParser(pg.types.builtins.INT8, Number);
    types.setTypeParser(pg.types.builtins.BYTEA, parseBytea);
    const pool = new pg.Pool({
      connectionString,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      // The client gives up a little after the server would have.
      query_timeout: statementTimeout + 1_000,
      statement_timeout: statementTimeout,
      // A node that vanishes mid-transaction does not hold its locks for long.
      idle_in_transaction_session_timeout: Math.max(statementTimeout, 30_000),
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: "okms",
      types,
    });
    // An idle connection that breaks (the server restarted) is dropped by
    // the pool; without a listener its 'error' event would end the process.
    pool.on("error", () => {});
    // The same for a connection that breaks while checked out: the call
    // using it gets the error.
    pool.on("connect", (client) => client.on("error", () => {}));
    return new PgDatabase(pool, schemaName, options.maxRetries ?? 8);
  }

  /** One statement in a transaction of its own (retried on serialization failure). */
  query<T = Row>(text: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return this.#retrying(async () => {
      const result = await this.#pool.query(text, params as SqlValue[])
        .catch((error) => {
          throw unavailable(error);
        });
      return result.rows as T[];
    });
  }

  /**
   * Runs `work` in one transaction on one connection, committed if it
   * returns, rolled back if it throws; run again from the start (so `work`
   * must only touch the database) after a serialization failure or a
   * deadlock, which a database running SERIALIZABLE (CockroachDB) reports
   * for any conflict. The isolation level is the database's default:
   * `work` takes the row locks it needs, by writing the row it serializes
   * on, which orders transactions at READ COMMITTED and makes them conflict
   * (and so retry) under snapshot and serializable isolation.
   */
  transaction<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    return this.#retrying(() => this.#once(work));
  }

  /** Ends every connection; later calls fail. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.end().catch(() => {});
    return this.#closing;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  async #once<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw unavailable(error);
    }
    let broken: Error | undefined;
    const sql: Sql = {
      query: async <R = Row>(
        text: string,
        params: readonly SqlValue[] = [],
      ) => {
        try {
          return (await client.query(text, params as SqlValue[])).rows as R[];
        } catch (error) {
          const mapped = unavailable(error);
          if (mapped instanceof PostgresUnavailableError) broken = mapped;
          throw mapped;
        }
      },
    };
    try {
      await sql.query("BEGIN");
      const result = await work(sql);
      await sql.query("COMMIT");
      return result;
    } catch (error) {
      if (broken === undefined) {
        await client.query("ROLLBACK").catch((rollback) => {
          broken = rollback;
        });
      }
      throw error;
    } finally {
      // A broken or timed-out connection is dropped: the server then rolls
      // back whatever it still holds.
      client.release(broken ?? false);
    }
  }

  async #retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let tries = 0;; tries++) {
      if (this.#closing !== undefined) {
        throw new KMSInternalException("okms is closed");
      }
      try {
        return await attempt();
      } catch (error) {
        if (
          !isDatabaseError(error) || !RETRYABLE.has(error.code ?? "") ||
          tries >= this.#maxRetries
        ) throw error;
        // Jittered, growing back-off so that the racers do not meet again.
        const ceiling = Math.min(2 ** tries * 5, 200);
        await new Promise((done) =>
          setTimeout(done, ceiling / 2 + Math.random() * ceiling / 2)
        );
      }
    }
  }
}

/** `error` as a {@linkcode PostgresUnavailableError} when the database is at fault. */
function unavailable(error: unknown): unknown {
  if (error instanceof PostgresUnavailableError) return error;
  if (isDatabaseError(error)) {
    if (!unavailableState(error.code)) return error;
    return new PostgresUnavailableError(
      `the metadata database is unavailable (SQLSTATE ${error.code}); retry later`,
      { cause: error },
    );
  }
  // Anything else pg throws: refused or broken connections, timeouts. The
  // details (addresses, names) stay in `cause`, out of clients' answers.
  return new PostgresUnavailableError(
    "the metadata database is unreachable; retry later",
    { cause: error },
  );
}

/** bytea's text form (`\x` and hex) as bytes. */
function parseBytea(text: string): Uint8Array {
  if (!text.startsWith("\\x")) {
    throw new TypeError("bytea_output must be hex (the default)");
  }
  return Uint8Array.fromHex(text.slice(2));
}

/** The SQLSTATE of a database error, if it is one. */
export function sqlState(error: unknown): string | undefined {
  return isDatabaseError(error) ? error.code : undefined;
}

/** The constraint a database error names, if any. */
export function violatedConstraint(error: unknown): string | undefined {
  return isDatabaseError(error) ? error.constraint : undefined;
}
