/**
 * Where PostgreSQL's server programs (`initdb`, `pg_ctl`) are: the directory
 * named by `OKMS_POSTGRES_BIN`, else the newest `/usr/lib/postgresql/N/bin`
 * Debian's `postgresql` package installs. No npm imports: the `postgres`
 * task runs this before anything is fetched.
 * @module
 */

/** Debian's layout: one directory per major version. */
const DEBIAN_ROOT = "/usr/lib/postgresql";

function hasServer(dir: string): boolean {
  try {
    return Deno.statSync(`${dir}/initdb`).isFile &&
      Deno.statSync(`${dir}/pg_ctl`).isFile;
  } catch {
    return false;
  }
}

/**
 * The directory holding `initdb` and `pg_ctl`, or undefined when there is
 * none.
 *
 * @example
 * ```ts
 * const bin = findPostgresBin(); // "/usr/lib/postgresql/15/bin"
 * ```
 */
export function findPostgresBin(): string | undefined {
  const explicit = Deno.env.get("OKMS_POSTGRES_BIN");
  if (explicit !== undefined) return hasServer(explicit) ? explicit : undefined;
  let versions: number[];
  try {
    versions = [...Deno.readDirSync(DEBIAN_ROOT)]
      .map((entry) => Number(entry.name))
      .filter((n) => Number.isInteger(n))
      .sort((a, b) => b - a);
  } catch {
    return undefined;
  }
  return versions.map((n) => `${DEBIAN_ROOT}/${n}/bin`).find(hasServer);
}
