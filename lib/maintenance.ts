/**
 * Work that falls due with time: deleting keys whose waiting period is over
 * and rotating keys whose automatic rotation is due.
 * @module
 */
import type { KeyRing, LiveKey } from "./key_ring.ts";
import type { RewrapReport } from "./material/domain_key_rotation.ts";
import { DAY_MS } from "./validation.ts";

/** What one maintenance run did, by key id. */
export interface MaintenanceReport {
  deleted: string[];
  rotated: string[];
  /** Pieces of HSM material left by interrupted work, now destroyed. */
  recovered: number;
  /** Why some of that material could not be destroyed (tried again next run). */
  recoveryFailures: string[];
  /** Keys whose due work failed (it is tried again next run), with why. */
  failed: { keyId: string; error: string }[];
  /**
   * With wrapped material, when a domain-key rotation had work left:
   * re-wrapping under the newest domain key, and older ones retired.
   */
  domainKeys?: RewrapReport;
}

class NotDue extends Error {}

function deletionDue(key: LiveKey, now: number): boolean {
  const { state, deletionDate } = key.record;
  return state === "PendingDeletion" && deletionDate !== null &&
    deletionDate <= now;
}

function rotationDue(key: LiveKey, now: number): boolean {
  const { state, rotationPeriodDays, nextRotationAt } = key.record;
  return state === "Enabled" && rotationPeriodDays !== null &&
    nextRotationAt !== null &&
    nextRotationAt <= now;
}

/** Throws NotDue when `due` no longer holds (a call changed the key meanwhile). */
function still(due: () => boolean): () => void {
  return () => {
    if (!due()) throw new NotDue();
  };
}

/**
 * Destroys HSM material that interrupted work left behind, deletes every
 * key whose deletion date has come (metadata, aliases and the HSM material
 * of all its versions) and rotates every enabled key whose automatic
 * rotation is due (once, however late; the next date counts from now).
 * Each key's work is checked again right before it is done, and one key's
 * failure does not hold up the others.
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
  const { recovered, failures } = await ring.recover();
  const report: MaintenanceReport = {
    deleted: [],
    rotated: [],
    recovered,
    recoveryFailures: failures,
    failed: [],
  };
  for (const keyId of await ring.store.dueKeys(now)) {
    try {
      const key = await ring.get(keyId);
      if (key === undefined) continue;
      if (deletionDue(key, now)) {
        await ring.delete(key, still(() => deletionDue(key, now)));
        report.deleted.push(keyId);
      } else if (rotationDue(key, now)) {
        await ring.rotate(key, "AUTOMATIC", still(() => rotationDue(key, now)));
        // Rotation may have been turned off while the new material was made.
        const period = key.record.rotationPeriodDays;
        await ring.update(key, {
          nextRotationAt: period === null ? null : now + period * DAY_MS,
        });
        report.rotated.push(keyId);
      }
    } catch (error) {
      if (!(error instanceof NotDue)) {
        report.failed.push({ keyId, error: (error as Error).message });
      }
    }
  }
  return report;
}
