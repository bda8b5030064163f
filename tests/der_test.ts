/**
 * DER: SubjectPublicKeyInfo and ECDSA signatures against WebCrypto and
 * node:crypto, and malformed input refused with a clear error.
 */
import assert from "node:assert/strict";
import nodeCrypto from "node:crypto";
import { ValidationException } from "../lib/errors.ts";
import { CURVES, isOnCurve } from "../lib/asymmetric/curves.ts";
import { DerError, encodeElement, TAG } from "../lib/asymmetric/der.ts";
import {
  ecdsaDerToRaw,
  ecdsaRawToDer,
} from "../lib/asymmetric/ecdsa_signature.ts";
import { encodeSpki, parseSpki, peerPoint } from "../lib/asymmetric/spki.ts";

async function webCryptoSpki(
  algorithm: RsaHashedKeyGenParams | EcKeyGenParams | { name: "Ed25519" },
): Promise<Uint8Array> {
  const pair = await crypto.subtle.generateKey(algorithm, true, [
    "sign",
    "verify",
  ]) as CryptoKeyPair;
  return new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
}

function nodeSpki(namedCurve: string): Uint8Array {
  const { publicKey } = nodeCrypto.generateKeyPairSync("ec", { namedCurve });
  return new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
}

const refused = (pattern: RegExp) => (e: unknown) =>
  e instanceof ValidationException && pattern.test(e.message);

Deno.test("SPKIs of WebCrypto and node:crypto parse into parts that encode back to the same bytes", async () => {
  const keys: [string, Uint8Array][] = [
    [
      "RSA",
      await webCryptoSpki({
        name: "RSA-PSS",
        modulusLength: 2048,
        publicExponent: Uint8Array.of(1, 0, 1),
        hash: "SHA-256",
      }),
    ],
    ["P-256", await webCryptoSpki({ name: "ECDSA", namedCurve: "P-256" })],
    ["P-384", await webCryptoSpki({ name: "ECDSA", namedCurve: "P-384" })],
    ["P-521", await webCryptoSpki({ name: "ECDSA", namedCurve: "P-521" })],
    ["secp256k1", nodeSpki("secp256k1")],
    ["Ed25519", await webCryptoSpki({ name: "Ed25519" })],
  ];
  for (const [name, spki] of keys) {
    const parts = parseSpki(spki);
    assert.equal(parts.kind === "RSA" ? "RSA" : parts.curve.name, name);
    assert.deepEqual(encodeSpki(parts), spki, name);
  }
});

Deno.test("curve equations hold for points of WebCrypto and node:crypto, not for a changed one", async () => {
  for (const name of ["P-256", "P-384", "P-521"] as const) {
    const parts = parseSpki(
      await webCryptoSpki({ name: "ECDSA", namedCurve: name }),
    );
    assert.ok(parts.kind === "EC" && isOnCurve(CURVES[name], parts.point));
    const changed = parts.point.slice();
    changed[5] ^= 1;
    assert.equal(isOnCurve(CURVES[name], changed), false);
  }
  const k1 = parseSpki(nodeSpki("secp256k1"));
  assert.ok(k1.kind === "EC" && isOnCurve(CURVES.secp256k1, k1.point));
});

Deno.test("ECDSA raw and DER signatures convert both ways as node:crypto makes and checks them", () => {
  for (
    const [curve, hash] of [["P-256", "sha256"], ["P-384", "sha384"], [
      "P-521",
      "sha512",
    ], ["secp256k1", "sha256"]] as const
  ) {
    const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync("ec", {
      namedCurve: curve,
    });
    const size = CURVES[curve].coordinateBytes;
    for (let i = 0; i < 8; i++) {
      const message = Uint8Array.of(i);
      const raw = nodeCrypto.sign(hash, message, {
        key: privateKey,
        dsaEncoding: "ieee-p1363",
      });
      const der = ecdsaRawToDer(raw);
      assert.ok(
        nodeCrypto.verify(
          hash,
          message,
          { key: publicKey, dsaEncoding: "der" },
          der,
        ),
      );
      const fromNode = nodeCrypto.sign(hash, message, {
        key: privateKey,
        dsaEncoding: "der",
      });
      const back = ecdsaDerToRaw(fromNode, size);
      assert.equal(back.byteLength, 2 * size);
      assert.ok(
        nodeCrypto.verify(hash, message, {
          key: publicKey,
          dsaEncoding: "ieee-p1363",
        }, back),
      );
    }
  }
  // High bits get a zero byte, leading zeros go.
  const raw = new Uint8Array(64);
  raw[0] = 0x80;
  raw[63] = 1;
  const der = ecdsaRawToDer(raw);
  assert.equal(der.toHex(), `3026022100${"80" + "00".repeat(31)}020101`);
  assert.deepEqual(ecdsaDerToRaw(der, 32), raw);
});

