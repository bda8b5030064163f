/**
 * Finding the PKCS#11 module file.
 * @module
 */
import { Pkcs11LoadError } from "./errors.ts";

/** Where distributions install SoftHSM2's module, most common first. */
export const SOFTHSM2_MODULE_PATHS: readonly string[] = [
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib64/pkcs11/libsofthsm2.so",
  "/usr/lib/pkcs11/libsofthsm2.so",
  "/usr/local/lib/softhsm/libsofthsm2.so",
  "/opt/homebrew/lib/softhsm/libsofthsm2.so",
];

/**
 * The first candidate path that is a file.
 *
 * @throws {Pkcs11LoadError} naming every path tried when none exists.
 * @example
 * ```ts
 * const path = findPkcs11Module(SOFTHSM2_MODULE_PATHS);
 * ```
 */
export function findPkcs11Module(candidates: readonly string[]): string {
  for (const path of candidates) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not there: try the next one
    }
  }
  const hint = candidates === SOFTHSM2_MODULE_PATHS
    ? ". Install SoftHSM2 (Debian: apt-get install softhsm2) or set OKMS_PKCS11_MODULE."
    : "";
  throw new Pkcs11LoadError(
    candidates.length === 1
      ? `the PKCS#11 module ${candidates[0]} does not exist${hint}`
      : `no PKCS#11 module found; tried ${candidates.join(", ")}${hint}`,
  );
}
