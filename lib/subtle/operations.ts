/**
 * WebCrypto's operation parameters as AWS KMS algorithms, for a given
 * {@linkcode OkmsKey}: which `SigningAlgorithmSpec`, `MacAlgorithmSpec` or
 * `EncryptionAlgorithmSpec` a `sign`, `verify` or `decrypt` call means,
 * and the checks WebCrypto makes of the key first.
 * @module
 */
import type {
  EncryptionAlgorithm,
  MacAlgorithm,
  SigningAlgorithm,
} from "../asymmetric/key_specs.ts";
import type { OkmsKey } from "../okms_key.ts";
import {
  type AlgorithmName,
  algorithmName,
  type HashName,
  hashName,
  invalidAccess,
  notSupported,
} from "./names.ts";

/** A signature in AWS terms: a MAC, or a signature over a digest (or, Ed25519, the message). */
export type Signing =
  | { mac: MacAlgorithm }
  | { signing: SigningAlgorithm; hash?: HashName };

const HASH_BYTES: Partial<Record<HashName, number>> = {
  "SHA-256": 32,
  "SHA-384": 48,
  "SHA-512": 64,
};

/** `SHA-256` as AWS spells it in algorithm names: `SHA_256`. */
const aws = (hash: HashName) => hash.replace("-", "_");

/** The hash bound to an RSA or HMAC key. */
const keyHash = (key: OkmsKey) =>
  hashName((key.algorithm as RsaHashedKeyAlgorithm).hash);

/**
 * The algorithm of `params`, after checking that `key` is a key of that
 * algorithm allowing `usage` (WebCrypto's `InvalidAccessError` otherwise).
 *
 * @example
 * ```ts
 * requireKey(key, { name: "RSA-OAEP" }, "decrypt"); // "RSA-OAEP"
 * ```
 */
export function requireKey(
  key: OkmsKey,
  params: unknown,
  usage: KeyUsage,
): AlgorithmName {
  const name = algorithmName(params);
  if (name !== key.algorithm.name) {
    throw invalidAccess(`the key is a ${key.algorithm.name} key, not ${name}`);
  }
  if (!key.usages.includes(usage)) {
    throw invalidAccess(`the key does not allow ${usage}`);
  }
  return name;
}

/**
 * The AWS algorithm of a `sign` or `verify` call with `params` on `key`
 * (already checked by {@linkcode requireKey}). RSA-PSS must use AWS's
 * salt, as long as the hash; ECDSA must use the one hash AWS pairs with
 * the key's curve.
 *
 * @throws {DOMException} `NotSupportedError` for parameters AWS KMS has no
 * algorithm for.
 * @example
 * ```ts
 * signing(p256Key, { name: "ECDSA", hash: "SHA-256" }); // { signing: "ECDSA_SHA_256", hash: "SHA-256" }
 * ```
 */
export function signing(key: OkmsKey, params: Algorithm): Signing {
  const name = algorithmName(params);
  switch (name) {
    case "HMAC":
      return { mac: `HMAC_${aws(keyHash(key))}` as MacAlgorithm };
    case "Ed25519":
      return { signing: "ED25519_SHA_512" };
    case "RSASSA-PKCS1-v1_5": {
      const hash = keyHash(key);
      return {
        signing: `RSASSA_PKCS1_V1_5_${aws(hash)}` as SigningAlgorithm,
        hash,
      };
    }
    case "RSA-PSS": {
      const hash = keyHash(key);
      const { saltLength } = params as RsaPssParams;
      if (saltLength !== HASH_BYTES[hash]) {
        throw notSupported(
          `AWS KMS's RSA-PSS with ${hash} uses a ${
            HASH_BYTES[hash]
          }-byte salt (the hash's length), not ${saltLength}`,
        );
      }
      return { signing: `RSASSA_PSS_${aws(hash)}` as SigningAlgorithm, hash };
    }
    case "ECDSA": {
      const hash = hashName((params as EcdsaParams).hash);
      const algorithm = `ECDSA_${aws(hash)}` as SigningAlgorithm;
      if (key.metadata.signingAlgorithms?.includes(algorithm) !== true) {
        throw notSupported(
          `AWS KMS signs with ${
            (key.algorithm as EcKeyAlgorithm).namedCurve
          } keys using ${
            key.metadata.signingAlgorithms?.join(", ")
          }, not ${algorithm}`,
        );
      }
      return { signing: algorithm, hash };
    }
    default:
      throw notSupported(`${name} does not sign`);
  }
}

/**
 * The AWS algorithm of an RSA-OAEP `decrypt` with `params` on `key`: the
 * key's hash; AWS KMS has no OAEP label, so only an empty one is taken.
 *
 * @throws {DOMException} `NotSupportedError` for a label.
 * @example
 * ```ts
 * oaep(rsaKey, { name: "RSA-OAEP" }); // "RSAES_OAEP_SHA_1"
 * ```
 */
export function oaep(key: OkmsKey, params: RsaOaepParams): EncryptionAlgorithm {
  if (params.label !== undefined && params.label.byteLength > 0) {
    throw notSupported("AWS KMS's RSA-OAEP takes no label");
  }
  return `RSAES_OAEP_${aws(keyHash(key))}` as EncryptionAlgorithm;
}
