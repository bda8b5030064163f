/**
 * HMAC operations: GenerateMac, VerifyMac. The HMAC is computed in the HSM
 * with a key that never leaves it; VerifyMac compares in constant time in
 * okms (SoftHSM2 2.6.1's `C_Verify` compares HMACs with a plain
 * `ByteString ==`).
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import type { AccountScope } from "../account_scope.ts";
import { MAC_MECHANISMS } from "../asymmetric/algorithms.ts";
import type { KeySpec, MacAlgorithm } from "../asymmetric/key_specs.ts";
import { generateMac as hsmMac } from "../asymmetric/mac.ts";
import { KMSInvalidMacException } from "../errors.ts";
import type { LiveKey } from "../key_ring.ts";
import { requireBytes, requireOneOf } from "../validation.ts";
import { MAX_MESSAGE_BYTES, MAX_SIGNATURE_BYTES } from "./signing.ts";

export type { MacAlgorithm };

/** GenerateMac's input. */
export interface GenerateMacInput {
  /** Key id, key ARN, alias name or alias ARN of an HMAC key. */
  keyId: string;
  /** 1 to 4096 bytes. */
  message: Uint8Array;
  /** The key's one `macAlgorithms` entry (HMAC_SHA_256 for HMAC_256…). */
  macAlgorithm: MacAlgorithm;
}

/** GenerateMac's output. */
export interface GenerateMacOutput {
  /** The key ARN. */
  keyId: string;
  mac: Uint8Array;
  macAlgorithm: MacAlgorithm;
}

/** VerifyMac's input: GenerateMac's, and the MAC to check. */
export interface VerifyMacInput extends GenerateMacInput {
  /** 1 to 6144 bytes. */
  mac: Uint8Array;
}

/** VerifyMac's output; a wrong MAC throws instead. */
export interface VerifyMacOutput {
  /** The key ARN. */
  keyId: string;
  macValid: true;
  macAlgorithm: MacAlgorithm;
}

/** Every AWS `MacAlgorithmSpec`. */
export const MAC_ALGORITHMS: readonly MacAlgorithm[] = Object.keys(
  MAC_MECHANISMS,
) as MacAlgorithm[];

/**
 * The HMAC of the input's message under the GENERATE_VERIFY_MAC key it
 * names, made in the HSM.
 */
async function macOf(
  scope: AccountScope,
  operation: "GenerateMac" | "VerifyMac",
  input: GenerateMacInput,
): Promise<{ key: LiveKey; mac: Uint8Array; algorithm: MacAlgorithm }> {
  const message = requireBytes("Message", input?.message, 1, MAX_MESSAGE_BYTES);
  const algorithm = requireOneOf(
    "MacAlgorithm",
    input.macAlgorithm,
    MAC_ALGORITHMS,
  );
  const key = scope.keyNow(input.keyId, operation) ??
    await scope.key(input.keyId, operation);
  scope.requireUsage(key, operation, "GENERATE_VERIFY_MAC");
  scope.requireAlgorithm(key, "MacAlgorithms", algorithm);
  const handle = scope.kms.ring.handle(key, key.current);
  const spec = key.record.keySpec as KeySpec;
  const mac = hsmMac(scope.kms.hsm, handle, spec, algorithm, message);
  return { key, mac, algorithm };
}

/**
 * The HMAC of a message under an HMAC key, in the HSM.
 *
 * @throws {InvalidKeyUsageException} when the key is not an HMAC key or
 * does not take `macAlgorithm`.
 * @throws {ValidationException} when the message is empty or over 4096
 * bytes.
 * @example
 * ```ts
 * const key = await okms.createKey({ keySpec: "HMAC_256", keyUsage: "GENERATE_VERIFY_MAC" });
 * const { mac } = await okms.generateMac({
 *   keyId: key.keyId, message: utf8("hello"), macAlgorithm: "HMAC_SHA_256",
 * });
 * ```
 */
export async function generateMac(
  scope: AccountScope,
  input: GenerateMacInput,
): Promise<GenerateMacOutput> {
  const { key, mac, algorithm } = await macOf(scope, "GenerateMac", input);
  return { keyId: scope.arn(key), mac, macAlgorithm: algorithm };
}

/**
 * Checks that `mac` is the message's HMAC under the key: the HSM computes
 * it again, okms compares in constant time and zeroes its copy.
 *
 * @throws {KMSInvalidMacException} when it is not.
 * @throws {InvalidKeyUsageException} or {ValidationException} as
 * {@linkcode generateMac}.
 * @example
 * ```ts
 * await okms.verifyMac({ keyId: key.keyId, message, mac, macAlgorithm: "HMAC_SHA_256" });
 * ```
 */
export async function verifyMac(
  scope: AccountScope,
  input: VerifyMacInput,
): Promise<VerifyMacOutput> {
  const given = requireBytes("Mac", input?.mac, 1, MAX_SIGNATURE_BYTES);
  const { key, mac, algorithm } = await macOf(scope, "VerifyMac", input);
  let valid: boolean;
  try {
    // The length is the algorithm's, not a secret.
    valid = given.byteLength === mac.byteLength && timingSafeEqual(given, mac);
  } finally {
    mac.fill(0);
  }
  if (!valid) {
    throw new KMSInvalidMacException(
      `the MAC is not the message's ${algorithm} under ${scope.arn(key)}`,
      { keyArn: scope.arn(key) },
    );
  }
  return { keyId: scope.arn(key), macValid: true, macAlgorithm: algorithm };
}
