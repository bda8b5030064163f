/**
 * X.509 SubjectPublicKeyInfo (RFC 5280, 3279, 5480, 8410) of RSA, EC and
 * Ed25519 public keys: made from the HSM's public attributes (what AWS
 * GetPublicKey returns), and read from a caller's DER with every field
 * checked.
 * @module
 */
import { ValidationException } from "../errors.ts";
import { type Curve, curveOfOid, CURVES, isOnCurve } from "./curves.ts";
import {
  DerError,
  encodeElement,
  encodeUnsignedInteger,
  readElement,
  readOnly,
  TAG,
  unsignedInteger,
} from "./der.ts";

/** rsaEncryption, 1.2.840.113549.1.1.1 (DER). */
const RSA_ENCRYPTION = Uint8Array.fromHex("06092a864886f70d010101");
/** id-ecPublicKey, 1.2.840.10045.2.1 (DER). */
const EC_PUBLIC_KEY = Uint8Array.fromHex("06072a8648ce3d0201");
const DER_NULL = Uint8Array.of(TAG.NULL, 0);
const NO_UNUSED_BITS = Uint8Array.of(0);

/** A public key as its parts: RSA modulus and exponent, or a curve and point. */
export type PublicKeyParts =
  | { kind: "RSA"; modulus: Uint8Array; publicExponent: Uint8Array }
  | {
    kind: "EC";
    curve: Curve;
    /** `04 ‖ x ‖ y` on a Weierstrass curve; the 32-byte key for Ed25519. */
    point: Uint8Array;
  };

/**
 * The DER SubjectPublicKeyInfo of `key`.
 *
 * @example
 * ```ts
 * const spki = encodeSpki({ kind: "RSA", ...hsm.rsaPublicKey(publicKey) });
 * await crypto.subtle.importKey("spki", spki, { name: "RSA-PSS", hash: "SHA-256" }, false, ["verify"]);
 * ```
 */
export function encodeSpki(key: PublicKeyParts): Uint8Array<ArrayBuffer> {
  if (key.kind === "RSA") {
    return spki(
      encodeElement(TAG.SEQUENCE, RSA_ENCRYPTION, DER_NULL),
      encodeElement(
        TAG.SEQUENCE,
        encodeUnsignedInteger(key.modulus),
        encodeUnsignedInteger(key.publicExponent),
      ),
    );
  }
  const algorithm = key.curve.equation === undefined
    ? encodeElement(TAG.SEQUENCE, key.curve.oid)
    : encodeElement(TAG.SEQUENCE, EC_PUBLIC_KEY, key.curve.oid);
  return spki(algorithm, key.point);
}

function spki(algorithm: Uint8Array, key: Uint8Array): Uint8Array<ArrayBuffer> {
  return encodeElement(
    TAG.SEQUENCE,
    algorithm,
    encodeElement(TAG.BIT_STRING, NO_UNUSED_BITS, key),
  );
}

/**
 * The parts of an EC or Edwards key object from its `CKA_EC_PARAMS` (a
 * named curve's OID) and `CKA_EC_POINT` (a DER OCTET STRING around the
 * point), as `Hsm.ecPublicKey` reads them.
 *
 * @throws {Error} when the curve is not one okms knows or the point is not
 * wrapped in an OCTET STRING of the curve's size.
 * @example
 * ```ts
 * const spki = encodeSpki(ecKeyParts(hsm.ecPublicKey(publicKey)));
 * ```
 */
export function ecKeyParts(
  attributes: { ecParams: Uint8Array; ecPoint: Uint8Array },
): PublicKeyParts {
  const curve = curveOfOid(attributes.ecParams);
  if (curve === undefined) {
    throw new Error(
      `the HSM key's curve (CKA_EC_PARAMS ${attributes.ecParams.toHex()}) is not one okms knows`,
    );
  }
  const point = readOnly(attributes.ecPoint, TAG.OCTET_STRING);
  if (point.byteLength !== pointBytes(curve)) {
    throw new Error(
      `the HSM key's ${curve.name} point is ${point.byteLength} bytes, not ${
        pointBytes(curve)
      }`,
    );
  }
  return { kind: "EC", curve, point: point.slice() };
}

/** Bytes of a public point: uncompressed for Weierstrass curves, the key for Ed25519. */
function pointBytes(curve: Curve): number {
  return curve.equation === undefined
    ? curve.coordinateBytes
    : 1 + 2 * curve.coordinateBytes;
}

