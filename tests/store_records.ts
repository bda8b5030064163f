/**
 * Records for store tests: a fresh enabled key with one version.
 * @module
 */
import type { KeyRecord } from "../lib/metadata_store.ts";

/**
 * A new enabled key of `accountId`, with one version of fresh material id,
 * and `changes` on top.
 *
 * @example
 * ```ts
 * await store.insertKey(newKeyRecord("111111111111"), 20);
 * ```
 */
export function newKeyRecord(
  accountId: string,
  changes: Partial<KeyRecord> = {},
): KeyRecord {
  return {
    keyId: crypto.randomUUID(),
    accountId,
    description: "",
    state: "Enabled",
    isDefault: false,
    createdAt: Date.now(),
    deletionDate: null,
    pendingWindowDays: null,
    tags: [],
    rotationPeriodDays: null,
    nextRotationAt: null,
    versions: [{
      version: 1,
      materialId: crypto.getRandomValues(new Uint8Array(16)),
      createdAt: Date.now(),
      encryptionsReserved: 0,
      origin: "CREATE",
    }],
    ...changes,
  };
}
