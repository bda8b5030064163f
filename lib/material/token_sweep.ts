/**
 * The leftovers of a process killed inside `C_GenerateKey` on the embedded
 * SoftHSM2 token (of a CMK in token mode, of a domain key in wrapped mode),
 * and their removal.
 *
 * SoftHSM2 writes a new token object in steps, each rewriting its file: an
 * empty file, then default attributes one at a time (`CKA_ID` empty), then
 * the template (`CKA_ID`, `CKA_LABEL`, …), then the value. A kill in between
 * leaves a zero-length `<uuid>.object` file, which SoftHSM2 does not even
 * list, or an object without a usable `CKA_ID`, which no material id can
 * find. Neither is ever removed by SoftHSM2, and neither can be a key's
 * material: a key is stored only once its generation has returned.
 * @module
 */
import { CKA, CKR, Pkcs11Error } from "../../ffi/mod.ts";
import type { Hsm } from "../hsm.ts";
import type { SweepResult } from "./key_material.ts";
import { DOMAIN_KEY_LABEL } from "./domain_keys.ts";
import { CMK_LABEL } from "./token_key_material.ts";

const OBJECT_FILE =
  /^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\.(object|lock)$/i;

/** Whether an object has no `CKA_ID` (not yet written, or empty). */
function lacksId(hsm: Hsm, handle: number): boolean {
  try {
    const [id] = hsm.read(handle, [[CKA.ID, 64]]);
    return id === undefined || id.length === 0;
  } catch (error) {
    if (!(error instanceof Pkcs11Error)) throw error;
    // SoftHSM2's answer for an attribute that the half-written file lacks.
    if (error.code === CKR.ATTRIBUTE_VALUE_INVALID) return true;
    if (error.code === CKR.BUFFER_TOO_SMALL) return false; // a long id
    if (error.code === CKR.OBJECT_HANDLE_INVALID) return false; // gone
    throw error;
  }
}

/**
 * Whether an object's label names a material or domain key id (the journal
 * finds those).
 */
function namesMaterial(hsm: Hsm, handle: number): boolean {
  try {
    const [label] = hsm.read(handle, [[CKA.LABEL, 64]]);
    const text = label === undefined ? "" : new TextDecoder().decode(label);
    return [CMK_LABEL, DOMAIN_KEY_LABEL].some((prefix) =>
      text.startsWith(`${prefix}:`)
    );
  } catch (error) {
    if (error instanceof Pkcs11Error) return false; // unreadable: no name
    throw error;
  }
}

/**
 * Removes, in every token under `tokensDir`, the zero-length object files
 * (with their `.lock` files) and the `.lock` files without an object, last
 * written before `before`: SoftHSM2 fills a new object file within
 * milliseconds, so an older empty one is a crash's.
 */
async function removeDeadFiles(
  tokensDir: string,
  before: number,
): Promise<number> {
  let removed = 0;
  for await (const token of Deno.readDir(tokensDir)) {
    if (!token.isDirectory) continue;
    const dir = `${tokensDir}/${token.name}`;
    const names = new Set<string>();
    for await (const file of Deno.readDir(dir)) {
      if (OBJECT_FILE.test(file.name)) names.add(file.name);
    }
    for (const name of names) {
      const [uuid, kind] = name.split(".");
      const info = await ifThere(() => Deno.stat(`${dir}/${name}`));
      const dead = info?.mtime != null && info.mtime.getTime() < before &&
        (kind === "object" ? info.size === 0 : !names.has(`${uuid}.object`));
      if (!dead) continue;
      await ifThere(() => Deno.remove(`${dir}/${name}`));
      if (kind === "object" && names.delete(`${uuid}.lock`)) {
        await ifThere(() => Deno.remove(`${dir}/${uuid}.lock`));
      }
      removed++;
    }
  }
  return removed;
}

/** Runs a file operation; a file another process removed meanwhile is fine. */
async function ifThere<T>(work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Removes the leftovers of interrupted generations from the embedded token:
 * dead files older than `before`, and objects without `CKA_ID`
 * whose label names no material. The objects are found first, then
 * `creationUnderWay` is asked (a creation under way, in this process or one
 * beside it, has a recent journal entry), then each is checked again right
 * before it is destroyed, so one that a creation finished meanwhile stays.
 *
 * @example
 * ```ts
 * const { removed } = await sweepEmbeddedToken(hsm, ".okms/tokens", async () => false, Date.now() - 60_000);
 * ```
 */
export async function sweepEmbeddedToken(
  hsm: Hsm,
  tokensDir: string,
  creationUnderWay: () => Promise<boolean>,
  before: number,
): Promise<SweepResult> {
  let removed = await removeDeadFiles(tokensDir, before);
  const halfMade = hsm.find([]).filter((handle) =>
    lacksId(hsm, handle) && !namesMaterial(hsm, handle)
  );
  if (halfMade.length === 0) return { removed, complete: true };
  if (await creationUnderWay()) return { removed, complete: false };
  for (const handle of halfMade) {
    if (!lacksId(hsm, handle)) continue;
    hsm.destroy(handle);
    removed++;
  }
  return { removed, complete: true };
}
