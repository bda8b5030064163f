/**
 * Test fixtures: an Okms on a data directory (and so a SoftHSM2 token) of
 * its own, and a second session on that token through the project's binding.
 * @module
 */
import { Okms, type OkmsOptions } from "../mod.ts";
import { CKA, findPkcs11Module, SOFTHSM2_MODULE_PATHS } from "../ffi/mod.ts";
import { Hsm, isModuleLoaded } from "../lib/hsm.ts";
import { EMBEDDED_TOKEN_LABEL } from "../lib/embedded_token.ts";

/** An open Okms on a fresh temporary data directory, removed on dispose. */
export interface TestOkms extends AsyncDisposable {
  okms: Okms;
  dataDir: string;
}

/**
 * Opens okms on a fresh data directory; `await using` closes it and removes
 * the directory.
 *
 * @example
 * ```ts
 * await using t = await openTestOkms();
 * await t.okms.createKey();
 * ```
 */
export async function openTestOkms(
  options: OkmsOptions = {},
): Promise<TestOkms> {
  const dataDir = options.dataDir ??
    await Deno.makeTempDir({ prefix: "okms-test-" });
  const okms = await Okms.open({ ...options, dataDir });
  return {
    okms,
    dataDir,
    async [Symbol.asyncDispose]() {
      await okms.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  };
}

/**
 * A second logged-in session on the embedded token of `dataDir`, through the
 * project's binding (with or without an Okms open on it).
 */
export async function tokenSession(
  dataDir: string,
  pinFile = `${dataDir}/pin`,
): Promise<Hsm> {
  const pin = new TextEncoder().encode(
    (await Deno.readTextFile(pinFile)).trim(),
  );
  const modulePath = findPkcs11Module(SOFTHSM2_MODULE_PATHS);
  if (!isModuleLoaded(modulePath)) {
    Deno.env.set(
      "SOFTHSM2_CONF",
      `${await Deno.realPath(dataDir)}/softhsm2.conf`,
    );
  }
  return Hsm.open({
    modulePath,
    tokenLabel: EMBEDDED_TOKEN_LABEL,
    pin,
  });
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text);
}

/** Asserts that `promise` rejects with an error named `name`. */
export async function rejectsNamed(
  promise: Promise<unknown>,
  name: string,
): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if ((error as Error).name !== name) {
      throw new Error(
        `expected ${name}, got ${(error as Error).name}: ${
          (error as Error).message
        }`,
      );
    }
    return error as Error;
  }
  throw new Error(`expected ${name}, but it resolved`);
}

/**
 * The objects on a data directory's embedded token (its CMKs, and any
 * leftovers of a crash), by `CKA_ID` in hex: "" for none, "?" for
 * unreadable (half-written).
 */
export async function cmkObjects(
  dataDir: string,
  pinFile?: string,
): Promise<string[]> {
  const hsm = await tokenSession(dataDir, pinFile);
  try {
    return hsm.find([]).map((handle) => {
      try {
        return hsm.read(handle, [[CKA.ID, 64]])[0]?.toHex() ?? "";
      } catch {
        return "?";
      }
    }).sort();
  } finally {
    hsm.close();
  }
}

/** Runs a Deno script of tests/children/ in a new process; returns its stdout. */
export async function runChild(
  script: string,
  ...args: string[]
): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL(`./children/${script}`, import.meta.url).pathname,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  if (code !== 0 && !out.includes("CRASHING")) {
    throw new Error(
      `${script} exited ${code}: ${new TextDecoder().decode(stderr)}`,
    );
  }
  return out;
}
