/**
 * File errors that say which file and what to do, not only the OS's words.
 * @module
 */

const ACCESS =
  "run okms as the user who owns it, or give that user read and write access to it";

/** What to do about an error of the file system or SQLite, if it is one. */
function hint(error: unknown): string | undefined {
  if (error instanceof Deno.errors.PermissionDenied) return ACCESS;
  if (error instanceof Deno.errors.NotADirectory) {
    return "a part of that path is a file, not a directory";
  }
  if (error instanceof Deno.errors.IsADirectory) {
    return "it is a directory where a file belongs";
  }
  if (error instanceof Deno.errors.NotFound) return "it does not exist";
  const { code, message } = error as { code?: string; message?: string };
  if (/os error 30\b/.test(message ?? "")) {
    return "it is on a read-only file system";
  }
  if (
    code === "ERR_SQLITE_ERROR" &&
    /unable to open|readonly/.test(message ?? "")
  ) {
    return ACCESS;
  }
  return undefined;
}

/**
 * `error`, met while using `what` (e.g. "the okms data directory /x"),
 * rewritten to name it and say what to do; other errors are returned as
 * they are.
 *
 * @example
 * ```ts
 * try {
 *   await Deno.mkdir(dataDir);
 * } catch (error) {
 *   throw fileError(`the okms data directory ${dataDir}`, error);
 * }
 * ```
 */
export function fileError(what: string, error: unknown): unknown {
  const advice = hint(error);
  if (advice === undefined) return error;
  return new Error(
    `cannot use ${what} (${(error as Error).message}): ${advice}`,
    { cause: error },
  );
}
