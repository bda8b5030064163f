/**
 * What a KMS key looks like to WebCrypto: the `type`, `algorithm` and
 * `usages` of an {@linkcode OkmsKey} on a key of some AWS KeySpec and
 * KeyUsage. An AWS key may serve several WebCrypto algorithms (an RSA
 * SIGN_VERIFY key signs PSS and PKCS#1 v1.5 with SHA-256, -384 or -512),
 * a WebCrypto key exactly one: a handle is one choice among them.
 * @module
 */
import {
  KEY_SPECS,
  type KeySpec,
  type KeyUsage as AwsKeyUsage,
} from "../asymmetric/key_specs.ts";
import {
  type AlgorithmName,
  algorithmName,
  type HashName,
  hashName,
  invalidAccess,
  notSupported,
} from "./names.ts";

/** `CryptoKey.algorithm` of an okms key. */
export type OkmsKeyAlgorithm =
  | AesKeyAlgorithm
  | RsaHashedKeyAlgorithm
  | EcKeyAlgorithm
  | HmacKeyAlgorithm
  | KeyAlgorithm;

/** The WebCrypto face of a handle on a KMS key. */
export interface KeyHandle {
  /** `"secret"` (AES, HMAC) or `"private"` (the HSM half of a key pair). */
  readonly type: "secret" | "private";
  readonly algorithm: Readonly<OkmsKeyAlgorithm>;
  readonly usages: readonly KeyUsage[];
}

/** A WebCrypto algorithm to use a KMS key with: its name, and the hash of RSA keys. */
export interface AlgorithmChoice {
  name: string;
  /** RSA keys: SHA-256, SHA-384 or SHA-512 to sign; SHA-1 or SHA-256 for OAEP. */
  hash?: HashAlgorithmIdentifier;
}

/** WebCrypto's usages of each algorithm: the HSM half's, and the public key's. */
const USAGES: Readonly<
  Record<AlgorithmName, { own: KeyUsage[]; public?: KeyUsage[] }>
> = {
  "AES-GCM": { own: ["encrypt", "decrypt"] },
  HMAC: { own: ["sign", "verify"] },
  "RSA-PSS": { own: ["sign"], public: ["verify"] },
  "RSASSA-PKCS1-v1_5": { own: ["sign"], public: ["verify"] },
  ECDSA: { own: ["sign"], public: ["verify"] },
  Ed25519: { own: ["sign"], public: ["verify"] },
  "RSA-OAEP": { own: ["decrypt"], public: ["encrypt"] },
  ECDH: { own: ["deriveBits"], public: [] },
};

/** The WebCrypto algorithms one AWS key can be used with. */
interface Family {
  readonly names: readonly AlgorithmName[];
  /** The key's hashes, the default first; none where the key has no hash. */
  readonly hashes?: readonly HashName[];
  algorithm(name: AlgorithmName, hash?: HashName): OkmsKeyAlgorithm;
}

const RSA_SIGNING = ["RSA-PSS", "RSASSA-PKCS1-v1_5"] as const;
const RSA_SIGNING_HASHES = ["SHA-256", "SHA-384", "SHA-512"] as const;
/** OAEP with SHA-1 first: AWS lists it first, and every HSM okms runs on has it. */
const OAEP_HASHES = ["SHA-1", "SHA-256"] as const;

function family(
  keySpec: "SYMMETRIC_DEFAULT" | KeySpec,
  keyUsage: AwsKeyUsage,
): Family {
  if (keySpec === "SYMMETRIC_DEFAULT") {
    return { names: ["AES-GCM"], algorithm: (name) => ({ name, length: 256 }) };
  }
  const material = KEY_SPECS[keySpec].material;
  switch (material.kind) {
    case "RSA": {
      const signing = keyUsage === "SIGN_VERIFY";
      return {
        names: signing ? RSA_SIGNING : ["RSA-OAEP"],
        hashes: signing ? RSA_SIGNING_HASHES : OAEP_HASHES,
        algorithm: (name, hash) => ({
          name,
          modulusLength: material.bits,
          publicExponent: Uint8Array.of(1, 0, 1),
          hash: { name: hash! },
        }),
      };
    }
    case "EC": {
      const namedCurve = material.curve.name;
      if (namedCurve === "Ed25519") {
        return { names: ["Ed25519"], algorithm: (name) => ({ name }) };
      }
      return {
        names: [keyUsage === "KEY_AGREEMENT" ? "ECDH" : "ECDSA"],
        algorithm: (name) => ({ name, namedCurve }),
      };
    }
    case "HMAC": {
      const length = material.bytes * 8;
      return {
        names: ["HMAC"],
        hashes: [`SHA-${length}` as HashName],
        algorithm: (name, hash) => ({ name, hash: { name: hash! }, length }),
      };
    }
  }
}

