/**
 * Domain-key rotation's second half: every version wrapped under an older
 * domain key is re-wrapped under the newest, and an older domain key is
 * destroyed once nothing is wrapped under it.
 * @module
 */
import { JOURNAL_GRACE_MS, type KeyRing } from "../key_ring.ts";
import type {
  DomainKeyStore,
  MetadataStore,
  VersionRef,
} from "../metadata_store.ts";
import type { WrappedKeyMaterial } from "./wrapped_key_material.ts";

/** What {@linkcode rewrapUnderNewest} did. */
export interface RewrapReport {
  /** Versions re-wrapped under the newest domain key. */
  rewrapped: number;
  /** Older domain keys destroyed (ids in hex). */
  retired: string[];
  /** What failed, and why (tried again at the next maintenance run). */
  failures: string[];
}

/** Versions read from the store at a time. */
const BATCH = 100;

/**
 * Re-wraps under the newest domain key every version wrapped under an older
 * one, then retires each older domain key that nothing is wrapped under
 * any more, once its successor is older than {@linkcode JOURNAL_GRACE_MS}
 * (a creation that read the older one as newest may still be writing a
 * version under it; the store refuses such a write after retirement).
 * Retiring forgets the key and journals it in one transaction, then
 * destroys it in the HSM, so a crash leaves it to recovery. Ciphertexts
 * decrypt throughout: a version keeps its material, only the wrapping
 * changes, and each re-wrapped version is written only if still wrapped as
 * it was read. Run by the process that owns the store: it updates the
 * cached versions too.
 *
 * @example
 * ```ts
 * const { rewrapped, retired } = await rewrapUnderNewest(ring, material, store, Date.now());
 * ```
 */
export async function rewrapUnderNewest(
  ring: KeyRing,
  material: WrappedKeyMaterial,
  store: MetadataStore & DomainKeyStore,
  now: number,
): Promise<RewrapReport> {
  const report: RewrapReport = { rewrapped: 0, retired: [], failures: [] };
  const domainKeys = await store.domainKeys();
  if (domainKeys.length < 2) return report;
  const newest = domainKeys.at(-1)!;
  let after: VersionRef | undefined;
  for (;;) {
    const batch = await store.wrappedOutside(newest.id, after, BATCH);
    for (const ref of batch) {
      try {
        if (await rewrapVersion(ring, material, store, ref)) report.rewrapped++;
      } catch (error) {
        report.failures.push(
          `key ${ref.keyId} version ${ref.version}: ${
            (error as Error).message
          }`,
        );
      }
    }
    if (batch.length < BATCH) break;
    after = batch.at(-1);
  }
  for (const [i, domainKey] of domainKeys.slice(0, -1).entries()) {
    if (domainKeys[i + 1].createdAt > now - JOURNAL_GRACE_MS) continue;
    const id = domainKey.id.toHex();
    try {
      if (!await store.retireDomainKey(domainKey.id, now)) continue;
      material.destroy(domainKey.id);
      await store.clearMaterial(domainKey.id);
      report.retired.push(id);
    } catch (error) {
      report.failures.push(`domain key ${id}: ${(error as Error).message}`);
    }
  }
  return report;
}

/** Re-wraps one version; false when it was deleted or re-wrapped meanwhile. */
async function rewrapVersion(
  ring: KeyRing,
  material: WrappedKeyMaterial,
  store: DomainKeyStore,
  ref: VersionRef,
): Promise<boolean> {
  const key = await ring.get(ref.keyId);
  const version = key?.versions.get(ref.version);
  const from = version?.record.wrapped;
  if (version === undefined || from === undefined) return false;
  const wrapped = await material.rewrap(from, key!.record);
  if (!await store.rewrapVersion(ref, from.domainKeyId, wrapped)) return false;
  version.record.wrapped = wrapped;
  return true;
}
