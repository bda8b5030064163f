/**
 * Cryptographic operations: Encrypt, Decrypt, GenerateDataKey,
 * GenerateDataKeyWithoutPlaintext, ReEncrypt, GenerateRandom. Encrypt and
 * Decrypt with an RSA algorithm branch to `rsa_crypto.ts`.
 * @module
 */
import type { AccountScope } from "../account_scope.ts";
import type { EncryptionAlgorithm as RsaEncryptionAlgorithm } from "../asymmetric/key_specs.ts";
import { parseBlob } from "../ciphertext_blob.ts";
import { open } from "../cmk_cipher.ts";
import { DataKey } from "../data_key.ts";
import {
  canonicalContext,
  type EncryptionContext,
} from "../encryption_context.ts";
import {
  IncorrectKeyException,
  InvalidCiphertextException,
  ValidationException,
} from "../errors.ts";
import type { LiveKey } from "../key_ring.ts";
import { assertAllowed, type KeyOperation } from "../key_state.ts";
import { requireBytes, requireInteger, requireOneOf } from "../validation.ts";
import { decryptRsa, encryptRsa } from "./rsa_crypto.ts";

/** The only encryption algorithm of symmetric CMKs. */
export type SymmetricEncryptionAlgorithm = "SYMMETRIC_DEFAULT";
/** Encrypt's and Decrypt's algorithms: symmetric, or RSA-OAEP for RSA keys. */
export type EncryptionAlgorithm =
  | SymmetricEncryptionAlgorithm
  | RsaEncryptionAlgorithm;

/** Encrypt's input. */
export interface EncryptInput {
  /** Key id, key ARN, alias name or alias ARN. */
  keyId: string;
  /** 1 to 4096 bytes. */
  plaintext: Uint8Array;
  /** Symmetric keys only. */
  encryptionContext?: EncryptionContext;
  /** Required (RSAES_OAEP_*) for an RSA key; SYMMETRIC_DEFAULT otherwise. */
  encryptionAlgorithm?: EncryptionAlgorithm;
}

/** Encrypt's output. */
export interface EncryptOutput {
  ciphertextBlob: Uint8Array;
  /** The key ARN. */
  keyId: string;
  encryptionAlgorithm: EncryptionAlgorithm;
}

/** Decrypt's input. */
export interface DecryptInput {
  ciphertextBlob: Uint8Array;
  /** The exact context the ciphertext was made with. */
  encryptionContext?: EncryptionContext;
  /**
   * When given, the ciphertext must be under this key; required for an RSA
   * ciphertext, which does not name its key.
   */
  keyId?: string;
  /** Required (RSAES_OAEP_*) for an RSA ciphertext. */
  encryptionAlgorithm?: EncryptionAlgorithm;
}

/** Decrypt's output. */
export interface DecryptOutput {
  plaintext: Uint8Array<ArrayBuffer>;
  /** The ARN of the key that decrypted. */
  keyId: string;
  encryptionAlgorithm: EncryptionAlgorithm;
}

/** GenerateDataKey's input: exactly one of `keySpec` and `numberOfBytes`. */
export interface GenerateDataKeyInput {
  keyId: string;
  keySpec?: "AES_128" | "AES_256";
  /** 1 to 1024. */
  numberOfBytes?: number;
  encryptionContext?: EncryptionContext;
}

/** GenerateDataKeyWithoutPlaintext's output. */
export interface DataKeyCiphertext {
  ciphertextBlob: Uint8Array;
  /** The key ARN. */
  keyId: string;
}

/** ReEncrypt's input. */
export interface ReEncryptInput {
  ciphertextBlob: Uint8Array;
  sourceEncryptionContext?: EncryptionContext;
  /** When given, the ciphertext must be under this key. */
  sourceKeyId?: string;
  destinationKeyId: string;
  destinationEncryptionContext?: EncryptionContext;
  sourceEncryptionAlgorithm?: SymmetricEncryptionAlgorithm;
  destinationEncryptionAlgorithm?: SymmetricEncryptionAlgorithm;
}

/** ReEncrypt's output. */
export interface ReEncryptOutput {
  ciphertextBlob: Uint8Array;
  /** ARN of the key that decrypted. */
  sourceKeyId: string;
  /** ARN of the key that encrypted. */
  keyId: string;
  sourceEncryptionAlgorithm: SymmetricEncryptionAlgorithm;
  destinationEncryptionAlgorithm: SymmetricEncryptionAlgorithm;
}

