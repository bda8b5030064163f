/**
 * Makes sure PostgreSQL's server programs are there for the tests'
 * throwaway clusters: finds them, else installs Debian's `postgresql` when
 * running as root, else stops with a message naming the package. The tests
 * never use the system service the package sets up.
 *
 * Run as `deno task postgres`; the `test` task runs it first.
 * @module
 */
import { findOrInstall } from "../ffi/debian_package.ts";
import { findPostgresBin } from "./postgres_bin.ts";

try {
  const bin = await findOrInstall({
    name: "postgresql",
    what: "PostgreSQL",
    find: findPostgresBin,
    otherwise:
      "or set OKMS_POSTGRES_BIN to a directory holding initdb and pg_ctl",
  });
  console.error(`PostgreSQL: ${bin}`);
} catch (error) {
  console.error(`okms: ${(error as Error).message}`);
  Deno.exit(1);
}
