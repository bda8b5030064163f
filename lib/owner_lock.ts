/**
 * One owning process per data directory.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { fileError } from "./file_error.ts";
import { createPrivateFile } from "./sqlite_file.ts";

/** The owner's PID, if its file is there and well formed. */
function ownerPid(pidFile: string): number | undefined {
  try {
    const text = Deno.readTextFileSync(pidFile).trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined; // not written yet, or unreadable: no PID to name
  }
}

/**
 * Holds `<dataDir>/owner.lock` exclusively for as long as it is open, so a
 * second okms cannot serve the same keys with its own caches, and keeps the
 * holder's PID in `<dataDir>/okms.pid` meanwhile. The lock is an SQLite file
 * in exclusive locking mode: trying it fails at once instead of waiting,
 * and it dies with the process (the PID file of a crashed owner stays, but
 * is only read while the lock is held, and then it is the holder's).
 *
 * @example
 * ```ts
 * using lock = OwnerLock.take(".okms");
 * console.log(`okms ${Deno.pid} owns .okms; see ${lock.pidFile}`);
 * ```
 */
export class OwnerLock implements Disposable {
  /** The file that holds the owner's PID while the lock is held. */
  readonly pidFile: string;
  readonly #db: DatabaseSync;

  private constructor(db: DatabaseSync, pidFile: string) {
    this.#db = db;
    this.pidFile = pidFile;
  }

  /**
   * Takes the data directory's lock and writes this process's PID.
   *
   * @throws {Error} naming the holder's PID when another process holds it.
   */
  static take(dataDir: string): OwnerLock {
    const where = `the okms data directory ${dataDir}`;
    const path = `${dataDir}/owner.lock`;
    const pidFile = `${dataDir}/okms.pid`;
    let db: DatabaseSync;
    try {
      createPrivateFile(path);
      db = new DatabaseSync(path);
    } catch (error) {
      throw fileError(where, error);
    }
    try {
      db.exec("PRAGMA locking_mode = EXCLUSIVE");
      db.exec("PRAGMA journal_mode = MEMORY"); // no journal file beside it
      db.exec("BEGIN EXCLUSIVE");
      db.exec("COMMIT");
      Deno.writeTextFileSync(pidFile, `${Deno.pid}\n`, { mode: 0o600 });
    } catch (error) {
      db.close();
      if (/locked|busy/i.test((error as Error).message)) {
        const pid = ownerPid(pidFile);
        throw new Error(
          `the okms data directory ${dataDir} is in use by another process${
            pid === undefined ? "" : ` (okms, PID ${pid})`
          }: stop it first, or use \`deno task admin\`, which works beside it`,
        );
      }
      throw fileError(where, error);
    }
    return new OwnerLock(db, pidFile);
  }

  /** Removes the PID file, then releases the lock. */
  [Symbol.dispose](): void {
    if (!this.#db.isOpen) return;
    try {
      Deno.removeSync(this.pidFile);
    } catch {
      // already gone: nothing names this process any more
    } finally {
      this.#db.close();
    }
  }
}
