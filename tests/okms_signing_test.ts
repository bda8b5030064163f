/**
 * Sign, Verify and GetPublicKey on SoftHSM2: every signing algorithm of
 * every key spec it supports, RAW and DIGEST, each signature checked by
 * node:crypto (and one by WebCrypto) with the SPKI GetPublicKey returns;
 * tampering, bad input, wrong usage and key states.
 */
import assert from "node:assert/strict";
import {
  constants,
  createHash,
  createPublicKey,
  verify as nodeVerify,
} from "node:crypto";
import type { KeySpec, SigningAlgorithm } from "../lib/asymmetric/key_specs.ts";
import { KEY_SPECS } from "../lib/asymmetric/key_specs.ts";
import {
  ecdsaDerToRaw,
  ecdsaRawToDer,
} from "../lib/asymmetric/ecdsa_signature.ts";
import type { Okms } from "../mod.ts";
import { openTestOkms, rejectsNamed, utf8 } from "./helpers.ts";

/** Asymmetric and HMAC keys need wrapped material (whatever the suite's mode). */
const WRAPPED = { keyMaterial: "wrapped" } as const;

/** The specs SoftHSM2 2.6.1 signs with (Ed25519 keys cannot be wrapped). */
const SPECS: KeySpec[] = [
  "RSA_2048",
  "RSA_3072",
  "RSA_4096",
  "ECC_NIST_P256",
  "ECC_NIST_P384",
  "ECC_NIST_P521",
  "ECC_SECG_P256K1",
];

/** secp256k1's group order. */
const K1_ORDER = BigInt(
  "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
);

/** "RSASSA_PSS_SHA_384" → "sha384". */
function hashOf(algorithm: SigningAlgorithm): string {
  return `sha${algorithm.slice(-3)}`;
}

/**
 * The same signature with `s` replaced by `n - s` when it is in the upper
 * half: node:crypto's secp256k1 (the k256 crate) accepts only low-S
 * signatures, SoftHSM2 (as AWS) makes either. Both are valid ECDSA.
 */
function lowS(der: Uint8Array): Uint8Array {
  const raw = ecdsaDerToRaw(der, 32);
  const s = BigInt(`0x${raw.subarray(32).toHex()}`);
  if (s <= K1_ORDER / 2n) return der;
  raw.set(
    Uint8Array.fromHex((K1_ORDER - s).toString(16).padStart(64, "0")),
    32,
  );
  return ecdsaRawToDer(raw);
}

/** Whether node:crypto finds `signature` valid for `message` under `spki`. */
function independentlyValid(
  spec: KeySpec,
  algorithm: SigningAlgorithm,
  spki: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const key = createPublicKey({
    key: Buffer.from(spki),
    format: "der",
    type: "spki",
  });
  const hash = hashOf(algorithm);
  if (algorithm.startsWith("RSASSA_PSS")) {
    return nodeVerify(hash, message, {
      key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(algorithm.slice(-3)) / 8,
    }, signature);
  }
  if (algorithm.startsWith("RSASSA_PKCS1")) {
    return nodeVerify(hash, message, key, signature);
  }
  return nodeVerify(
    hash,
    message,
    { key, dsaEncoding: "der" },
    spec === "ECC_SECG_P256K1" ? lowS(signature) : signature,
  );
}

/** A copy of `bytes` with its last byte changed. */
function tampered(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = bytes.slice();
  copy[copy.length - 1] ^= 1;
  return copy;
}

async function signingKey(okms: Okms, keySpec: KeySpec): Promise<string> {
  const key = await okms.createKey({ keySpec, keyUsage: "SIGN_VERIFY" });
  return key.keyId;
}

