/**
 * An asymmetric key's public key, as the store keeps it (DER SPKI), and as
 * a short-lived HSM object to verify or encrypt with.
 * @module
 */
import type { AccountScope } from "../account_scope.ts";
import { importPublicKey } from "../asymmetric/key_generation.ts";
import type { KeyUsage } from "../asymmetric/key_specs.ts";
import { KeyUnavailableException } from "../errors.ts";
import type { LiveKey } from "../key_ring.ts";

/**
 * The key's public key, DER SubjectPublicKeyInfo.
 *
 * @throws {KeyUnavailableException} when the store holds none.
 * @example
 * ```ts
 * const spki = publicKeyOf(scope, key);
 * ```
 */
export function publicKeyOf(scope: AccountScope, key: LiveKey): Uint8Array {
  const spki = key.current.record.publicKey;
  if (spki === undefined) {
    throw new KeyUnavailableException(
      `the store holds no public key for ${scope.arn(key)}`,
      { keyArn: scope.arn(key) },
    );
  }
  return spki;
}

/**
 * Runs `use` with the key's public key as a session object of the HSM for
 * `usage` (verify or encrypt), destroyed afterwards. A public key object
 * per call keeps nothing to manage when the key is deleted or the session
 * logs in again; it costs far less than the operation itself.
 *
 * @example
 * ```ts
 * const valid = await withPublicKey(scope, key, "SIGN_VERIFY", (handle) => verify(hsm, handle, request, signature));
 * ```
 */
export async function withPublicKey<T>(
  scope: AccountScope,
  key: LiveKey,
  usage: KeyUsage,
  use: (handle: number) => T | Promise<T>,
): Promise<T> {
  const { hsm } = scope.kms;
  const handle = importPublicKey(
    hsm,
    key.record.keySpec!,
    usage,
    publicKeyOf(scope, key),
  );
  try {
    return await use(handle);
  } finally {
    hsm.destroy(handle);
  }
}
