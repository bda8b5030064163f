/**
 * Which operations a key's state allows, with AWS's errors.
 * @module
 */
import { DisabledException, KMSInvalidStateException } from "./errors.ts";
import type { KeyState } from "./metadata_store.ts";

/**
 * Throws the error AWS KMS gives when a cryptographic operation (Encrypt,
 * Decrypt, GenerateDataKey*, ReEncrypt) meets a key in `state`: a disabled
 * key is `DisabledException`, a key pending deletion
 * `KMSInvalidStateException`.
 *
 * @example
 * ```ts
 * assertCryptoAllowed("Disabled", arn); // throws DisabledException
 * ```
 */
export function assertCryptoAllowed(state: KeyState, arn: string): void {
  if (state === "Disabled") {
    throw new DisabledException(`${arn} is disabled`);
  }
  if (state === "PendingDeletion") {
    throw new KMSInvalidStateException(`${arn} is pending deletion`);
  }
}
