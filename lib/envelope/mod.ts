/**
 * Envelope encryption in the AWS Encryption SDK message format (version 2,
 * key commitment, framed, optionally ECDSA P-384 signed), over bytes and
 * over streams, with data keys from any {@linkcode EnvelopeKeyring}: an
 * okms account in process, or a KMS server reached over HTTP. Messages
 * written here decrypt with the AWS Encryption SDKs' KMS keyrings, and the
 * other way round.
 *
 * @example
 * ```ts
 * const keyring = okmsKeyring(account);
 * const sealed = await encryptMessage(keyring, data, { keyIds: ["alias/files"] });
 * const { plaintext } = await decryptMessage(keyring, sealed);
 * ```
 * @module
 */
export type { EnvelopeDataKey, EnvelopeKeyring } from "./keyring.ts";
export { okmsKeyring } from "./keyring.ts";
export type { EncryptOptions } from "./encryptor.ts";
export type { DecryptedHeader, DecryptOptions } from "./decryptor.ts";
export type { DecryptedMessage } from "./messages.ts";
export { decryptMessage, encryptMessage } from "./messages.ts";
export type { DecryptStreamOptions } from "./streams.ts";
export { decryptStream, encryptStream } from "./streams.ts";
export { remoteKeyring } from "./remote_kms.ts";
export type { RemoteKmsOptions } from "./remote_kms.ts";
export { cachingKeyring } from "./caching_keyring.ts";
export {
  DEFAULT_FRAME_LENGTH,
  SUITE_COMMIT_KEY,
  SUITE_COMMIT_KEY_ECDSA_P384,
} from "./suites.ts";