Deno.test("Sign and Verify with every algorithm of every spec", async (t) => {
  await using fixture = await openTestOkms(WRAPPED);
  const { okms } = fixture;
  const message = utf8("pay 100 to Bob, order 42");
  for (const spec of SPECS) {
    await t.step(spec, async () => {
      const keyId = await signingKey(okms, spec);
      const pub = await okms.getPublicKey({ keyId });
      const algorithms = KEY_SPECS[spec].usages.SIGN_VERIFY!.SigningAlgorithms!;
      assert.equal(pub.keySpec, spec);
      assert.equal(pub.customerMasterKeySpec, spec);
      assert.equal(pub.keyUsage, "SIGN_VERIFY");
      assert.deepEqual(pub.signingAlgorithms, algorithms);
      assert.equal(pub.encryptionAlgorithms, undefined);
      assert.match(pub.keyId, /^arn:aws:kms:/);
      for (const signingAlgorithm of algorithms) {
        const digest = createHash(hashOf(signingAlgorithm)).update(message)
          .digest();
        for (
          const [messageType, signed] of [
            ["RAW", message],
            ["DIGEST", new Uint8Array(digest)],
          ] as const
        ) {
          const input = {
            keyId,
            message: signed,
            messageType,
            signingAlgorithm,
          };
          const out = await okms.sign(input);
          assert.equal(out.keyId, pub.keyId);
          assert.equal(out.signingAlgorithm, signingAlgorithm);
          const { signature } = out;
          const what = `${signingAlgorithm} ${messageType}`;
          assert.ok(
            independentlyValid(
              spec,
              signingAlgorithm,
              pub.publicKey,
              message,
              signature,
            ),
            what,
          );
          assert.equal(
            independentlyValid(
              spec,
              signingAlgorithm,
              pub.publicKey,
              tampered(message),
              signature,
            ),
            false,
            what,
          );
          assert.equal(
            independentlyValid(
              spec,
              signingAlgorithm,
              pub.publicKey,
              message,
              tampered(signature),
            ),
            false,
            what,
          );
          assert.deepEqual(await okms.verify({ ...input, signature }), {
            keyId: pub.keyId,
            signatureValid: true,
            signingAlgorithm,
          });
          for (
            const bad of [
              { ...input, signature: tampered(signature) },
              { ...input, message: tampered(signed), signature },
            ]
          ) {
            const error = await rejectsNamed(
              okms.verify(bad),
              "KMSInvalidSignatureException",
            );
            assert.equal((error as { keyArn?: string }).keyArn, pub.keyId);
          }
        }
      }
    });
  }
});

Deno.test("GetPublicKey's SPKI imports into WebCrypto", async () => {
  await using fixture = await openTestOkms(WRAPPED);
  const { okms } = fixture;
  const keyId = await signingKey(okms, "ECC_NIST_P384");
  const message = utf8("hello");
  const { publicKey } = await okms.getPublicKey({ keyId });
  const { signature } = await okms.sign({
    keyId,
    message,
    signingAlgorithm: "ECDSA_SHA_384",
  });
  const verifier = await crypto.subtle.importKey(
    "spki",
    new Uint8Array(publicKey),
    { name: "ECDSA", namedCurve: "P-384" },
    false,
    ["verify"],
  );
  const algorithm = { name: "ECDSA", hash: "SHA-384" };
  const raw = ecdsaDerToRaw(signature, 48);
  assert.ok(await crypto.subtle.verify(algorithm, verifier, raw, message));
  assert.equal(
    await crypto.subtle.verify(algorithm, verifier, tampered(raw), message),
    false,
  );
});

