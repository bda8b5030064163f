/**
 * Sign and Verify with asymmetric keys in the HSM, as AWS KMS does: RAW
 * messages are hashed in process (node:crypto), DIGEST messages are taken as the
 * hash, the private-key operation is always the HSM's, and ECDSA
 * signatures are DER.
 * @module
 */
import type { Hsm } from "../hsm.ts";
import {
  UnsupportedOperationException,
  ValidationException,
} from "../errors.ts";
import {
  DIGEST_BYTES,
  digestOf,
  SIGNING_MECHANISMS,
  type SigningMechanism,
} from "./algorithms.ts";
import { DerError } from "./der.ts";
import { ecdsaDerToRaw, ecdsaRawToDer } from "./ecdsa_signature.ts";
import {
  KEY_SPECS,
  type KeySpec,
  requireAlgorithm,
  type SigningAlgorithm,
} from "./key_specs.ts";

/** AWS `MessageType`: the message itself, or its digest. */
export type MessageType = "RAW" | "DIGEST";

/** What is signed or verified. */
export interface SigningInput {
  spec: KeySpec;
  algorithm: SigningAlgorithm;
  message: Uint8Array<ArrayBuffer>;
  /** RAW when absent. */
  messageType?: MessageType;
}

/**
 * The bytes the HSM signs for `input`, and the mechanism.
 *
 * @throws {ValidationException} when the spec does not sign with the
 * algorithm, or the message type or digest length does not fit it.
 * @throws {UnsupportedOperationException} when the HSM cannot make it.
 */
function prepare(
  input: SigningInput,
): { mechanism: SigningMechanism; data: Uint8Array } {
  const { spec, algorithm, message, messageType = "RAW" } = input;
  requireAlgorithm(spec, "SIGN_VERIFY", "SigningAlgorithms", algorithm);
  const mechanism = SIGNING_MECHANISMS[algorithm];
  if (mechanism === undefined) {
    throw new UnsupportedOperationException(
      `this HSM cannot sign with ${algorithm}`,
    );
  }
  const { hash } = mechanism;
  if (hash === undefined) {
    if (messageType !== "RAW") {
      throw new ValidationException(`${algorithm} takes MessageType RAW only`);
    }
    return { mechanism, data: message };
  }
  if (messageType === "DIGEST" && message.byteLength !== DIGEST_BYTES[hash]) {
    throw new ValidationException(
      `a ${hash} digest is ${
        DIGEST_BYTES[hash]
      } bytes, not ${message.byteLength}`,
    );
  }
  const digest = messageType === "DIGEST" ? message : digestOf(hash, message);
  const prefix = mechanism.digestInfo;
  if (prefix === undefined) return { mechanism, data: digest };
  const data = new Uint8Array(prefix.byteLength + digest.byteLength);
  data.set(prefix);
  data.set(digest, prefix.byteLength);
  return { mechanism, data };
}

/**
 * Signs `input.message` with the private key `privateKey` of
 * `input.spec`: the signature as AWS Sign returns it (DER for ECDSA, the
 * raw bytes for RSA and Ed25519).
 *
 * @throws {ValidationException} or {UnsupportedOperationException} as
 * the algorithm and message require (see {@linkcode SigningInput}).
 * @example
 * ```ts
 * const signature = sign(hsm, privateKey, {
 *   spec: "ECC_NIST_P256", algorithm: "ECDSA_SHA_256", message: utf8("hello"),
 * });
 * ```
 */
export function sign(
  hsm: Hsm,
  privateKey: number,
  input: SigningInput,
): Uint8Array<ArrayBuffer> {
  const { mechanism, data } = prepare(input);
  const signature = hsm.sign(mechanism.mechanism, privateKey, data);
  return mechanism.ecdsa ? ecdsaRawToDer(signature) : signature;
}

/**
 * Whether `signature` (as {@linkcode sign} returns it) is valid for
 * `input.message` under the public key object `publicKey`, checked in the
 * HSM. A malformed signature is simply invalid.
 *
 * @throws {ValidationException} or {UnsupportedOperationException} as
 * {@linkcode sign} does.
 * @example
 * ```ts
 * const valid = verify(hsm, publicKey, input, signature);
 * ```
 */
export function verify(
  hsm: Hsm,
  publicKey: number,
  input: SigningInput,
  signature: Uint8Array,
): boolean {
  const { mechanism, data } = prepare(input);
  let raw = signature;
  if (mechanism.ecdsa) {
    const material = KEY_SPECS[input.spec].material;
    const size = material.kind === "EC" ? material.curve.coordinateBytes : 0;
    try {
      raw = ecdsaDerToRaw(signature, size);
    } catch (error) {
      if (error instanceof DerError) return false;
      throw error;
    }
  }
  return hsm.verify(mechanism.mechanism, publicKey, data, raw);
}
