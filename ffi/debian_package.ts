/**
 * Finds what a Debian package provides, installing the package with
 * `apt-get` when it is missing and this process runs as root; otherwise a
 * {@linkcode MissingPackageError} names the package to install.
 *
 * Beside its first user, `ffi/install_softhsm.ts` (package `softhsm2`);
 * `bench/http_load_wrk.ts` uses it for `wrk`, and `tests/server_cli_test.ts`
 * for the AWS CLI. Needs `--allow-run` and
 * `--allow-sys=uid`.
 * @module
 */

/** A Debian package and how to tell that what it provides is there. */
export interface DebianPackage {
  /** The package name, e.g. `softhsm2`. */
  name: string;
  /** What it provides, for messages, e.g. `SoftHSM2`. */
  what: string;
  /** Where what it provides is, or undefined when it is missing. */
  find(): string | undefined;
  /** Another way out, added to the message when it cannot be installed. */
  otherwise?: string;
}

/**
 * The first executable file called `name` in the `PATH`, as a shell finds
 * it: what a package's `find` usually is.
 *
 * @example
 * ```ts
 * findOnPath("wrk"); // "/usr/bin/wrk", or undefined
 * ```
 */
export function findOnPath(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** What is missing and cannot be installed from here; the message says what to do. */
export class MissingPackageError extends Error {
  override name = "MissingPackageError";
}

async function aptGet(args: string[]): Promise<void> {
  const { success } = await new Deno.Command("apt-get", {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdin: "null",
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!success) {
    throw new MissingPackageError(`apt-get ${args.join(" ")} failed`);
  }
}

/**
 * Where `pkg` is: found, or found after `apt-get install` when running as
 * root.
 *
 * @throws {MissingPackageError} when it is missing and this process is not
 * root, has no `apt-get`, or the install did not provide it.
 * @example
 * ```ts
 * const wrk = await findOrInstall({ name: "wrk", what: "wrk", find: () => "/usr/bin/wrk" });
 * ```
 */
export async function findOrInstall(pkg: DebianPackage): Promise<string> {
  const found = pkg.find();
  if (found !== undefined) return found;
  const advice = `Install Debian's package: sudo apt-get install ${pkg.name}` +
    (pkg.otherwise ? ` (${pkg.otherwise})` : "");
  if (Deno.uid() !== 0) {
    throw new MissingPackageError(`${pkg.what} is not installed. ${advice}.`);
  }
  console.error(`${pkg.what} not found: installing Debian's ${pkg.name}`);
  try {
    await aptGet(["update", "-qq"]);
    await aptGet(["install", "-y", "-qq", pkg.name]);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    throw new MissingPackageError(
      `${pkg.what} is not installed and there is no apt-get. ${advice}, or your system's equivalent.`,
    );
  }
  const installed = pkg.find();
  if (installed === undefined) {
    throw new MissingPackageError(
      `installed ${pkg.name}, yet ${pkg.what} is still not found`,
    );
  }
  return installed;
}
