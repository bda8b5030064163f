/**
 * Key rotation: EnableKeyRotation, DisableKeyRotation, GetKeyRotationStatus,
 * RotateKeyOnDemand, ListKeyRotations.
 * @module
 */
import type { AccountScope } from "../account_scope.ts";
import {
  LimitExceededException,
  UnsupportedOperationException,
} from "../errors.ts";
import type { LiveKey } from "../key_ring.ts";
import type { KeyVersionRecord } from "../metadata_store.ts";
import { page, pageRequest } from "../pagination.ts";
import { DAY_MS, requireInteger } from "../validation.ts";
import type { KeyIdInput } from "./keys.ts";

/** EnableKeyRotation's input. */
export interface EnableKeyRotationInput extends KeyIdInput {
  /** 90 to 2560; 365 when absent. */
  rotationPeriodInDays?: number;
}

/** GetKeyRotationStatus' output. */
export interface KeyRotationStatus {
  /** The key ARN. */
  keyId: string;
  keyRotationEnabled: boolean;
  rotationPeriodInDays?: number;
  nextRotationDate?: Date;
}

/** One rotation as ListKeyRotations returns it. */
export interface KeyRotation {
  /** The key id. */
  keyId: string;
  rotationDate: Date;
  rotationType: "AUTOMATIC" | "ON_DEMAND";
}

/** ListKeyRotations' input. */
export interface ListKeyRotationsInput extends KeyIdInput {
  /** 1 to 1000; 100 when absent. */
  limit?: number;
  marker?: string;
}

/** ListKeyRotations' output. */
export interface ListKeyRotationsOutput {
  rotations: KeyRotation[];
  nextMarker?: string;
  truncated: boolean;
}

/** On-demand rotations allowed per key, as AWS. */
export const MAX_ON_DEMAND_ROTATIONS = 10;

/**
 * Turns automatic rotation on (or changes its period): new HSM material every
 * `rotationPeriodInDays`, counted from now, or from the current schedule's
 * start when only the period changes.
 */
export async function enableKeyRotation(
  scope: AccountScope,
  input: EnableKeyRotationInput,
): Promise<void> {
  const days = input?.rotationPeriodInDays === undefined ? 365 : requireInteger(
    "RotationPeriodInDays",
    input.rotationPeriodInDays,
    90,
    2560,
  );
  const key = await scope.keyNotAlias(input.keyId, "EnableKeyRotation");
  refuseAsymmetric(scope, key, "EnableKeyRotation");
  const { rotationPeriodDays, nextRotationAt } = key.record;
  const now = scope.kms.now();
  const start = rotationPeriodDays !== null && nextRotationAt !== null
    ? nextRotationAt - rotationPeriodDays * DAY_MS
    : now;
  await scope.update(key, "EnableKeyRotation", {
    rotationPeriodDays: days,
    nextRotationAt: Math.max(now, start + days * DAY_MS),
  });
}

/**
 * AWS rotates only symmetric keys: an asymmetric or HMAC key's public key
 * (or MACs) would change under its users.
 *
 * @throws {UnsupportedOperationException} for such a key.
 */
function refuseAsymmetric(
  scope: AccountScope,
  key: LiveKey,
  operation: string,
): void {
  if (key.record.keySpec !== undefined) {
    throw new UnsupportedOperationException(
      `${operation}: ${
        scope.arn(key)
      } is a ${key.record.keySpec} key, and only SYMMETRIC_DEFAULT keys rotate`,
    );
  }
}

/** Turns automatic rotation off; existing versions stay. */
export async function disableKeyRotation(
  scope: AccountScope,
  input: KeyIdInput,
): Promise<void> {
  const key = await scope.keyNotAlias(input?.keyId, "DisableKeyRotation");
  refuseAsymmetric(scope, key, "DisableKeyRotation");
  await scope.update(key, "DisableKeyRotation", {
    rotationPeriodDays: null,
    nextRotationAt: null,
  });
}

/** Whether automatic rotation is on, its period and next date. */
export async function getKeyRotationStatus(
  scope: AccountScope,
  input: KeyIdInput,
): Promise<KeyRotationStatus> {
  const key = await scope.keyNotAlias(input?.keyId, "GetKeyRotationStatus");
  const { rotationPeriodDays, nextRotationAt } = key.record;
  return {
    keyId: scope.arn(key),
    keyRotationEnabled: rotationPeriodDays !== null,
    ...(rotationPeriodDays !== null && nextRotationAt !== null
      ? {
        rotationPeriodInDays: rotationPeriodDays,
        nextRotationDate: new Date(nextRotationAt),
      }
      : {}),
  };
}

/**
 * Rotates now: new HSM material encrypts from now on; every older version
 * still decrypts its ciphertexts. At most 10 times per key.
 */
export async function rotateKeyOnDemand(
  scope: AccountScope,
  input: KeyIdInput,
): Promise<{ keyId: string }> {
  scope.assertOwner("RotateKeyOnDemand");
  const key = await scope.keyNotAlias(input?.keyId, "RotateKeyOnDemand");
  refuseAsymmetric(scope, key, "RotateKeyOnDemand");
  // Checked again inside the key's rotation queue, after earlier rotations.
  await scope.kms.ring.rotate(key, "ON_DEMAND", () => {
    scope.recheck(key, "RotateKeyOnDemand");
    const onDemand = key.record.versions.filter((v) =>
      v.origin === "ON_DEMAND"
    );
    if (onDemand.length >= MAX_ON_DEMAND_ROTATIONS) {
      throw new LimitExceededException(
        `${
          scope.arn(key)
        } was rotated on demand ${MAX_ON_DEMAND_ROTATIONS} times already`,
      );
    }
  });
  return { keyId: scope.arn(key) };
}

function rotationType(version: KeyVersionRecord): KeyRotation["rotationType"] {
  return version.origin === "ON_DEMAND" ? "ON_DEMAND" : "AUTOMATIC";
}

/** The key's rotations, oldest first, a page at a time. */
export async function listKeyRotations(
  scope: AccountScope,
  input: ListKeyRotationsInput,
): Promise<ListKeyRotationsOutput> {
  const { limit, after = 1 } = pageRequest(
    input,
    100,
    1000,
    Number.isInteger as (v: unknown) => v is number,
  );
  const key = await scope.keyNotAlias(input.keyId, "ListKeyRotations");
  const rotations = key.record.versions.filter((v) => v.version > after).slice(
    0,
    limit + 1,
  );
  const { items, ...rest } = page(rotations, limit, (v) => v.version);
  return {
    rotations: items.map((v) => ({
      keyId: key.record.keyId,
      rotationDate: new Date(v.createdAt),
      rotationType: rotationType(v),
    })),
    ...rest,
  };
}
