/**
 * The two algorithm suites okms writes and reads, and the sizes the message
 * format fixes for them (AWS Encryption SDK message format version 2).
 * @module
 */

/** AES-256-GCM, HKDF-SHA512 key derivation and key commitment. */
export const SUITE_COMMIT_KEY = 0x0478;
/** {@linkcode SUITE_COMMIT_KEY} plus an ECDSA P-384 (SHA-384) signature. */
export const SUITE_COMMIT_KEY_ECDSA_P384 = 0x0578;

/** The message format version of committing suites. */
export const MESSAGE_FORMAT_VERSION = 0x02;
/** Content type "framed" (the only one okms writes or reads). */
export const CONTENT_TYPE_FRAMED = 0x02;

export const MESSAGE_ID_BYTES = 32;
export const DATA_KEY_BYTES = 32;
export const COMMITMENT_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

/** The SDK's default frame length. */
export const DEFAULT_FRAME_LENGTH = 4096;
/** Frame lengths are a UInt32. */
export const MAX_FRAME_LENGTH = 0xffff_ffff;

/** The encryption context key of the signed suite's public key. */
export const PUBLIC_KEY_CONTEXT_KEY = "aws-crypto-public-key";
/** Context keys with this prefix belong to the SDK, not to callers. */
export const RESERVED_CONTEXT_PREFIX = "aws-crypto-";

/** Whether `suiteId` is one of the suites above. */
export function isSupportedSuite(suiteId: number): boolean {
  return suiteId === SUITE_COMMIT_KEY ||
    suiteId === SUITE_COMMIT_KEY_ECDSA_P384;
}

/** Whether the suite signs the message. */
export function isSignedSuite(suiteId: number): boolean {
  return suiteId === SUITE_COMMIT_KEY_ECDSA_P384;
}