Deno.test("malformed ECDSA DER signatures are refused", () => {
  const good = ecdsaRawToDer(new Uint8Array(64).fill(1));
  const cases: [string, Uint8Array][] = [
    ["truncated", good.subarray(0, good.length - 1)],
    ["trailing byte", Uint8Array.of(...good, 0)],
    ["not a SEQUENCE", Uint8Array.of(0x31, ...good.subarray(1))],
    [
      "three INTEGERs",
      encodeElement(TAG.SEQUENCE, good.subarray(2), Uint8Array.of(2, 1, 1)),
    ],
    ["negative r", Uint8Array.fromHex("3006020180020101")],
    ["padded r", Uint8Array.fromHex("300702020001020101")],
    ["zero r", Uint8Array.fromHex("3006020100020101")],
    [
      "r too long",
      encodeElement(
        TAG.SEQUENCE,
        encodeElement(TAG.INTEGER, new Uint8Array(33).fill(1)),
        Uint8Array.of(2, 1, 1),
      ),
    ],
    ["long-form short length", Uint8Array.fromHex("308106020101020101")],
    ["indefinite length", Uint8Array.fromHex("3080020101020101")],
  ];
  for (const [name, der] of cases) {
    assert.throws(() => ecdsaDerToRaw(der, 32), DerError, name);
  }
  assert.throws(() => ecdsaRawToDer(new Uint8Array(63)), RangeError);
});

Deno.test("malformed SPKIs and wrong-curve peers are a ValidationException saying why", async () => {
  const p256 = await webCryptoSpki({ name: "ECDSA", namedCurve: "P-256" });
  const point = (parseSpki(p256) as { point: Uint8Array }).point;
  const withPoint = (bytes: Uint8Array) =>
    Uint8Array.of(...p256.subarray(0, p256.length - 65), ...bytes);
  const offCurve = point.slice();
  offCurve[64] ^= 1;
  const unknownCurve = Uint8Array.from(p256);
  unknownCurve[20] ^= 1; // inside the curve OID
  const cases: [string, Uint8Array, RegExp][] = [
    [
      "empty",
      new Uint8Array(0),
      /not a valid DER SubjectPublicKeyInfo: truncated/,
    ],
    ["truncated", p256.subarray(0, 40), /contents past the input/],
    ["trailing bytes", Uint8Array.of(...p256, 0), /bytes follow/],
    ["off curve", withPoint(offCurve), /not on P-256/],
    [
      "compressed",
      Uint8Array.of(
        ...p256.subarray(0, p256.length - 65),
        0x02,
        ...point.subarray(1, 64),
      ),
      /contents past the input|uncompressed/,
    ],
    ["unknown curve", unknownCurve, /unsupported curve/],
    [
      "unused bits",
      Uint8Array.of(...p256.subarray(0, 25), 1, ...p256.subarray(26)),
      /unused bits/,
    ],
    [
      "not DER at all",
      new TextEncoder().encode("-----BEGIN PUBLIC KEY-----"),
      /expected tag 0x30/,
    ],
  ];
  for (const [name, der, pattern] of cases) {
    assert.throws(
      () => peerPoint(der, CURVES["P-256"]),
      refused(pattern),
      name,
    );
  }
  const p384 = await webCryptoSpki({ name: "ECDSA", namedCurve: "P-384" });
  assert.throws(
    () => peerPoint(p384, CURVES["P-256"]),
    refused(/the public key is P-384, but the KMS key's curve is P-256/),
  );
  const rsa = await webCryptoSpki({
    name: "RSA-PSS",
    modulusLength: 2048,
    publicExponent: Uint8Array.of(1, 0, 1),
    hash: "SHA-256",
  });
  assert.throws(
    () => peerPoint(rsa, CURVES["P-256"]),
    refused(/is an RSA key/),
  );
  assert.deepEqual(peerPoint(p256, CURVES["P-256"]), point);
});
