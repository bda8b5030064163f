/**
 * Which operations a key's state allows, with AWS's errors (the key state
 * table of the AWS KMS developer guide).
 * @module
 */
import {
  DisabledException,
  type KmsError,
  KMSInvalidStateException,
} from "./errors.ts";
import type { KeyState } from "./metadata_store.ts";

type Refusal = (arn: string) => KmsError;

const disabled: Refusal = (arn) =>
  new DisabledException(`${arn} is disabled`, { keyArn: arn });
const pendingDeletion: Refusal = (arn) =>
  new KMSInvalidStateException(`${arn} is pending deletion`, { keyArn: arn });
const notPendingDeletion: Refusal = (arn) =>
  new KMSInvalidStateException(`${arn} is not pending deletion`, {
    keyArn: arn,
  });

/** How each state answers one kind of operation: allowed, or refused. */
type Rule = Readonly<Record<KeyState, Refusal | undefined>>;

const CRYPTO: Rule = {
  Enabled: undefined,
  Disabled: disabled,
  PendingDeletion: pendingDeletion,
};
const MANAGE: Rule = {
  Enabled: undefined,
  Disabled: undefined,
  PendingDeletion: pendingDeletion,
};
const READ: Rule = {
  Enabled: undefined,
  Disabled: undefined,
  PendingDeletion: undefined,
};
const CANCEL: Rule = {
  Enabled: notPendingDeletion,
  Disabled: notPendingDeletion,
  PendingDeletion: undefined,
};

const RULES = {
  Encrypt: CRYPTO,
  Decrypt: CRYPTO,
  GenerateDataKey: CRYPTO,
  ReEncrypt: CRYPTO,
  Sign: CRYPTO,
  Verify: CRYPTO,
  GetPublicKey: CRYPTO,
  GenerateMac: CRYPTO,
  VerifyMac: CRYPTO,
  DeriveSharedSecret: CRYPTO,
  GenerateDataKeyPair: CRYPTO,
  GenerateDataKeyPairWithoutPlaintext: CRYPTO,
  EnableKeyRotation: CRYPTO,
  DisableKeyRotation: CRYPTO,
  RotateKeyOnDemand: CRYPTO,
  EnableKey: MANAGE,
  DisableKey: MANAGE,
  ScheduleKeyDeletion: MANAGE,
  CreateAlias: MANAGE,
  UpdateAlias: MANAGE,
  TagResource: MANAGE,
  UntagResource: MANAGE,
  UpdateKeyDescription: MANAGE,
  DescribeKey: READ,
  GetKeyRotationStatus: READ,
  ListKeyRotations: READ,
  ListResourceTags: READ,
  CancelKeyDeletion: CANCEL,
} as const satisfies Record<string, Rule>;

/** An operation that acts on an existing key. */
export type KeyOperation = keyof typeof RULES;

/**
 * Throws the error AWS KMS gives when `operation` meets a key in `state`:
 * for example `DisabledException` for Encrypt on a disabled key, and
 * `KMSInvalidStateException` for EnableKey on a key pending deletion.
 *
 * The ARN, for the message, is only computed when the operation is refused.
 *
 * @example
 * ```ts
 * assertAllowed("Encrypt", "Disabled", () => arn); // throws DisabledException
 * ```
 */
export function assertAllowed(
  operation: KeyOperation,
  state: KeyState,
  arn: () => string,
): void {
  const refuse = RULES[operation][state];
  if (refuse) throw refuse(arn());
}
