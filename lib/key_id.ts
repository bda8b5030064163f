/**
 * Key ids, ARNs and alias names: parsing and formatting.
 * @module
 */
import { ValidationException } from "./errors.ts";

const KEY_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/;
const ALIAS_ARN = /^arn:aws:kms:([a-z0-9-]+):(\d{12}):(alias\/.+)$/;

/** A new random 12-digit account id (no leading zero). */
export function newAccountId(): string {
  const digits = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(digits, (d, i) => i === 0 ? 1 + d % 9 : d % 10).join("");
}

/** The 16 bytes of a key id, as stored in a ciphertext header. */
export function keyIdToBytes(keyId: string): Uint8Array {
  return Uint8Array.fromHex(keyId.replaceAll("-", ""));
}

const HEX = Array.from(
  { length: 256 },
  (_, i) => i.toString(16).padStart(2, "0"),
);

/** The key id whose 16 bytes start at `offset` (as in a ciphertext header). */
export function keyIdFromBytes(bytes: Uint8Array, offset = 0): string {
  let id = "";
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) id += "-";
    id += HEX[bytes[offset + i]];
  }
  return id;
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
