/**
 * Who may use a data directory's token at once: any number of cluster
 * nodes (their caches follow the shared store), or one process that keeps
 * its keys in the directory's own SQLite file (whose caches nothing else
 * updates), never both.
 * @module
 */
import { fileError } from "./file_error.ts";

/**
 * `<dataDir>/node.lock`, held with `flock`: shared by cluster nodes,
 * exclusive by a single-node owner (beside its `OwnerLock`). Released when
 * disposed or when the process ends.
 *
 * @example
 * ```ts
 * using lock = await NodeLock.take(".okms", "shared");
 * ```
 */
export class NodeLock implements Disposable {
  readonly #file: Deno.FsFile;

  private constructor(file: Deno.FsFile) {
    this.#file = file;
  }

  /**
   * Takes the lock at once or fails.
   *
   * @throws {Error} saying which kind of process holds it.
   */
  static async take(
    dataDir: string,
    mode: "shared" | "exclusive",
  ): Promise<NodeLock> {
    const path = `${dataDir}/node.lock`;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { create: true, write: true, mode: 0o600 });
    } catch (error) {
      throw fileError(`the okms data directory ${dataDir}`, error);
    }
    if (await file.tryLock(mode === "exclusive")) return new NodeLock(file);
    file.close();
    throw new Error(
      mode === "shared"
        ? `the okms data directory ${dataDir} is in use by an okms that keeps its keys in ${dataDir}/okms.db: stop it before starting cluster nodes (--database-url) on this directory`
        : `the okms data directory ${dataDir} is in use by okms cluster nodes (--database-url): stop them, or give the same --database-url to join them`,
    );
  }

  [Symbol.dispose](): void {
    try {
      this.#file.close(); // closing releases the lock
    } catch {
      // closed already
    }
  }
}
