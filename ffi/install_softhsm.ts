/**
 * Makes sure a PKCS#11 module is there: finds SoftHSM2 (or the module named
 * by OKMS_PKCS11_MODULE), else installs Debian's `softhsm2` when running as
 * root, else stops with a message naming the package.
 *
 * Run as `deno task softhsm`; the `test` and `serve` tasks run it first.
 * @module
 */
import { findPkcs11Module, SOFTHSM2_MODULE_PATHS } from "./module_path.ts";

const explicit = Deno.env.get("OKMS_PKCS11_MODULE");
const candidates = explicit ? [explicit] : SOFTHSM2_MODULE_PATHS;

function found(): string | undefined {
  try {
    return findPkcs11Module(candidates);
  } catch {
    return undefined;
  }
}

async function run(command: string, args: string[]): Promise<void> {
  const { success } = await new Deno.Command(command, {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!success) throw new Error(`${command} ${args.join(" ")} failed`);
}

let path = found();
if (path === undefined && explicit === undefined) {
  if (Deno.uid() !== 0) {
    console.error(
      "okms needs SoftHSM2 and it is not installed. Install Debian's package: " +
        "sudo apt-get install softhsm2 (or set OKMS_PKCS11_MODULE to your PKCS#11 module).",
    );
    Deno.exit(1);
  }
  console.error("SoftHSM2 not found: installing Debian's softhsm2 package");
  await run("apt-get", ["update", "-qq"]);
  await run("apt-get", ["install", "-y", "-qq", "softhsm2"]);
  path = found();
}
if (path === undefined) {
  console.error(`no PKCS#11 module found; tried ${candidates.join(", ")}`);
  Deno.exit(1);
}
console.error(`PKCS#11 module: ${path}`);
