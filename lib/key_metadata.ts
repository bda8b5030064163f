/**
 * `KeyMetadata` as AWS KMS describes a key, in camelCase.
 * @module
 */
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
  keyUsage: "ENCRYPT_DECRYPT";
  keyState: KeyState;
  deletionDate?: Date;
  pendingDeletionWindowInDays?: number;
  origin: "AWS_KMS";
  keyManager: "CUSTOMER";
  /** Deprecated by AWS in favour of `keySpec`; sent for older clients. */
  customerMasterKeySpec: "SYMMETRIC_DEFAULT";
  keySpec: "SYMMETRIC_DEFAULT";
  encryptionAlgorithms: ["SYMMETRIC_DEFAULT"];
  multiRegion: false;
  /** okms: whether this is the account's default CMK (never deletable). */
  isDefault: boolean;
}

/**
 * The metadata of a stored key.
 *
 * @example
 * ```ts
 * const metadata = keyMetadata(record, "eu-west-2");
 * console.log(metadata.arn);
 * ```
 */
export function keyMetadata(record: KeyRecord, region: string): KeyMetadata {
  const metadata: KeyMetadata = {
    awsAccountId: record.accountId,
    keyId: record.keyId,
    arn: keyArn(region, record.accountId, record.keyId),
    creationDate: new Date(record.createdAt),
    enabled: record.state === "Enabled",
    description: record.description,
    keyUsage: "ENCRYPT_DECRYPT",
    keyState: record.state,
    origin: "AWS_KMS",
    keyManager: "CUSTOMER",
    customerMasterKeySpec: "SYMMETRIC_DEFAULT",
    keySpec: "SYMMETRIC_DEFAULT",
    encryptionAlgorithms: ["SYMMETRIC_DEFAULT"],
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
