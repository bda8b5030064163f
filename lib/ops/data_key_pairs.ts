/**
 * Data key pairs: GenerateDataKeyPair and
 * GenerateDataKeyPairWithoutPlaintext.
 *
 * The pair is generated in this process (node:crypto, from the operating
 * system's CSPRNG), not in the HSM: its private key is handed to the
 * caller in plaintext, so an HSM could protect it only until the export.
 * As AWS says of its data key pairs, they are for use outside KMS; only
 * the encryption of the private key under the CMK happens in the HSM.
 * @module
 */
import { generateKeyPair, type KeyObject } from "node:crypto";
import type { AccountScope } from "../account_scope.ts";
import {
  DataKeyPair,
  type DataKeyPairCiphertext,
  type KeyPairSpec,
} from "../data_key_pair.ts";
import {
  canonicalContext,
  type EncryptionContext,
} from "../encryption_context.ts";
import type { KeyOperation } from "../key_state.ts";
import { requireOneOf } from "../validation.ts";

export type { DataKeyPairCiphertext, KeyPairSpec } from "../data_key_pair.ts";

/** GenerateDataKeyPair's and GenerateDataKeyPairWithoutPlaintext's input. */
export interface GenerateDataKeyPairInput {
  /** A SYMMETRIC_DEFAULT key, which encrypts the private key. */
  keyId: string;
  keyPairSpec: KeyPairSpec;
  /** Bound to the encrypted private key: Decrypt needs the same. */
  encryptionContext?: EncryptionContext;
}

/** How node:crypto makes each spec's pair. */
const GENERATION: Readonly<
  Record<KeyPairSpec, { modulusLength: number } | { namedCurve: string }>
> = {
  RSA_2048: { modulusLength: 2048 },
  RSA_3072: { modulusLength: 3072 },
  RSA_4096: { modulusLength: 4096 },
  ECC_NIST_P256: { namedCurve: "prime256v1" },
  ECC_NIST_P384: { namedCurve: "secp384r1" },
  ECC_NIST_P521: { namedCurve: "secp521r1" },
  ECC_SECG_P256K1: { namedCurve: "secp256k1" },
};

/** Every `KeyPairSpec` okms generates. */
export const KEY_PAIR_SPECS: readonly KeyPairSpec[] = Object.keys(
  GENERATION,
) as KeyPairSpec[];

/** A new pair of `spec`, off the main thread (RSA-4096 takes seconds). */
function newPair(
  spec: KeyPairSpec,
): Promise<{ publicKey: KeyObject; privateKey: KeyObject }> {
  const parameters = GENERATION[spec];
  return new Promise((resolve, reject) => {
    const done = (
      error: Error | null,
      publicKey: KeyObject,
      privateKey: KeyObject,
    ) => error ? reject(error) : resolve({ publicKey, privateKey });
    if ("modulusLength" in parameters) {
      generateKeyPair("rsa", { ...parameters, publicExponent: 65537 }, done);
    } else {
      generateKeyPair("ec", parameters, done);
    }
  });
}

/** `key` as DER, copied into a buffer the caller owns (the export is zeroed). */
function der(key: KeyObject, type: "pkcs8" | "spki"): Uint8Array<ArrayBuffer> {
  const exported = key.export({ type, format: "der" });
  try {
    return new Uint8Array(exported);
  } finally {
    exported.fill(0);
  }
}

/**
 * A new pair with its private key sealed under the CMK. The caller owns
 * `privateKey` (PKCS#8) and must zero it.
 */
async function sealedPair(
  scope: AccountScope,
  input: GenerateDataKeyPairInput,
  operation: KeyOperation,
): Promise<
  { pair: DataKeyPairCiphertext; privateKey: Uint8Array<ArrayBuffer> }
> {
  const keyPairSpec = requireOneOf(
    "KeyPairSpec",
    input?.keyPairSpec,
    KEY_PAIR_SPECS,
  );
  const context = canonicalContext(input.encryptionContext);
  const key = await scope.key(input.keyId, operation);
  scope.requireUsage(key, operation, "SYMMETRIC");
  const generated = await newPair(keyPairSpec);
  const privateKey = der(generated.privateKey, "pkcs8");
  try {
    scope.recheck(key, operation); // the key may have changed meanwhile
    return {
      pair: {
        keyId: scope.arn(key),
        keyPairSpec,
        publicKey: der(generated.publicKey, "spki"),
        privateKeyCiphertextBlob: await scope.seal(key, privateKey, context),
      },
      privateKey,
    };
  } catch (error) {
    privateKey.fill(0);
    throw error;
  }
}

/**
 * A new data key pair: the public key (SPKI), the private key in plaintext
 * (PKCS#8 DER) and encrypted under the symmetric CMK `keyId` with the
 * encryption context, an ordinary ciphertext that Decrypt opens. Dispose
 * of it (`using`) to zero the plaintext private key.
 *
 * @throws {InvalidKeyUsageException} when `keyId` is not a
 * SYMMETRIC_DEFAULT key; {ValidationException} for another `keyPairSpec`.
 * @example
 * ```ts
 * using pair = await generateDataKeyPair(scope, { keyId: "alias/orders", keyPairSpec: "RSA_2048" });
 * const signer = await pair.toCryptoKey({ name: "RSA-PSS", hash: "SHA-256" }, ["sign"]);
 * ```
 */
export async function generateDataKeyPair(
  scope: AccountScope,
  input: GenerateDataKeyPairInput,
): Promise<DataKeyPair> {
  const { pair, privateKey } = await sealedPair(
    scope,
    input,
    "GenerateDataKeyPair",
  );
  return new DataKeyPair(pair, privateKey);
}

/**
 * As {@linkcode generateDataKeyPair}, without the plaintext private key:
 * Decrypt the blob when the private key is needed.
 *
 * @example
 * ```ts
 * const { publicKey, privateKeyCiphertextBlob } = await generateDataKeyPairWithoutPlaintext(
 *   scope, { keyId: "alias/orders", keyPairSpec: "ECC_NIST_P256", encryptionContext: { user: "42" } },
 * );
 * ```
 */
export async function generateDataKeyPairWithoutPlaintext(
  scope: AccountScope,
  input: GenerateDataKeyPairInput,
): Promise<DataKeyPairCiphertext> {
  const { pair, privateKey } = await sealedPair(
    scope,
    input,
    "GenerateDataKeyPairWithoutPlaintext",
  );
  privateKey.fill(0);
  return pair;
}