/** Largest plaintext a CMK encrypts, as AWS KMS. */
export const MAX_PLAINTEXT_BYTES = 4096;
/** Largest data key or random string, as AWS KMS. */
export const MAX_DATA_KEY_BYTES = 1024;

const DATA_KEY_SPEC_BYTES = { AES_128: 16, AES_256: 32 } as const;
const ALGORITHM = "SYMMETRIC_DEFAULT" as const;

function checkAlgorithm(name: string, value: unknown): void {
  if (value !== undefined) requireOneOf(name, value, [ALGORITHM]);
}

/** Whether an Encrypt or Decrypt takes the asymmetric branch (any other value). */
function asymmetric(algorithm: unknown): boolean {
  return algorithm !== undefined && algorithm !== ALGORITHM;
}

function dataKeySize(input: GenerateDataKeyInput): number {
  const { keySpec, numberOfBytes } = input ?? {};
  if ((keySpec === undefined) === (numberOfBytes === undefined)) {
    throw new ValidationException(
      "give exactly one of KeySpec and NumberOfBytes",
    );
  }
  if (keySpec !== undefined) {
    return DATA_KEY_SPEC_BYTES[
      requireOneOf("KeySpec", keySpec, ["AES_128", "AES_256"])
    ];
  }
  return requireInteger("NumberOfBytes", numberOfBytes, 1, MAX_DATA_KEY_BYTES);
}

/**
 * Encrypts 1 to 4096 bytes under a CMK, bound to an optional context; with
 * an RSAES_OAEP_* algorithm, a few hundred bytes under an RSA key (see
 * {@linkcode encryptRsa}).
 */
export async function encrypt(
  scope: AccountScope,
  input: EncryptInput,
): Promise<EncryptOutput> {
  if (asymmetric(input?.encryptionAlgorithm)) return encryptRsa(scope, input);
  const plaintext = requireBytes(
    "Plaintext",
    input?.plaintext,
    1,
    MAX_PLAINTEXT_BYTES,
  );
  const context = canonicalContext(input.encryptionContext);
  const key = scope.keyNow(input.keyId, "Encrypt") ??
    await scope.key(input.keyId, "Encrypt");
  scope.requireUsage(key, "Encrypt", "SYMMETRIC");
  const sealed = scope.seal(key, plaintext, context);
  return {
    ciphertextBlob: sealed instanceof Promise ? await sealed : sealed,
    keyId: scope.arn(key),
    encryptionAlgorithm: ALGORITHM,
  };
}

/**
 * Opens a blob of this account: the blob names its key; `keyId`, when given,
 * must be that key. The caller owns (and should zero) the plaintext.
 */
async function openBlob(
  scope: AccountScope,
  operation: KeyOperation,
  blobInput: unknown,
  contextInput: EncryptionContext | undefined,
  keyId: string | undefined,
): Promise<{ key: LiveKey; plaintext: Uint8Array<ArrayBuffer> }> {
  const blob = requireBytes("CiphertextBlob", blobInput, 1, 6144);
  const context = canonicalContext(contextInput);
  const named = keyId === undefined ? undefined : await scope.resolve(keyId);
  const parsed = parseBlob(blob);
  let key = scope.cachedOwnKey(parsed.keyId) ??
    await scope.ownKey(parsed.keyId);
  let version = key?.versions.get(parsed.keyVersion);
  if (
    key !== undefined && version === undefined &&
    parsed.keyVersion > key.current.record.version
  ) {
    // In a cluster, another node may have made that version just now.
    key = await scope.reread(key);
    version = key?.versions.get(parsed.keyVersion);
  }
  if (key === undefined || version === undefined) {
    throw new InvalidCiphertextException(
      "the ciphertext was not made under a key of this account",
    );
  }
  if (named !== undefined && named !== key) {
    throw new IncorrectKeyException(
      `the ciphertext was not made under ${scope.arn(named)}`,
    );
  }
  scope.requireUsage(key, operation, "SYMMETRIC");
  assertAllowed(operation, key.record.state, () => scope.arn(key));
  const handle = scope.kms.ring.handle(key, version);
  return { key, plaintext: open(scope.kms.hsm, handle, blob, context) };
}

/**
 * Decrypts a blob from Encrypt, GenerateDataKey* or ReEncrypt; with an
 * RSAES_OAEP_* algorithm, an RSA ciphertext (see {@linkcode decryptRsa}).
 *
 * @throws {InvalidCiphertextException} when the blob is damaged, foreign,
 * or the encryption context is not the one it was made with.
 */