/**
 * Reads a DER SubjectPublicKeyInfo of an RSA, EC (named curve, uncompressed
 * point) or Ed25519 key, checking its structure exactly.
 *
 * @throws {ValidationException} saying what is wrong when it is not one.
 * @example
 * ```ts
 * const parts = parseSpki(new Uint8Array(await crypto.subtle.exportKey("spki", publicKey)));
 * ```
 */
export function parseSpki(der: Uint8Array): PublicKeyParts {
  try {
    return partsOf(der);
  } catch (error) {
    if (!(error instanceof DerError)) throw error;
    throw new ValidationException(
      `the public key is not a valid DER SubjectPublicKeyInfo: ${error.message}`,
    );
  }
}

function partsOf(der: Uint8Array): PublicKeyParts {
  const info = readOnly(der, TAG.SEQUENCE);
  const algorithm = readElement(info, 0, TAG.SEQUENCE);
  const bits = readElement(info, algorithm.end, TAG.BIT_STRING);
  if (bits.end !== info.byteLength) {
    throw new DerError("fields follow the key");
  }
  if (bits.value.byteLength < 2 || bits.value[0] !== 0) {
    throw new DerError("the key's BIT STRING is empty or has unused bits");
  }
  const key = bits.value.subarray(1);
  const oid = readElement(algorithm.value, 0, TAG.OID);
  const type = algorithm.value.subarray(0, oid.end).toHex();
  const parameters = algorithm.value.subarray(oid.end);
  if (type === RSA_ENCRYPTION.toHex()) {
    if (parameters.toHex() !== DER_NULL.toHex()) {
      throw new DerError("RSA parameters are not NULL");
    }
    const rsa = readOnly(key, TAG.SEQUENCE);
    const modulus = readElement(rsa, 0, TAG.INTEGER);
    const exponent = readElement(rsa, modulus.end, TAG.INTEGER);
    if (exponent.end !== rsa.byteLength) {
      throw new DerError("fields follow the RSA exponent");
    }
    return {
      kind: "RSA",
      modulus: unsignedInteger(modulus.value).slice(),
      publicExponent: unsignedInteger(exponent.value).slice(),
    };
  }
  if (type === CURVES.Ed25519.oid.toHex()) {
    if (parameters.byteLength !== 0) {
      throw new DerError("Ed25519 takes no parameters");
    }
    return edwardsParts(key);
  }
  if (type === EC_PUBLIC_KEY.toHex()) return ecParts(parameters, key);
  throw new DerError(`unknown key algorithm ${type}`);
}

function edwardsParts(key: Uint8Array): PublicKeyParts {
  if (key.byteLength !== CURVES.Ed25519.coordinateBytes) {
    throw new DerError(`an Ed25519 key is 32 bytes, not ${key.byteLength}`);
  }
  return { kind: "EC", curve: CURVES.Ed25519, point: key.slice() };
}

function ecParts(parameters: Uint8Array, point: Uint8Array): PublicKeyParts {
  const oid = readElement(parameters, 0, TAG.OID);
  if (oid.end !== parameters.byteLength) {
    throw new DerError("EC parameters are not one named curve");
  }
  const curve = curveOfOid(parameters);
  if (curve === undefined || curve.equation === undefined) {
    throw new DerError(`unsupported curve ${parameters.toHex()}`);
  }
  if (point[0] !== 0x04) {
    throw new DerError("the EC point is not uncompressed (04 ‖ x ‖ y)");
  }
  if (!isOnCurve(curve, point)) {
    throw new DerError(`the EC point is not on ${curve.name}`);
  }
  return { kind: "EC", curve, point: point.slice() };
}

/**
 * The uncompressed point of a peer's EC SubjectPublicKeyInfo, which must be
 * on `curve` (ECDH against the KMS key's curve).
 *
 * @throws {ValidationException} when `der` is not a valid SPKI of a point
 * on `curve`.
 * @example
 * ```ts
 * const point = peerPoint(peerSpki, CURVES["P-256"]);
 * ```
 */
export function peerPoint(der: Uint8Array, curve: Curve): Uint8Array {
  const parts = parseSpki(der);
  if (parts.kind !== "EC" || parts.curve !== curve) {
    const found = parts.kind === "RSA" ? "an RSA key" : parts.curve.name;
    throw new ValidationException(
      `the public key is ${found}, but the KMS key's curve is ${curve.name}`,
    );
  }
  return parts.point;
}
