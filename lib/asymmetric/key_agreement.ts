/**
 * DeriveSharedSecret: ECDH between an HSM private key and a peer's public
 * key, returning the raw shared secret as AWS KMS does.
 * @module
 */
import { EcdhMechanism } from "../../ffi/mod.ts";
import type { Hsm } from "../hsm.ts";
import {
  KEY_SPECS,
  type KeyAgreementAlgorithm,
  type KeySpec,
  requireAlgorithm,
} from "./key_specs.ts";
import { peerPoint } from "./spki.ts";

/**
 * The ECDH shared secret (the x coordinate of the shared point, as long as
 * the curve's coordinates) of the private key `privateKey` of `spec` and
 * the peer's DER SubjectPublicKeyInfo `peerSpki`. The secret exists in the
 * HSM only as a session object that can do nothing, read once and
 * destroyed (see `Hsm.deriveSecret`); the caller owns the returned bytes
 * and should zero them after use.
 *
 * @throws {ValidationException} when `spec` does not do key agreement with
 * `algorithm`, or `peerSpki` is not a valid key on the spec's curve.
 * @example
 * ```ts
 * const secret = deriveSharedSecret(hsm, privateKey, "ECC_NIST_P256", "ECDH", peerSpki);
 * ```
 */
export function deriveSharedSecret(
  hsm: Hsm,
  privateKey: number,
  spec: KeySpec,
  algorithm: KeyAgreementAlgorithm,
  peerSpki: Uint8Array,
): Uint8Array {
  requireAlgorithm(spec, "KEY_AGREEMENT", "KeyAgreementAlgorithms", algorithm);
  const material = KEY_SPECS[spec].material;
  if (material.kind !== "EC") throw new Error(`${spec} has no curve`);
  const point = peerPoint(peerSpki, material.curve);
  return hsm.deriveSecret(new EcdhMechanism(point), privateKey);
}
