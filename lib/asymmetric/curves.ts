/**
 * The elliptic curves of AWS KMS key specs: their OIDs (as `CKA_EC_PARAMS`
 * and in SubjectPublicKeyInfo) and sizes, and, for the short-Weierstrass
 * curves, the equation a public point must satisfy.
 * @module
 */

/** A curve by the name okms gives it (WebCrypto's where WebCrypto has one). */
export type CurveName = "P-256" | "P-384" | "P-521" | "secp256k1" | "Ed25519";

/** What okms needs to know of a curve. */
export interface Curve {
  readonly name: CurveName;
  /** The DER OID (tag, length, arcs): `CKA_EC_PARAMS` and the SPKI's parameter. */
  readonly oid: Uint8Array;
  /** Bytes of a coordinate, of a scalar, and of each half of a raw signature. */
  readonly coordinateBytes: number;
  /** `y² = x³ + a·x + b (mod p)`, for the short-Weierstrass curves. */
  readonly equation?: { p: bigint; a: bigint; b: bigint };
}

const P256_P = 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n;
const P384_P = 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n;
const P521_P = 2n ** 521n - 1n;
const K256_P = 2n ** 256n - 2n ** 32n - 977n;

/** The curves, by name (values from SEC 2 and FIPS 186-4). */
export const CURVES: Readonly<Record<CurveName, Curve>> = {
  "P-256": {
    name: "P-256",
    oid: Uint8Array.fromHex("06082a8648ce3d030107"), // 1.2.840.10045.3.1.7
    coordinateBytes: 32,
    equation: {
      p: P256_P,
      a: P256_P - 3n,
      b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
    },
  },
  "P-384": {
    name: "P-384",
    oid: Uint8Array.fromHex("06052b81040022"), // 1.3.132.0.34
    coordinateBytes: 48,
    equation: {
      p: P384_P,
      a: P384_P - 3n,
      b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
    },
  },
  "P-521": {
    name: "P-521",
    oid: Uint8Array.fromHex("06052b81040023"), // 1.3.132.0.35
    coordinateBytes: 66,
    equation: {
      p: P521_P,
      a: P521_P - 3n,
      b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
    },
  },
  secp256k1: {
    name: "secp256k1",
    oid: Uint8Array.fromHex("06052b8104000a"), // 1.3.132.0.10
    coordinateBytes: 32,
    equation: { p: K256_P, a: 0n, b: 7n },
  },
  Ed25519: {
    name: "Ed25519",
    oid: Uint8Array.fromHex("06032b6570"), // 1.3.101.112 (id-Ed25519, RFC 8410)
    coordinateBytes: 32,
  },
};

/**
 * The curve whose DER OID is `oid`, or `undefined`.
 *
 * @example
 * ```ts
 * curveOfOid(hsm.ecPublicKey(publicKey).ecParams)?.name; // "P-256"
 * ```
 */
export function curveOfOid(oid: Uint8Array): Curve | undefined {
  const hex = oid.toHex();
  return Object.values(CURVES).find((curve) => curve.oid.toHex() === hex);
}

function bigIntOf(bytes: Uint8Array): bigint {
  return bytes.byteLength === 0 ? 0n : BigInt(`0x${bytes.toHex()}`);
}

/**
 * Whether `point` is an uncompressed point (`04 ‖ x ‖ y`) on `curve`: the
 * right length, coordinates below p, and the curve's equation holds. NIST
 * prime curves and secp256k1 have cofactor 1, so such a point generates
 * the whole group (no small-subgroup point passes).
 *
 * @example
 * ```ts
 * if (!isOnCurve(CURVES["P-256"], peerPoint)) throw new Error("not a P-256 point");
 * ```
 */
export function isOnCurve(curve: Curve, point: Uint8Array): boolean {
  const { equation, coordinateBytes: n } = curve;
  if (equation === undefined) return false;
  if (point.byteLength !== 1 + 2 * n || point[0] !== 0x04) return false;
  const { p, a, b } = equation;
  const x = bigIntOf(point.subarray(1, 1 + n));
  const y = bigIntOf(point.subarray(1 + n));
  if (x >= p || y >= p) return false;
  return (y * y - (x * x * x + a * x + b)) % p === 0n;
}
