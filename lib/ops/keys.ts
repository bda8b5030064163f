/**
 * Key operations: CreateKey, DescribeKey, ListKeys, UpdateKeyDescription.
 * @module
 */
import type { AccountScope } from "../account_scope.ts";
import {
  KEY_SPECS,
  type KeySpec,
  type KeyUsage,
} from "../asymmetric/key_specs.ts";
import { allowedMechanisms } from "../asymmetric/templates.ts";
import {
  NotFoundException,
  UnsupportedOperationException,
  ValidationException,
} from "../errors.ts";
import type { MaterialKind } from "../material/key_material.ts";
import { keyArn } from "../key_id.ts";
import type { KeyMetadata } from "../key_metadata.ts";
import type { KeyCursor, Tag } from "../metadata_store.ts";
import { OkmsKey } from "../okms_key.ts";
import { page, pageRequest } from "../pagination.ts";
import { requireString, requireTags } from "../validation.ts";

/** CreateKey's input. */
export interface CreateKeyInput {
  /** At most 8192 characters. */
  description?: string;
  /** At most 50; key 1..128 characters, value 0..256. */
  tags?: Tag[];
  /**
   * `ENCRYPT_DECRYPT` (the default, for symmetric and RSA keys),
   * `SIGN_VERIFY` (RSA, ECC), `KEY_AGREEMENT` (NIST ECC) or
   * `GENERATE_VERIFY_MAC` (HMAC); required but for symmetric keys.
   */
  keyUsage?: string;
  /**
   * `SYMMETRIC_DEFAULT` (AES-256-GCM, the default), `RSA_2048`/`3072`/`4096`,
   * `ECC_NIST_P256`/`P384`/`P521`, `ECC_SECG_P256K1`,
   * `ECC_NIST_EDWARDS25519`, `HMAC_224`/`256`/`384`/`512`: as AWS KMS.
   */
  keySpec?: string;
  /** Only `AWS_KMS`: material is always generated in the HSM. */
  origin?: string;
}

/** ListKeys' input. */
export interface ListKeysInput {
  /** 1 to 1000; 100 when absent. */
  limit?: number;
  /** `nextMarker` of the previous page. */
  marker?: string;
}

/** ListKeys' output. */
export interface ListKeysOutput {
  keys: { keyId: string; keyArn: string }[];
  /** Present when `truncated`: pass it as `marker` for the next page. */
  nextMarker?: string;
  truncated: boolean;
}

/** A `keyId` argument alone. */
export interface KeyIdInput {
  /** Key id, key ARN, alias name or alias ARN. */
  keyId: string;
}

/** Longest key description, as AWS KMS. */
export const MAX_DESCRIPTION_LENGTH = 8192;

function checkSupported(name: string, value: unknown, supported: string) {
  if (value !== undefined && value !== supported) {
    throw new UnsupportedOperationException(
      `${name} ${String(value)} is not supported: okms keys are ${supported}`,
    );
  }
}

function description(value: unknown): string {
  return requireString("Description", value, 0, MAX_DESCRIPTION_LENGTH);
}

function isCursor(value: unknown): value is [number, string] {
  return Array.isArray(value) && Number.isInteger(value[0]) &&
    typeof value[1] === "string";
}

/**
 * The material kind a CreateKey asks for: nothing for a symmetric key, or
 * an asymmetric or HMAC spec with a usage it allows and whose mechanisms
 * the HSM offers.
 */
