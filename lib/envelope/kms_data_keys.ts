/**
 * Encrypted data keys as the AWS Encryption SDK's KMS keyring writes them:
 * provider id `aws-kms`, provider info the CMK's ARN (UTF-8), ciphertext the
 * KMS ciphertext blob. The first CMK generates the data key
 * (GenerateDataKey), each further one encrypts it (Encrypt); on decrypt the
 * keys are tried in header order with Decrypt naming the ARN, and the first
 * that decrypts wins. Every call carries the message's encryption context.
 * @module
 */
import type { EncryptionContext } from "../encryption_context.ts";
import { IncorrectKeyException, ValidationException } from "../errors.ts";
import type { EncryptedDataKey } from "./header.ts";
import type { EnvelopeKeyring } from "./keyring.ts";
import { DATA_KEY_BYTES } from "./suites.ts";
import { invalidMessage } from "./wire.ts";

/** The provider id of KMS-encrypted data keys. */
export const KMS_PROVIDER_ID = "aws-kms";

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function checkDataKey(plaintext: Uint8Array): Uint8Array<ArrayBuffer> {
  if (plaintext.length !== DATA_KEY_BYTES) {
    plaintext.fill(0);
    throw invalidMessage(`a data key of ${plaintext.length} bytes, not 32`);
  }
  return plaintext as Uint8Array<ArrayBuffer>;
}

/**
 * A new data key and its encryptions under every CMK of `keyIds`, in order.
 * The caller zeroes `dataKey`.
 *
 * @example
 * ```ts
 * const { dataKey, encryptedDataKeys } = await wrapDataKey(keyring, [arnA, arnB], context);
 * ```
 */
export async function wrapDataKey(
  keyring: EnvelopeKeyring,
  keyIds: readonly string[],
  encryptionContext: EncryptionContext,
): Promise<
  { dataKey: Uint8Array<ArrayBuffer>; encryptedDataKeys: EncryptedDataKey[] }
> {
  if (!Array.isArray(keyIds) || keyIds.length === 0) {
    throw new ValidationException("keyIds must name at least one CMK");
  }
  const [generator, ...others] = keyIds;
  const generated = await keyring.generateDataKey(generator, encryptionContext);
  const dataKey = checkDataKey(generated.plaintext);
  try {
    const encryptedDataKeys = [
      kmsDataKey(generated.keyId, generated.ciphertextBlob),
    ];
    for (const keyId of others) {
      const more = await keyring.encrypt(keyId, dataKey, encryptionContext);
      encryptedDataKeys.push(kmsDataKey(more.keyId, more.ciphertextBlob));
    }
    return { dataKey, encryptedDataKeys };
  } catch (error) {
    dataKey.fill(0);
    throw error;
  }
}

function kmsDataKey(arn: string, ciphertext: Uint8Array): EncryptedDataKey {
  return {
    providerId: KMS_PROVIDER_ID,
    providerInfo: utf8.encode(arn),
    ciphertext,
  };
}

/** A KMS key ARN (the SDK's KMS keyring skips data keys without one). */
const KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[^/]+$/;

function arnOf(key: EncryptedDataKey): string | undefined {
  if (key.providerId !== KMS_PROVIDER_ID) return undefined;
  try {
    const arn = strictUtf8.decode(key.providerInfo);
    return KEY_ARN.test(arn) ? arn : undefined;
  } catch {
    return undefined;
  }
}

/** The CMK ARNs of the `aws-kms` data keys among `encryptedDataKeys`, in order. */
export function kmsKeyArns(
  encryptedDataKeys: readonly EncryptedDataKey[],
): string[] {
  return encryptedDataKeys.flatMap((key) => arnOf(key) ?? []);
}

/**
 * The data key of a message, from the first of its `aws-kms` encrypted data
 * keys that the keyring decrypts; only those under `allowedKeyIds` (ARNs)
 * when given (the SDK's strict mode), else any (discovery). The caller
 * zeroes the result.
 *
 * @throws {IncorrectKeyException} when no encrypted data key is under an
 * allowed CMK; the first KMS error when none of those could be decrypted.
 */
export async function unwrapDataKey(
  keyring: EnvelopeKeyring,
  encryptedDataKeys: readonly EncryptedDataKey[],
  encryptionContext: EncryptionContext,
  allowedKeyIds?: readonly string[],
): Promise<Uint8Array<ArrayBuffer>> {
  const candidates = encryptedDataKeys.flatMap((key) => {
    const arn = arnOf(key);
    const allowed = arn !== undefined &&
      (allowedKeyIds === undefined || allowedKeyIds.includes(arn));
    return allowed ? [{ arn, ciphertext: key.ciphertext }] : [];
  });
  if (candidates.length === 0) {
    throw new IncorrectKeyException(
      allowedKeyIds === undefined
        ? "The message has no data key encrypted by KMS"
        : "None of the message's data keys is encrypted under an allowed CMK",
    );
  }
  const errors: unknown[] = [];
  for (const { arn, ciphertext } of candidates) {
    try {
      const out = await keyring.decrypt(arn, ciphertext, encryptionContext);
      if (out.keyId !== arn) {
        out.plaintext.fill(0);
        throw invalidMessage("KMS decrypted a data key under another CMK");
      }
      return checkDataKey(out.plaintext);
    } catch (error) {
      errors.push(error);
    }
  }
  throw errors[0];
}
