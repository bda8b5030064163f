/**
 * `generateKey`'s WebCrypto parameters as the AWS KeySpec and KeyUsage of
 * the CMK to create.
 * @module
 */
import type {
  KeySpec,
  KeyUsage as AwsKeyUsage,
} from "../asymmetric/key_specs.ts";
import {
  type AlgorithmName,
  algorithmName,
  hashName,
  notSupported,
} from "./names.ts";

/** The parameters `okms.subtle.generateKey` takes. */
export type OkmsKeyGenParams =
  | { name: "AES-GCM"; length?: 256 }
  | HmacKeyGenParams
  | RsaHashedKeyGenParams
  | EcKeyGenParams
  | { name: "Ed25519" };

/** A CMK to create, and the WebCrypto algorithm its handle is for. */
export interface KeyRequest {
  keySpec: "SYMMETRIC_DEFAULT" | KeySpec;
  keyUsage: AwsKeyUsage;
  /** The handle's algorithm (see `keyHandle`). */
  choice: { name: AlgorithmName; hash?: HashAlgorithmIdentifier };
}

const NIST_CURVES: Readonly<Record<string, KeySpec>> = {
  "P-256": "ECC_NIST_P256",
  "P-384": "ECC_NIST_P384",
  "P-521": "ECC_NIST_P521",
};

const RSA_BITS = [2048, 3072, 4096];

function member<T>(params: object, name: string): T {
  const value = (params as Record<string, unknown>)[name];
  if (value === undefined) {
    throw new TypeError(`the algorithm needs its ${name}`);
  }
  return value as T;
}

function rsaSpec(params: object): KeySpec {
  const bits = member<number>(params, "modulusLength");
  if (!RSA_BITS.includes(bits)) {
    throw notSupported(
      `AWS KMS RSA keys are ${RSA_BITS.join(", ")} bits, not ${bits}`,
    );
  }
  const exponent = member<Uint8Array>(params, "publicExponent");
  if (BigInt(`0x${Uint8Array.from(exponent).toHex() || "0"}`) !== 65537n) {
    throw notSupported("AWS KMS RSA keys have the public exponent 65537");
  }
  return `RSA_${bits}` as KeySpec;
}

function curveSpec(params: object): KeySpec {
  const curve = String(member(params, "namedCurve"));
  const spec = NIST_CURVES[curve];
  if (spec === undefined) {
    throw notSupported(
      `okms's WebCrypto face makes P-256, P-384 and P-521 keys, not ${curve}`,
    );
  }
  return spec;
}

function hmacSpec(params: object): KeySpec {
  const hash = hashName(member(params, "hash"));
  const bits = Number(hash.slice(4));
  const length = (params as { length?: number }).length;
  if (hash === "SHA-1" || (length !== undefined && length !== bits)) {
    throw notSupported(
      `AWS KMS HMAC keys are SHA-224, -256, -384 or -512 keys as long as the hash, not ${hash}${
        length === undefined ? "" : ` with ${length} bits`
      }`,
    );
  }
  return `HMAC_${bits}` as KeySpec;
}

/**
 * The CMK `generateKey(params)` creates.
 *
 * @throws {DOMException} `NotSupportedError` for an algorithm or a
 * parameter AWS KMS has no key for.
 * @throws {TypeError} when a required member is missing.
 * @example
 * ```ts
 * keyRequest({ name: "ECDSA", namedCurve: "P-384" }); // ECC_NIST_P384, SIGN_VERIFY
 * ```
 */
export function keyRequest(params: OkmsKeyGenParams): KeyRequest {
  const name = algorithmName(params);
  const hash = (params as { hash?: HashAlgorithmIdentifier }).hash;
  switch (name) {
    case "AES-GCM": {
      const length = (params as { length?: number }).length;
      if (length !== undefined && length !== 256) {
        throw notSupported(`okms CMKs are AES-256, not AES-${length}`);
      }
      return {
        keySpec: "SYMMETRIC_DEFAULT",
        keyUsage: "ENCRYPT_DECRYPT",
        choice: { name },
      };
    }
    case "HMAC":
      return {
        keySpec: hmacSpec(params),
        keyUsage: "GENERATE_VERIFY_MAC",
        choice: { name, hash },
      };
    case "RSA-PSS":
    case "RSASSA-PKCS1-v1_5":
    case "RSA-OAEP":
      member(params, "hash");
      return {
        keySpec: rsaSpec(params),
        keyUsage: name === "RSA-OAEP" ? "ENCRYPT_DECRYPT" : "SIGN_VERIFY",
        choice: { name, hash },
      };
    case "ECDSA":
    case "ECDH":
      return {
        keySpec: curveSpec(params),
        keyUsage: name === "ECDH" ? "KEY_AGREEMENT" : "SIGN_VERIFY",
        choice: { name },
      };
    case "Ed25519":
      return {
        keySpec: "ECC_NIST_EDWARDS25519",
        keyUsage: "SIGN_VERIFY",
        choice: { name },
      };
  }
}
