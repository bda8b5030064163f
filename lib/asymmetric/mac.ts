/**
 * HMACs with keys in the HSM (GenerateMac; VerifyMac recomputes and compares in
 * constant time, in `lib/ops/mac.ts`: SoftHSM2's `C_Verify` compares plainly).
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
