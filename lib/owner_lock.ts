/**
 * One owning process per data directory.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { createPrivateFile } from "./sqlite_file.ts";

/**
 * Holds `<dataDir>/owner.lock` exclusively for as long as it is open, so a
 * second okms cannot serve the same keys with its own caches. It is an
 * SQLite file in exclusive locking mode: trying the lock fails at once
 * instead of waiting, and the lock dies with the process.
 *
 * @example
 * ```ts
 * using lock = OwnerLock.take(".okms");
 * ```
 */
export class OwnerLock implements Disposable {
  readonly #db: DatabaseSync;

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /**
   * Takes the data directory's lock.
   *
   * @throws {Error} when another process holds it.
   */
  static take(dataDir: string): OwnerLock {
    const path = `${dataDir}/owner.lock`;
    createPrivateFile(path);
    const db = new DatabaseSync(path);
    try {
      db.exec("PRAGMA locking_mode = EXCLUSIVE");
      db.exec("PRAGMA journal_mode = MEMORY"); // no journal file beside it
      db.exec("BEGIN EXCLUSIVE");
      db.exec("COMMIT");
    } catch (error) {
      db.close();
      if (/locked|busy/i.test((error as Error).message)) {
        throw new Error(
          `the okms data directory ${dataDir} is in use by another process ` +
            "(to administer it meanwhile, open it with { beside: true } or use the admin task)",
        );
      }
      throw error;
    }
    return new OwnerLock(db);
  }

  /** Releases the lock. */
  [Symbol.dispose](): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
