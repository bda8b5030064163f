/**
 * Whole messages in memory: encrypt bytes into an AWS Encryption SDK
 * message, decrypt one back.
 * @module
 */
import { type DecryptOptions, MessageDecryptor } from "./decryptor.ts";
import { type EncryptOptions, MessageEncryptor } from "./encryptor.ts";
import type { EnvelopeKeyring } from "./keyring.ts";
import { concatBytes } from "./wire.ts";

/**
 * Encrypts `plaintext` into an AWS Encryption SDK message (format version
 * 2, key commitment, framed) under a new data key, encrypted under each CMK
 * of `options.keyIds`.
 *
 * @throws {ValidationException} for bad options; the keyring's errors for
 * failed KMS calls.
 * @example
 * ```ts
 * const keyring = okmsKeyring(account);
 * const message = await encryptMessage(keyring, utf8("attack at dawn"), {
 *   keyIds: ["alias/files"],
 *   encryptionContext: { purpose: "backup" },
 * });
 * ```
 */
export async function encryptMessage(
  keyring: EnvelopeKeyring,
  plaintext: Uint8Array,
  options: EncryptOptions,
): Promise<Uint8Array> {
  const { encryptor, header } = await MessageEncryptor.start(keyring, options);
  const frames = await encryptor.write(plaintext);
  return concatBytes([header, frames, ...await encryptor.finish()]);
}

/** A decrypted message. */
export interface DecryptedMessage {
  plaintext: Uint8Array;
  /** The message's whole encryption context (with `aws-crypto-public-key` when signed). */
  encryptionContext: Record<string, string>;
  /** The ARNs of the CMKs the message's data keys are under, in order. */
  keyIds: string[];
}

/**
 * Decrypts an AWS Encryption SDK message (format version 2, framed; signed
 * or not), returning nothing unless every byte checked out: commitment,
 * header, every frame and its place, the end, and the signature.
 *
 * @throws {InvalidCiphertextException} when the message was altered,
 * truncated, extended, or lacks a required context pair;
 * {@linkcode IncorrectKeyException} when no data key is under an allowed CMK;
 * the keyring's errors when KMS decrypts none.
 * @example
 * ```ts
 * const { plaintext, encryptionContext } = await decryptMessage(keyring, message, {
 *   encryptionContext: { purpose: "backup" },
 * });
 * ```
 */
export async function decryptMessage(
  keyring: EnvelopeKeyring,
  message: Uint8Array,
  options: DecryptOptions = {},
): Promise<DecryptedMessage> {
  let encryptionContext: Record<string, string> = {};
  let keyIds: string[] = [];
  const parts: Uint8Array[] = [];
  const decryptor = new MessageDecryptor(
    keyring,
    options,
    (plaintext) => parts.push(plaintext),
    (header) => ({ encryptionContext, keyIds } = header),
  );
  await decryptor.write(message);
  await decryptor.finish();
  const plaintext = concatBytes(parts);
  for (const part of parts) part.fill(0); // the caller's copy is the only one
  return { plaintext, encryptionContext, keyIds };
}
