/**
 * Key states: EnableKey, DisableKey, ScheduleKeyDeletion, CancelKeyDeletion.
 * @module
 */
import type { AccountScope } from "../account_scope.ts";
import { UnsupportedOperationException } from "../errors.ts";
import type { KeyState } from "../metadata_store.ts";
import { DAY_MS, requireInteger } from "../validation.ts";
import type { KeyIdInput } from "./keys.ts";

/** ScheduleKeyDeletion's input. */
export interface ScheduleKeyDeletionInput extends KeyIdInput {
  /** 7 to 30; 30 when absent. */
  pendingWindowInDays?: number;
}

/** ScheduleKeyDeletion's output. */
export interface ScheduleKeyDeletionOutput {
  /** The key ARN. */
  keyId: string;
  deletionDate: Date;
  keyState: KeyState;
  pendingWindowInDays: number;
}

/** Puts a key in `state` (no change when it is there already). */
async function switchKey(
  scope: AccountScope,
  keyId: unknown,
  operation: "EnableKey" | "DisableKey",
  state: "Enabled" | "Disabled",
): Promise<void> {
  const key = await scope.keyNotAlias(keyId, operation);
  if (key.record.state !== state) await scope.update(key, operation, { state });
}

/** Enables a disabled key (no change when already enabled). */
export function enableKey(
  scope: AccountScope,
  input: KeyIdInput,
): Promise<void> {
  return switchKey(scope, input?.keyId, "EnableKey", "Enabled");
}

/** Disables a key: it can no longer encrypt or decrypt until enabled. */
export function disableKey(
  scope: AccountScope,
  input: KeyIdInput,
): Promise<void> {
  return switchKey(scope, input?.keyId, "DisableKey", "Disabled");
}

/**
 * Schedules a key's deletion after a waiting period. While it waits the key
 * cannot be used and can be recovered with CancelKeyDeletion; then its HSM
 * material is destroyed for good. The default key cannot be deleted.
 */
export async function scheduleKeyDeletion(
  scope: AccountScope,
  input: ScheduleKeyDeletionInput,
): Promise<ScheduleKeyDeletionOutput> {
  const days = input?.pendingWindowInDays === undefined
    ? 30
    : requireInteger("PendingWindowInDays", input.pendingWindowInDays, 7, 30);
  const key = await scope.keyNotAlias(input.keyId, "ScheduleKeyDeletion");
  if (key.record.isDefault) {
    throw new UnsupportedOperationException(
      `${scope.arn(key)} is the account's default key, which cannot be deleted`,
    );
  }
  const deletionDate = scope.kms.now() + days * DAY_MS;
  await scope.update(key, "ScheduleKeyDeletion", {
    state: "PendingDeletion",
    deletionDate,
    pendingWindowDays: days,
  });
  return {
    keyId: scope.arn(key),
    deletionDate: new Date(deletionDate),
    keyState: "PendingDeletion",
    pendingWindowInDays: days,
  };
}

/** Cancels a scheduled deletion; the key comes back Disabled, as in AWS. */
export async function cancelKeyDeletion(
  scope: AccountScope,
  input: KeyIdInput,
): Promise<{ keyId: string }> {
  const key = await scope.keyNotAlias(input?.keyId, "CancelKeyDeletion");
  await scope.update(key, "CancelKeyDeletion", {
    state: "Disabled",
    deletionDate: null,
    pendingWindowDays: null,
  });
  return { keyId: scope.arn(key) };
}
