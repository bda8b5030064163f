/**
 * `KeyMetadata` as AWS KMS describes a key, in camelCase.
 * @module
 */
import {
  KEY_SPECS,
  type KeySpec,
  type KeyUsage,
  type UsageAlgorithms,
} from "./asymmetric/key_specs.ts";
import { keyArn } from "./key_id.ts";
import type { KeyRecord, KeyState } from "./metadata_store.ts";

/** A key as DescribeKey, CreateKey and friends return it. */
export interface KeyMetadata {
  awsAccountId: string;
  keyId: string;
  arn: string;
  creationDate: Date;
  enabled: boolean;
  description: string;
  keyUsage: KeyUsage;
  keyState: KeyState;
  deletionDate?: Date;
  pendingDeletionWindowInDays?: number;
  origin: "AWS_KMS";
  keyManager: "CUSTOMER";
  /** Deprecated by AWS in favour of `keySpec`; sent for older clients. */
  customerMasterKeySpec: "SYMMETRIC_DEFAULT" | KeySpec;
  keySpec: "SYMMETRIC_DEFAULT" | KeySpec;
  /** The algorithms of the key's usage, as AWS lists them (one list each). */
  encryptionAlgorithms?: readonly string[];
  signingAlgorithms?: readonly string[];
  macAlgorithms?: readonly string[];
  keyAgreementAlgorithms?: readonly string[];
  multiRegion: false;
  /** okms: whether this is the account's default CMK (never deletable). */
  isDefault: boolean;
}

const SYMMETRIC: Readonly<Record<string, readonly string[]>> = {
  EncryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
};

/** The algorithm lists of a key, named as in KeyMetadata. */
function algorithms(
  keySpec: KeySpec | undefined,
  keyUsage: KeyUsage | undefined,
  refused: ReadonlySet<string>,
): Pick<
  KeyMetadata,
  | "encryptionAlgorithms"
  | "signingAlgorithms"
  | "macAlgorithms"
  | "keyAgreementAlgorithms"
> {
  const lists: UsageAlgorithms | typeof SYMMETRIC = keySpec === undefined
    ? SYMMETRIC
    : KEY_SPECS[keySpec].usages[keyUsage!] ?? {};
  return Object.fromEntries(
    Object.entries(lists).map((
      [name, list],
    ) => [
      name[0].toLowerCase() + name.slice(1),
      list.filter((algorithm: string) => !refused.has(algorithm)),
    ]),
  );
}

/**
 * The metadata of a stored key, without the algorithms the HSM `refused`
 * (see `lib/asymmetric/hsm_support.ts`).
 *
 * @example
 * ```ts
 * const metadata = keyMetadata(record, "eu-west-2");
 * console.log(metadata.arn);
 * ```
 */
export function keyMetadata(
  record: KeyRecord,
  region: string,
  refused: ReadonlySet<string> = new Set(),
): KeyMetadata {
  const metadata: KeyMetadata = {
    awsAccountId: record.accountId,
    keyId: record.keyId,
    arn: keyArn(region, record.accountId, record.keyId),
    creationDate: new Date(record.createdAt),
    enabled: record.state === "Enabled",
    description: record.description,
    keyUsage: record.keyUsage ?? "ENCRYPT_DECRYPT",
    keyState: record.state,
    origin: "AWS_KMS",
    keyManager: "CUSTOMER",
    customerMasterKeySpec: record.keySpec ?? "SYMMETRIC_DEFAULT",
    keySpec: record.keySpec ?? "SYMMETRIC_DEFAULT",
    ...algorithms(record.keySpec, record.keyUsage, refused),
    multiRegion: false,
    isDefault: record.isDefault,
  };
  if (record.deletionDate !== null) {
    metadata.deletionDate = new Date(record.deletionDate);
  }
  if (record.pendingWindowDays !== null) {
    metadata.pendingDeletionWindowInDays = record.pendingWindowDays;
  }
  return metadata;
}
