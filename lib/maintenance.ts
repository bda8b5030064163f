/**
 * Work that falls due with time: deleting keys whose waiting period is over
 * and rotating keys whose automatic rotation is due.
 * @module
 */
import type { KeyRing } from "./key_ring.ts";

/** What one maintenance run did, by key id. */
export interface MaintenanceReport {
  deleted: string[];
  rotated: string[];
  /** Pieces of HSM material left by interrupted work, now destroyed. */
  recovered: number;
}

const DAY_MS = 86_400_000;

/**
 * Destroys HSM material that interrupted work left behind, deletes every
 * key whose deletion date has come (metadata, aliases and the
 * HSM material of all its versions) and rotates every enabled key whose
 * automatic rotation is due (once, however late; the next date counts from
 * now).
 *
 * @example
 * ```ts
 * const { deleted, rotated } = await runMaintenance(ring, Date.now());
 * ```
 */
export async function runMaintenance(
  ring: KeyRing,
  now: number,
): Promise<MaintenanceReport> {
  const report: MaintenanceReport = {
    deleted: [],
    rotated: [],
    recovered: await ring.recover(),
  };
  for (const keyId of await ring.store.dueKeys(now)) {
    const key = await ring.get(keyId);
    if (key === undefined) continue;
    const { state, deletionDate, rotationPeriodDays, nextRotationAt } =
      key.record;
    if (
      state === "PendingDeletion" && deletionDate !== null &&
      deletionDate <= now
    ) {
      await ring.delete(key);
      report.deleted.push(keyId);
    } else if (
      state === "Enabled" && rotationPeriodDays !== null &&
      nextRotationAt !== null &&
      nextRotationAt <= now
    ) {
      await ring.rotate(key, "AUTOMATIC");
      await ring.update(key, {
        nextRotationAt: now + rotationPeriodDays * DAY_MS,
      });
      report.rotated.push(keyId);
    }
  }
  return report;
}