/**
 * The WebCrypto face of a key of `keySpec` and `keyUsage`: as `choice`
 * asks, or the first algorithm and hash the key serves (RSA: RSA-PSS with
 * SHA-256, RSA-OAEP with SHA-1); `usages` narrow the algorithm's usages.
 *
 * @throws {DOMException} `NotSupportedError` when the key cannot serve
 * `choice`.
 * @example
 * ```ts
 * keyHandle("RSA_2048", "SIGN_VERIFY", { name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }).usages; // ["sign"]
 * keyHandle("ECC_NIST_P256", "KEY_AGREEMENT").algorithm; // { name: "ECDH", namedCurve: "P-256" }
 * ```
 */
export function keyHandle(
  keySpec: "SYMMETRIC_DEFAULT" | KeySpec,
  keyUsage: AwsKeyUsage,
  choice?: AlgorithmChoice,
  usages?: readonly KeyUsage[],
): KeyHandle {
  const { names, hashes, algorithm } = family(keySpec, keyUsage);
  const name = choice === undefined ? names[0] : algorithmName(choice);
  if (!names.includes(name)) {
    throw notSupported(
      `a ${keySpec} ${keyUsage} key serves ${names.join(" or ")}, not ${name}`,
    );
  }
  const hash = choice?.hash === undefined || hashes === undefined
    ? hashes?.[0]
    : hashName(choice.hash);
  if (hash !== undefined && !hashes!.includes(hash)) {
    throw notSupported(
      `a ${keySpec} ${keyUsage} key does ${name} with ${
        hashes!.join(" or ")
      }, not ${hash}`,
    );
  }
  const own = USAGES[name].own;
  return {
    type: USAGES[name].public === undefined ? "secret" : "private",
    algorithm: Object.freeze(algorithm(name, hash)),
    usages: Object.freeze(
      usages === undefined ? own : own.filter((u) => usages.includes(u)),
    ),
  };
}

/**
 * The usages of a generated key's two halves, as `generateKey` gives them:
 * those asked for, split between the HSM half and the public key (which
 * secret keys have none of).
 *
 * @throws {DOMException} `SyntaxError` when a usage does not belong to the
 * algorithm or none is left for the HSM half (as WebCrypto).
 * @example
 * ```ts
 * generatedUsages("ECDSA", ["sign", "verify"]); // { own: ["sign"], public: ["verify"] }
 * ```
 */
export function generatedUsages(
  name: AlgorithmName,
  requested: readonly KeyUsage[],
): { own: KeyUsage[]; public?: KeyUsage[] } {
  const { own, public: open } = USAGES[name];
  const allowed = [...own, ...open ?? []];
  const foreign = requested.filter((usage) => !allowed.includes(usage));
  const mine = own.filter((usage) => requested.includes(usage));
  if (foreign.length > 0 || mine.length === 0) {
    throw new DOMException(
      `${name} keys take the usages ${allowed.join(", ")}${
        open === undefined ? "" : ` (${own.join(", ")} for the okms key)`
      }; asked: ${requested.join(", ") || "none"}`,
      "SyntaxError",
    );
  }
  return {
    own: mine,
    public: open?.filter((usage) => requested.includes(usage)),
  };
}

/**
 * The usages of the public key of a handle's algorithm.
 *
 * @throws {DOMException} `InvalidAccessError` for secret keys, which have
 * no public key.
 * @example
 * ```ts
 * publicUsages("RSA-OAEP"); // ["encrypt"]
 * ```
 */
export function publicUsages(name: AlgorithmName): KeyUsage[] {
  const usages = USAGES[name].public;
  if (usages === undefined) {
    throw invalidAccess(`${name} keys are secret: they have no public key`);
  }
  return usages;
}