Deno.test("Sign, Verify and GetPublicKey refuse bad input", async (t) => {
  await using fixture = await openTestOkms(WRAPPED);
  const { okms } = fixture;
  const ec = await signingKey(okms, "ECC_NIST_P256");
  const sign = (input: Record<string, unknown>) =>
    okms.sign(
      {
        keyId: ec,
        message: utf8("m"),
        signingAlgorithm: "ECDSA_SHA_256",
        ...input,
      } as Parameters<Okms["sign"]>[0],
    );

  await t.step("an algorithm the key does not take", async () => {
    for (const signingAlgorithm of ["ECDSA_SHA_384", "RSASSA_PSS_SHA_256"]) {
      const error = await rejectsNamed(
        sign({ signingAlgorithm }),
        "InvalidKeyUsageException",
      );
      assert.match(error.message, /ECDSA_SHA_256/);
      assert.match((error as { keyArn?: string }).keyArn ?? "", /:key\//);
    }
    await rejectsNamed(
      sign({ signingAlgorithm: "ECDSA" }),
      "ValidationException",
    );
    await rejectsNamed(
      sign({ signingAlgorithm: undefined }),
      "ValidationException",
    );
  });

  await t.step("message sizes and types", async () => {
    await sign({ message: new Uint8Array(4096) });
    for (const message of [new Uint8Array(4097), new Uint8Array(0), "m"]) {
      await rejectsNamed(sign({ message }), "ValidationException");
    }
    await sign({ message: new Uint8Array(32), messageType: "DIGEST" });
    for (const length of [31, 33, 48]) {
      await rejectsNamed(
        sign({ message: new Uint8Array(length), messageType: "DIGEST" }),
        "ValidationException",
      );
    }
    await rejectsNamed(
      sign({ messageType: "EXTERNAL_MU" }),
      "ValidationException",
    );
  });

  await t.step("a signature that is not one", async () => {
    const input = {
      keyId: ec,
      message: utf8("m"),
      signingAlgorithm: "ECDSA_SHA_256" as const,
    };
    for (const signature of [new Uint8Array(70), utf8("not DER")]) {
      await rejectsNamed(
        okms.verify({ ...input, signature }),
        "KMSInvalidSignatureException",
      );
    }
    for (const signature of [new Uint8Array(0), new Uint8Array(6145)]) {
      await rejectsNamed(
        okms.verify({ ...input, signature }),
        "ValidationException",
      );
    }
  });

  await t.step("keys of another usage", async () => {
    const symmetric = (await okms.createKey()).keyId;
    const hmac = (await okms.createKey({
      keySpec: "HMAC_256",
      keyUsage: "GENERATE_VERIFY_MAC",
    })).keyId;
    const agreement = (await okms.createKey({
      keySpec: "ECC_NIST_P256",
      keyUsage: "KEY_AGREEMENT",
    })).keyId;
    for (const keyId of [symmetric, hmac, agreement]) {
      await rejectsNamed(sign({ keyId }), "InvalidKeyUsageException");
    }
    await rejectsNamed(
      okms.encrypt({ keyId: ec, plaintext: utf8("secret") }),
      "InvalidKeyUsageException",
    );
    for (const keyId of [symmetric, hmac]) {
      await rejectsNamed(
        okms.getPublicKey({ keyId }),
        "UnsupportedOperationException",
      );
    }
    const pub = await okms.getPublicKey({ keyId: agreement });
    assert.equal(pub.keyUsage, "KEY_AGREEMENT");
    assert.deepEqual(pub.keyAgreementAlgorithms, ["ECDH"]);
    assert.equal(pub.signingAlgorithms, undefined);
  });

  await t.step("a disabled key and one pending deletion", async () => {
    const { signature } = await sign({});
    await okms.disableKey({ keyId: ec });
    const verify = () =>
      okms.verify({
        keyId: ec,
        message: utf8("m"),
        signature,
        signingAlgorithm: "ECDSA_SHA_256",
      });
    for (
      const call of [
        () => sign({}),
        verify,
        () => okms.getPublicKey({ keyId: ec }),
      ]
    ) {
      const error = await rejectsNamed(call(), "DisabledException");
      assert.match((error as { keyArn?: string }).keyArn ?? "", /:key\//);
    }
    await okms.scheduleKeyDeletion({ keyId: ec, pendingWindowInDays: 7 });
    await rejectsNamed(sign({}), "KMSInvalidStateException");
    await rejectsNamed(
      okms.getPublicKey({ keyId: ec }),
      "KMSInvalidStateException",
    );
  });
});
