/**
 * WebCrypto's algorithm and hash names as the SubtleCrypto face reads them
 * (case-insensitively, as WebCrypto does), and the `DOMException`s it
 * throws.
 * @module
 */

/** The WebCrypto algorithms okms keys take, in WebCrypto's spelling. */
export type AlgorithmName =
  | "AES-GCM"
  | "RSA-PSS"
  | "RSASSA-PKCS1-v1_5"
  | "RSA-OAEP"
  | "ECDSA"
  | "ECDH"
  | "Ed25519"
  | "HMAC";

const ALGORITHM_NAMES: readonly AlgorithmName[] = [
  "AES-GCM",
  "RSA-PSS",
  "RSASSA-PKCS1-v1_5",
  "RSA-OAEP",
  "ECDSA",
  "ECDH",
  "Ed25519",
  "HMAC",
];

/** The hashes WebCrypto names (SHA-224 is AWS's HMAC_224 only). */
export type HashName = "SHA-1" | "SHA-224" | "SHA-256" | "SHA-384" | "SHA-512";

const HASH_NAMES: readonly HashName[] = [
  "SHA-1",
  "SHA-224",
  "SHA-256",
  "SHA-384",
  "SHA-512",
];

/** A `NotSupportedError`: WebCrypto's answer to an algorithm it lacks. */
export function notSupported(message: string, cause?: unknown): DOMException {
  const error = new DOMException(message, "NotSupportedError");
  if (cause !== undefined) {
    Object.defineProperty(error, "cause", { value: cause });
  }
  return error;
}

/** An `InvalidAccessError`: the key cannot do what was asked. */
export function invalidAccess(message: string): DOMException {
  return new DOMException(message, "InvalidAccessError");
}

function nameOf(identifier: unknown): string {
  return String(
    typeof identifier === "string"
      ? identifier
      : (identifier as { name?: unknown } | undefined)?.name,
  );
}

function canonical<T extends string>(
  names: readonly T[],
  identifier: unknown,
): T | undefined {
  const name = nameOf(identifier).toUpperCase();
  return names.find((known) => known.toUpperCase() === name);
}

/**
 * The canonical name of an algorithm identifier (a name or `{name}`).
 *
 * @throws {DOMException} `NotSupportedError` for an algorithm okms keys do
 * not take.
 * @example
 * ```ts
 * algorithmName({ name: "ecdsa" }); // "ECDSA"
 * ```
 */
export function algorithmName(identifier: unknown): AlgorithmName {
  const name = canonical(ALGORITHM_NAMES, identifier);
  if (name === undefined) {
    throw notSupported(
      `okms keys do not take ${nameOf(identifier)}; they take ${
        ALGORITHM_NAMES.join(", ")
      }`,
    );
  }
  return name;
}

/**
 * The canonical name of a hash identifier (`"sha-256"`, `{name: "SHA-256"}`).
 *
 * @throws {DOMException} `NotSupportedError` when it names no SHA hash.
 * @example
 * ```ts
 * hashName({ name: "sha-384" }); // "SHA-384"
 * ```
 */
export function hashName(identifier: unknown): HashName {
  const name = canonical(HASH_NAMES, identifier);
  if (name === undefined) {
    throw notSupported(`${nameOf(identifier)} is not a hash okms knows`);
  }
  return name;
}
