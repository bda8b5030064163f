/**
 * ECDSA signatures in their two forms: PKCS#11's raw `r ‖ s` and the DER
 * `Ecdsa-Sig-Value` (RFC 3279) that AWS KMS returns and takes.
 * @module
 */
import {
  DerError,
  encodeElement,
  encodeUnsignedInteger,
  readElement,
  readOnly,
  TAG,
  unsignedInteger,
} from "./der.ts";

/**
 * The DER `SEQUENCE { r INTEGER, s INTEGER }` of a raw signature `r ‖ s`
 * (two halves of the same length).
 *
 * @throws {RangeError} when `raw` has an odd length.
 * @example
 * ```ts
 * const der = ecdsaRawToDer(hsm.sign(CKM.ECDSA, privateKey, digest));
 * ```
 */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  if (raw.byteLength === 0 || raw.byteLength % 2 !== 0) {
    throw new RangeError("a raw ECDSA signature is r ‖ s of equal lengths");
  }
  const half = raw.byteLength / 2;
  return encodeElement(
    TAG.SEQUENCE,
    encodeUnsignedInteger(raw.subarray(0, half)),
    encodeUnsignedInteger(raw.subarray(half)),
  );
}

/**
 * The raw `r ‖ s` of a DER signature, each half left-padded to
 * `coordinateBytes` (the curve's order length: 32, 48, 66).
 *
 * @throws {DerError} when `der` is not exactly such a SEQUENCE, or r or s
 * is zero or longer than the curve allows.
 * @example
 * ```ts
 * const raw = ecdsaDerToRaw(signatureFromCaller, CURVES["P-256"].coordinateBytes);
 * hsm.verify(CKM.ECDSA, publicKey, digest, raw);
 * ```
 */
export function ecdsaDerToRaw(
  der: Uint8Array,
  coordinateBytes: number,
): Uint8Array<ArrayBuffer> {
  const sequence = readOnly(der, TAG.SEQUENCE);
  const r = readElement(sequence, 0, TAG.INTEGER);
  const s = readElement(sequence, r.end, TAG.INTEGER);
  if (s.end !== sequence.byteLength) {
    throw new DerError("fields follow s in the ECDSA signature");
  }
  const raw = new Uint8Array(2 * coordinateBytes);
  [r, s].forEach((element, i) => {
    const value = unsignedInteger(element.value);
    if (value.byteLength > coordinateBytes || value.every((b) => b === 0)) {
      throw new DerError("an ECDSA signature half is zero or too long");
    }
    raw.set(value, (i + 1) * coordinateBytes - value.byteLength);
  });
  return raw;
}