export async function decrypt(
  scope: AccountScope,
  input: DecryptInput,
): Promise<DecryptOutput> {
  if (asymmetric(input?.encryptionAlgorithm)) return decryptRsa(scope, input);
  const { key, plaintext } = await openBlob(
    scope,
    "Decrypt",
    input?.ciphertextBlob,
    input.encryptionContext,
    input.keyId,
  );
  return { plaintext, keyId: scope.arn(key), encryptionAlgorithm: ALGORITHM };
}

/**
 * Decrypts an encrypted data key (from GenerateDataKey*) back into a
 * disposable {@linkcode DataKey}, ready for `toCryptoKey()`: the other half
 * of envelope encryption.
 */
export async function decryptDataKey(
  scope: AccountScope,
  input: DecryptInput,
): Promise<DataKey> {
  const { plaintext, keyId } = await decrypt(scope, input);
  return new DataKey(keyId, input.ciphertextBlob, plaintext);
}

/**
 * A fresh data key from the HSM's RNG and its blob, without waiting when the
 * key is cached. The caller owns the plaintext and must zero it.
 */
async function newDataKey(scope: AccountScope, input: GenerateDataKeyInput) {
  const size = dataKeySize(input);
  const context = canonicalContext(input.encryptionContext);
  const key = scope.keyNow(input.keyId, "GenerateDataKey") ??
    await scope.key(input.keyId, "GenerateDataKey");
  scope.requireUsage(key, "GenerateDataKey", "SYMMETRIC");
  const plaintext = scope.kms.hsm.random(size);
  try {
    const sealed = scope.seal(key, plaintext, context);
    const ciphertextBlob = sealed instanceof Promise ? await sealed : sealed;
    return { keyId: scope.arn(key), ciphertextBlob, plaintext };
  } catch (error) {
    plaintext.fill(0);
    throw error;
  }
}

/**
 * A new data key from the HSM's RNG, in plaintext and encrypted under the
 * CMK. Dispose of it (`using`) to zero the plaintext.
 */
export async function generateDataKey(
  scope: AccountScope,
  input: GenerateDataKeyInput,
): Promise<DataKey> {
  const { keyId, ciphertextBlob, plaintext } = await newDataKey(scope, input);
  return new DataKey(keyId, ciphertextBlob, plaintext);
}

/** As GenerateDataKey, returning only the encrypted data key. */
export async function generateDataKeyWithoutPlaintext(
  scope: AccountScope,
  input: GenerateDataKeyInput,
): Promise<DataKeyCiphertext> {
  const { keyId, ciphertextBlob, plaintext } = await newDataKey(scope, input);
  plaintext.fill(0);
  return { ciphertextBlob, keyId };
}

/**
 * Decrypts under the source key and encrypts under the destination key
 * inside okms: the plaintext is never returned, and is zeroed after use.
 */
export async function reEncrypt(
  scope: AccountScope,
  input: ReEncryptInput,
): Promise<ReEncryptOutput> {
  checkAlgorithm("SourceEncryptionAlgorithm", input?.sourceEncryptionAlgorithm);
  checkAlgorithm(
    "DestinationEncryptionAlgorithm",
    input.destinationEncryptionAlgorithm,
  );
  const destinationContext = canonicalContext(
    input.destinationEncryptionContext,
  );
  const destination = await scope.key(input.destinationKeyId, "ReEncrypt");
  scope.requireUsage(destination, "ReEncrypt", "SYMMETRIC");
  const source = await openBlob(
    scope,
    "ReEncrypt",
    input.ciphertextBlob,
    input.sourceEncryptionContext,
    input.sourceKeyId,
  );
  try {
    return {
      ciphertextBlob: await scope.seal(
        destination,
        source.plaintext,
        destinationContext,
      ),
      sourceKeyId: scope.arn(source.key),
      keyId: scope.arn(destination),
      sourceEncryptionAlgorithm: ALGORITHM,
      destinationEncryptionAlgorithm: ALGORITHM,
    };
  } finally {
    source.plaintext.fill(0);
  }
}

/** 1 to 1024 random bytes from the HSM's RNG. */
// deno-lint-ignore require-await -- async so a bad input rejects, not throws
export async function generateRandom(
  scope: AccountScope,
  input: { numberOfBytes: number },
): Promise<{ plaintext: Uint8Array }> {
  const size = requireInteger(
    "NumberOfBytes",
    input?.numberOfBytes,
    1,
    MAX_DATA_KEY_BYTES,
  );
  return { plaintext: scope.kms.hsm.random(size) };
}
