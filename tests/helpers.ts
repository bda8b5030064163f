/**
 * Test fixtures: an Okms on a data directory (and so a SoftHSM2 token) of
 * its own, and a second session on that token through the project's binding.
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { Okms, type OkmsOptions } from "../mod.ts";
import { CKA, findPkcs11Module, SOFTHSM2_MODULE_PATHS } from "../ffi/mod.ts";
import { Hsm, isModuleLoaded } from "../lib/hsm.ts";
import { EMBEDDED_TOKEN_LABEL } from "../lib/embedded_token.ts";

/**
 * The key material mode new data directories get in this run: the suite
 * runs once as is (wrapped) and once with `OKMS_KEY_MATERIAL=token`.
 */
export const DEFAULT_KEY_MATERIAL = Deno.env.get("OKMS_KEY_MATERIAL") ||
  "wrapped";

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
 * The token objects on a data directory's embedded token (its CMKs in token
 * mode, its domain keys in wrapped mode, and any leftovers of a crash), by
 * `CKA_ID` in hex: "" for none, "?" for unreadable (half-written). Session
 * objects (CMKs unwrapped for use in this process) are not listed.
 */
export async function cmkObjects(
  dataDir: string,
  pinFile?: string,
): Promise<string[]> {
  const hsm = await tokenSession(dataDir, pinFile);
  try {
    return hsm.find([[CKA.TOKEN, true]]).map((handle) => {
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

/** What a data directory's database says of its material (ids in hex, sorted). */
export interface StoredMaterial {
  keyMaterial: "token" | "wrapped";
  /** Each key version's material id. */
  versions: string[];
  /** The domain keys (wrapped mode). */
  domainKeys: string[];
  /** What its token should hold: the versions' objects, or the domain keys. */
  tokenObjects: string[];
  /** Journal entries: work under way, or left by a crash. */
  journal: number;
}

/** Reads {@linkcode StoredMaterial} from a data directory's okms.db. */
export function storedMaterial(dataDir: string): StoredMaterial {
  const db = new DatabaseSync(`${dataDir}/okms.db`, { readOnly: true });
  try {
    const ids = (sql: string) =>
      db.prepare(sql).all().map((row) => (row.id as Uint8Array).toHex())
        .sort();
    const keyMaterial = String(
      db.prepare("SELECT key_material FROM token_binding").get()
        ?.key_material ?? "token",
    ) as StoredMaterial["keyMaterial"];
    const versions = ids("SELECT material_id AS id FROM key_versions");
    const domainKeys = ids("SELECT id FROM domain_keys");
    return {
      keyMaterial,
      versions,
      domainKeys,
      tokenObjects: keyMaterial === "token" ? versions : domainKeys,
      journal: Number(
        db.prepare("SELECT count(*) AS n FROM material_journal").get()!.n,
      ),
    };
  } finally {
    db.close();
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

/**
 * Starts a child of tests/children/ that works until it is killed, and
 * kills it (SIGKILL) `delayMs` after it printed READY (once it has done
 * some of its work, so that every round adds some).
 */
export async function killWhileWorking(
  script: string,
  dataDir: string,
  delayMs: number,
) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      new URL(`./children/${script}`, import.meta.url).pathname,
      dataDir,
    ],
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  if (!new TextDecoder().decode(value).includes("READY")) {
    throw new Error(`${script} did not get ready`);
  }
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill("SIGKILL");
  await child.status;
  await reader.cancel();
}
