/**
 * Makes sure a PKCS#11 module is there: finds SoftHSM2 (or the module named
 * by OKMS_PKCS11_MODULE), else installs Debian's `softhsm2` when running as
 * root, else stops with a message naming the package.
 *
 * Run as `deno task softhsm`; the `test` and `serve` tasks run it first.
 * @module
 */
import { findOrInstall } from "./debian_package.ts";
import { findPkcs11Module, SOFTHSM2_MODULE_PATHS } from "./module_path.ts";

const explicit = Deno.env.get("OKMS_PKCS11_MODULE");

function softhsm(): string | undefined {
  try {
    return findPkcs11Module(SOFTHSM2_MODULE_PATHS);
  } catch {
    return undefined;
  }
}

try {
  const path = explicit !== undefined
    ? findPkcs11Module([explicit])
    : await findOrInstall({
      name: "softhsm2",
      what: "SoftHSM2",
      find: softhsm,
      otherwise: "or set OKMS_PKCS11_MODULE to your PKCS#11 module",
    });
  console.error(`PKCS#11 module: ${path}`);
} catch (error) {
  console.error(`okms: ${(error as Error).message}`);
  Deno.exit(1);
}
