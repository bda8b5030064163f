/**
 * Opening okms's SQLite files the same way everywhere.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { fileError } from "./file_error.ts";

/** Creates `path` empty with mode 0600, unless it exists. */
export function createPrivateFile(path: string): void {
  try {
    Deno.writeFileSync(path, new Uint8Array(), {
      createNew: true,
      mode: 0o600,
    });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
}

/**
 * Opens (creating if need be) an SQLite file readable by its owner only,
 * with durable commits: WAL, `synchronous = FULL` (a committed transaction
 * survives a crash or power loss), and up to 1 s of waiting for another
 * writer (calls are synchronous: longer would stall a server). The file is
 * made 0600 before SQLite opens it, so its `-wal` and `-shm` companions get
 * the same mode. A file it cannot use is named in the error, with what to
 * do about it.
 *
 * @example
 * ```ts
 * const db = openSqliteFile(".okms/okms.db");
 * ```
 */
export function openSqliteFile(path: string): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    createPrivateFile(path);
    db = new DatabaseSync(path);
    db.exec("PRAGMA busy_timeout = 1000");
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = FULL");
    db.exec("PRAGMA foreign_keys = ON");
    return db;
  } catch (error) {
    db?.close();
    throw fileError(path, error);
  }
}