function materialKind(
  scope: AccountScope,
  keySpec: unknown,
  keyUsage: unknown,
): MaterialKind {
  if (keySpec === undefined || keySpec === "SYMMETRIC_DEFAULT") {
    if (keyUsage !== undefined && keyUsage !== "ENCRYPT_DECRYPT") {
      throw new ValidationException(
        `KeyUsage ${
          String(keyUsage)
        } needs an asymmetric or HMAC KeySpec; SYMMETRIC_DEFAULT keys are ENCRYPT_DECRYPT`,
      );
    }
    return {};
  }
  if (typeof keySpec !== "string" || !Object.hasOwn(KEY_SPECS, keySpec)) {
    throw new ValidationException(
      `KeySpec must be SYMMETRIC_DEFAULT or one of ${
        Object.keys(KEY_SPECS).join(", ")
      }`,
    );
  }
  const spec = keySpec as KeySpec;
  const usages = Object.keys(KEY_SPECS[spec].usages);
  // AWS's default usage, where the spec has it (RSA); the others name theirs.
  keyUsage ??= "ENCRYPT_DECRYPT";
  if (typeof keyUsage !== "string" || !usages.includes(keyUsage)) {
    throw new ValidationException(
      `KeySpec ${spec} needs KeyUsage ${usages.join(" or ")}`,
    );
  }
  const usage = keyUsage as KeyUsage;
  const offered = scope.kms.hsm.mechanisms;
  const missing = mechanismsOf(allowedMechanisms(spec, usage))
    .filter((mechanism) => !offered.has(mechanism));
  if (missing.length > 0) {
    throw new UnsupportedOperationException(
      `the HSM does not offer the mechanisms KeySpec ${spec} with KeyUsage ${usage} needs (CKM 0x${
        missing.map((m) => m.toString(16)).join(", 0x")
      })`,
    );
  }
  return { keySpec: spec, keyUsage: usage };
}

/** The `CKM_*` values packed in a `CKA_ALLOWED_MECHANISMS` attribute. */
function mechanismsOf(packed: Uint8Array): number[] {
  return Array.from(
    new BigUint64Array(packed.buffer, packed.byteOffset, packed.length / 8),
    Number,
  );
}

/**
 * Creates a CMK, its material generated in the HSM: AES-256 by default, or
 * an asymmetric or HMAC key of `keySpec` for `keyUsage`.
 */
export async function createKey(
  scope: AccountScope,
  input: CreateKeyInput = {},
): Promise<OkmsKey> {
  const text = input.description === undefined
    ? ""
    : description(input.description);
  const tags = input.tags === undefined ? [] : requireTags(input.tags);
  checkSupported("Origin", input.origin, "AWS_KMS");
  const kind = materialKind(scope, input.keySpec, input.keyUsage);
  const key = await scope.kms.ring.create({
    keyId: crypto.randomUUID(),
    accountId: scope.accountId,
    description: text,
    tags,
    isDefault: false,
    ...kind,
  }, scope.kms.keyQuota);
  return new OkmsKey(scope.metadata(key));
}

/** The metadata of a key, in any state. */
export async function describeKey(
  scope: AccountScope,
  input: KeyIdInput,
): Promise<KeyMetadata> {
  const key = await scope.key(input?.keyId, "DescribeKey");
  return scope.metadata(key);
}

/** The account's default CMK, which exists from the account's creation. */
export async function defaultKey(scope: AccountScope): Promise<OkmsKey> {
  const record = await scope.kms.ring.store.getDefaultKey(scope.accountId);
  if (record === undefined) {
    throw new NotFoundException(
      `account ${scope.accountId} has no default key`,
    );
  }
  return new OkmsKey(await describeKey(scope, { keyId: record.keyId }));
}

/** The account's keys in creation order, a page at a time. */
export async function listKeys(
  scope: AccountScope,
  input: ListKeysInput = {},
): Promise<ListKeysOutput> {
  const { limit, after } = pageRequest(input, 100, 1000, isCursor);
  const cursor: KeyCursor | undefined = after &&
    { createdAt: after[0], keyId: after[1] };
  const fetched = await scope.kms.ring.store.listKeys(
    scope.accountId,
    cursor,
    limit + 1,
  );
  const { items, ...rest } = page(
    fetched,
    limit,
    (k) => [k.createdAt, k.keyId],
  );
  return {
    keys: items.map((k) => ({
      keyId: k.keyId,
      keyArn: keyArn(scope.kms.region, k.accountId, k.keyId),
    })),
    ...rest,
  };
}

/** Replaces a key's description (at most 8192 characters). */
export async function updateKeyDescription(
  scope: AccountScope,
  input: KeyIdInput & { description: string },
): Promise<void> {
  const text = description(input?.description);
  const key = await scope.keyNotAlias(input.keyId, "UpdateKeyDescription");
  await scope.update(key, "UpdateKeyDescription", { description: text });
}
