/**
 * Key ids, ARNs and alias names: parsing and formatting.
 * @module
 */
import { ValidationException } from "./errors.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const KEY_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(alias\/.+)$/;

/** Whether `value` is a key id (a lower-case UUID). */
export function isKeyId(value: string): boolean {
  return UUID.test(value);
}

/** The 16 bytes of a key id, as stored in a ciphertext header. */
export function keyIdToBytes(keyId: string): Uint8Array {
  return Uint8Array.fromHex(keyId.replaceAll("-", ""));
}

/** The key id written as 16 bytes in a ciphertext header. */
export function keyIdFromBytes(bytes: Uint8Array): string {
  const hex = bytes.toHex();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${
    hex.slice(16, 20)
  }-${hex.slice(20)}`;
}

/** A key's ARN. */
export function keyArn(region: string, accountId: string, keyId: string) {
  return `arn:aws:kms:${region}:${accountId}:key/${keyId}`;
}

/** An alias's ARN. */
export function aliasArn(region: string, accountId: string, alias: string) {
  return `arn:aws:kms:${region}:${accountId}:${alias}`;
}

/** What a `KeyId` argument names, once its form is known. */
export type KeyReference =
  | { kind: "key"; keyId: string; accountId?: string; region?: string }
  | { kind: "alias"; aliasName: string; accountId?: string; region?: string };

/**
 * Reads a `KeyId` argument in any form AWS accepts: key id, key ARN, alias
 * name (`alias/…`) or alias ARN. Whether it exists is checked elsewhere.
 *
 * @throws {ValidationException} when it is empty, too long or of no form.
 * @example
 * ```ts
 * parseKeyReference("alias/orders"); // { kind: "alias", aliasName: "alias/orders" }
 * ```
 */
export function parseKeyReference(value: unknown): KeyReference {
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) {
    throw new ValidationException(
      "KeyId must be a key id, key ARN, alias name or alias ARN of 1 to 2048 characters",
    );
  }
  if (value.startsWith("alias/")) return { kind: "alias", aliasName: value };
  const keyArnMatch = KEY_ARN.exec(value);
  if (keyArnMatch) {
    const [, region, accountId, keyId] = keyArnMatch;
    return { kind: "key", keyId: keyId.toLowerCase(), accountId, region };
  }
  const aliasArnMatch = ALIAS_ARN.exec(value);
  if (aliasArnMatch) {
    const [, region, accountId, aliasName] = aliasArnMatch;
    return { kind: "alias", aliasName, accountId, region };
  }
  if (value.startsWith("arn:")) {
    throw new ValidationException(`KeyId ${value} is not a valid KMS ARN`);
  }
  return { kind: "key", keyId: value.toLowerCase() };
}
