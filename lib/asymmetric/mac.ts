/**
 * GenerateMac and VerifyMac with HMAC keys in the HSM.
 * @module
 */
import type { Hsm } from "../hsm.ts";
import { MAC_MECHANISMS } from "./algorithms.ts";
import {
  type KeySpec,
  type MacAlgorithm,
  requireAlgorithm,
} from "./key_specs.ts";

/**
 * The HMAC of `message` under the key `key` of `spec`.
 *
 * @throws {ValidationException} when `spec` does not take `algorithm`.
 * @example
 * ```ts
 * const mac = generateMac(hsm, key, "HMAC_256", "HMAC_SHA_256", utf8("hello"));
 * ```
 */
export function generateMac(
  hsm: Hsm,
  key: number,
  spec: KeySpec,
  algorithm: MacAlgorithm,
  message: Uint8Array,
): Uint8Array {
  requireAlgorithm(spec, "GENERATE_VERIFY_MAC", "MacAlgorithms", algorithm);
  return hsm.sign(MAC_MECHANISMS[algorithm], key, message);
}

/**
 * Whether `mac` is the HMAC of `message` under `key`, compared in the HSM
 * (`C_Verify`).
 *
 * @throws {ValidationException} when `spec` does not take `algorithm`.
 * @example
 * ```ts
 * if (!verifyMac(hsm, key, "HMAC_256", "HMAC_SHA_256", message, mac)) throw new Error("bad MAC");
 * ```
 */
export function verifyMac(
  hsm: Hsm,
  key: number,
  spec: KeySpec,
  algorithm: MacAlgorithm,
  message: Uint8Array,
  mac: Uint8Array,
): boolean {
  requireAlgorithm(spec, "GENERATE_VERIFY_MAC", "MacAlgorithms", algorithm);
  return hsm.verify(MAC_MECHANISMS[algorithm], key, message, mac);
}
