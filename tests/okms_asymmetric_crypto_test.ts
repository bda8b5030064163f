/**
 * RSA Encrypt/Decrypt, DeriveSharedSecret and data key pairs on a real
 * SoftHSM2 token, checked against WebCrypto and node:crypto.
 */
import assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import { DataKeyPair, type KeyPairSpec } from "../mod.ts";
import { openTestOkms, rejectsNamed, utf8 } from "./helpers.ts";

/** Asymmetric keys need wrapped material (token mode keeps symmetric keys only). */
const WRAPPED = { keyMaterial: "wrapped" } as const;

Deno.test("RSA Encrypt and Decrypt with RSAES_OAEP_SHA_1", async (t) => {
  await using fixture = await openTestOkms(WRAPPED);
  const okms = fixture.okms;
  const rsa = await okms.createKey({
    keySpec: "RSA_2048",
    keyUsage: "ENCRYPT_DECRYPT",
  });
  const keyId = rsa.keyId;
  const algorithm = "RSAES_OAEP_SHA_1";
  const { publicKey } = await okms.getPublicKey({ keyId });

  await t.step(
    "WebCrypto's ciphertexts from the SPKI decrypt in okms",
    async () => {
      const webKey = await crypto.subtle.importKey(
        "spki",
        publicKey as Uint8Array<ArrayBuffer>,
        { name: "RSA-OAEP", hash: "SHA-1" },
        false,
        ["encrypt"],
      );
      const plaintext = utf8("attack at dawn");
      const ciphertextBlob = new Uint8Array(
        await crypto.subtle.encrypt({ name: "RSA-OAEP" }, webKey, plaintext),
      );
      const out = await okms.decrypt({
        ciphertextBlob,
        keyId,
        encryptionAlgorithm: algorithm,
      });
      assert.deepEqual(out.plaintext, plaintext);
      assert.equal(out.keyId, rsa.arn);
      assert.equal(out.encryptionAlgorithm, algorithm);
    },
  );

  await t.step(
    "okms ciphertexts round-trip, differ each time, and node:crypto's key agrees",
    async () => {
      const plaintext = crypto.getRandomValues(new Uint8Array(214));
      const first = await okms.encrypt({
        keyId,
        plaintext,
        encryptionAlgorithm: algorithm,
      });
      const second = await okms.encrypt({
        keyId: rsa.arn,
        plaintext,
        encryptionAlgorithm: algorithm,
      });
      assert.equal(first.keyId, rsa.arn);
      assert.equal(first.encryptionAlgorithm, algorithm);
      assert.equal(first.ciphertextBlob.byteLength, 256);
      assert.notDeepEqual(first.ciphertextBlob, second.ciphertextBlob);
      for (const { ciphertextBlob } of [first, second]) {
        const out = await okms.decrypt({
          ciphertextBlob,
          keyId,
          encryptionAlgorithm: algorithm,
        });
        assert.deepEqual(out.plaintext, plaintext);
      }
      // A ciphertext made for another key of the same spec does not decrypt.
      const other = nodeCrypto.generateKeyPairSync("rsa", {
        modulusLength: 2048,
      });
      const foreign = nodeCrypto.publicEncrypt(
        { key: other.publicKey, oaepHash: "sha1" },
        plaintext,
      );
      await rejectsNamed(
        okms.decrypt({
          ciphertextBlob: foreign,
          keyId,
          encryptionAlgorithm: algorithm,
        }),
        "InvalidCiphertextException",
      );
    },
  );

  await t.step(
    "AWS's size limit: 214 bytes for RSA_2048 with SHA-1",
    async () => {
      const error = await rejectsNamed(
        okms.encrypt({
          keyId,
          plaintext: new Uint8Array(215),
          encryptionAlgorithm: algorithm,
        }),
        "ValidationException",
      );
      assert.match(error.message, /at most 214 bytes/);
    },
  );

  await t.step(
    "SoftHSM2 refuses RSAES_OAEP_SHA_256 both ways, saying so",
    async () => {
      const webKey = await crypto.subtle.importKey(
        "spki",
        publicKey as Uint8Array<ArrayBuffer>,
        { name: "RSA-OAEP", hash: "SHA-256" },
        false,
        ["encrypt"],
      );
      const ciphertextBlob = new Uint8Array(
        await crypto.subtle.encrypt({ name: "RSA-OAEP" }, webKey, utf8("x")),
      );
      const refusals = [
        okms.decrypt({
          ciphertextBlob,
          keyId,
          encryptionAlgorithm: "RSAES_OAEP_SHA_256",
        }),
        okms.encrypt({
          keyId,
          plaintext: utf8("x"),
          encryptionAlgorithm: "RSAES_OAEP_SHA_256",
        }),
      ];
      for (const refusal of refusals) {
        const error = await rejectsNamed(
          refusal,
          "UnsupportedOperationException",
        );
        assert.match(error.message, /HSM does not offer RSAES_OAEP_SHA_256/);
      }
    },
  );

  await t.step(
    "AWS's rules: KeyId needed, no context, the right key",
    async () => {
      const { ciphertextBlob } = await okms.encrypt({
        keyId,
        plaintext: utf8("x"),
        encryptionAlgorithm: algorithm,
      });
      await rejectsNamed(
        okms.decrypt({ ciphertextBlob, encryptionAlgorithm: algorithm }),
        "ValidationException",
      );
      await rejectsNamed(
        okms.encrypt({
          keyId,
          plaintext: utf8("x"),
          encryptionAlgorithm: algorithm,
          encryptionContext: { order: "42" },
        }),
        "ValidationException",
      );
      await rejectsNamed(
        okms.encrypt({
          keyId,
          plaintext: utf8("x"),
          encryptionAlgorithm: "RSAES_PKCS1" as typeof algorithm,
        }),
        "ValidationException",
      );
      // SYMMETRIC_DEFAULT with an RSA key, and RSA with a symmetric key.
      await rejectsNamed(
        okms.encrypt({ keyId, plaintext: utf8("x") }),
        "InvalidKeyUsageException",
      );
      const aes = await okms.createKey();
      await rejectsNamed(
        okms.encrypt({
          keyId: aes.keyId,
          plaintext: utf8("x"),
          encryptionAlgorithm: algorithm,
        }),
        "InvalidKeyUsageException",
      );
      await rejectsNamed(
        okms.decrypt({
          ciphertextBlob,
          keyId: aes.keyId,
          encryptionAlgorithm: algorithm,
        }),
        "InvalidKeyUsageException",
      );
    },
  );

  await t.step("a disabled RSA key neither encrypts nor decrypts", async () => {
    const { ciphertextBlob } = await okms.encrypt({
      keyId,
      plaintext: utf8("x"),
      encryptionAlgorithm: algorithm,
    });
    await okms.disableKey({ keyId });
    await rejectsNamed(
      okms.encrypt({
        keyId,
        plaintext: utf8("x"),
        encryptionAlgorithm: algorithm,
      }),
      "DisabledException",
    );
    await rejectsNamed(
      okms.decrypt({ ciphertextBlob, keyId, encryptionAlgorithm: algorithm }),
      "DisabledException",
    );
    await okms.enableKey({ keyId });
  });
});

Deno.test("DeriveSharedSecret equals what the peer derives in WebCrypto", async (t) => {
  await using fixture = await openTestOkms(WRAPPED);
  const okms = fixture.okms;
  const curves = [
    ["ECC_NIST_P256", "P-256", 256],
    ["ECC_NIST_P384", "P-384", 384],
  ] as const;
  for (const [keySpec, namedCurve, bits] of curves) {
    await t.step(keySpec, async () => {
      const key = await okms.createKey({ keySpec, keyUsage: "KEY_AGREEMENT" });
      const peer = await crypto.subtle.generateKey(
        { name: "ECDH", namedCurve },
        true,
        ["deriveBits"],
      );
      const out = await okms.deriveSharedSecret({
        keyId: key.keyId,
        keyAgreementAlgorithm: "ECDH",
        publicKey: new Uint8Array(
          await crypto.subtle.exportKey("spki", peer.publicKey),
        ),
      });
      const kmsPublic = await crypto.subtle.importKey(
        "spki",
        (await okms.getPublicKey({ keyId: key.keyId })).publicKey as Uint8Array<
          ArrayBuffer
        >,
        { name: "ECDH", namedCurve },
        false,
        [],
      );
      const expected = new Uint8Array(
        await crypto.subtle.deriveBits(
          { name: "ECDH", public: kmsPublic },
          peer.privateKey,
          bits,
        ),
      );
      assert.deepEqual(out.sharedSecret, expected);
      assert.equal(out.keyId, key.arn);
      assert.equal(out.keyAgreementAlgorithm, "ECDH");
      assert.equal(out.keyOrigin, "AWS_KMS");
    });
  }

  await t.step("bad peer keys and wrong keys are refused", async () => {
    const key = await okms.createKey({
      keySpec: "ECC_NIST_P256",
      keyUsage: "KEY_AGREEMENT",
    });
    const p384 = await crypto.subtle.generateKey(
      { name: "ECDH", namedCurve: "P-384" },
      true,
      ["deriveBits"],
    );
    const p256 = await crypto.subtle.generateKey(
      { name: "ECDH", namedCurve: "P-256" },
      true,
      ["deriveBits"],
    );
    const good = new Uint8Array(
      await crypto.subtle.exportKey("spki", p256.publicKey),
    );
    const offCurve = good.slice();
    offCurve[offCurve.length - 1] ^= 1;
    const derive = (publicKey: Uint8Array, keyId = key.keyId) =>
      okms.deriveSharedSecret({
        keyId,
        keyAgreementAlgorithm: "ECDH",
        publicKey,
      });
    const cases: [Uint8Array, RegExp][] = [
      [utf8("not DER"), /not a valid DER SubjectPublicKeyInfo/],
      [good.subarray(0, 40), /not a valid DER SubjectPublicKeyInfo/],
      [
        new Uint8Array(await crypto.subtle.exportKey("spki", p384.publicKey)),
        /P-384, but the KMS key's curve is P-256/,
      ],
      [offCurve, /not on P-256/],
    ];
    for (const [publicKey, reason] of cases) {
      const error = await rejectsNamed(
        derive(publicKey),
        "ValidationException",
      );
      assert.match(error.message, reason);
    }
    await rejectsNamed(
      okms.deriveSharedSecret({
        keyId: key.keyId,
        keyAgreementAlgorithm: "ECMQV" as "ECDH",
        publicKey: good,
      }),
      "ValidationException",
    );
    const signing = await okms.createKey({
      keySpec: "ECC_NIST_P256",
      keyUsage: "SIGN_VERIFY",
    });
    await rejectsNamed(derive(good, signing.keyId), "InvalidKeyUsageException");
    await okms.disableKey({ keyId: key.keyId });
    await rejectsNamed(derive(good), "DisabledException");
  });
});

/** Signs with the PKCS#8 key in node:crypto and verifies with the SPKI in WebCrypto. */
async function assertPairWorks(
  spec: KeyPairSpec,
  publicKey: Uint8Array,
  pkcs8: Uint8Array,
): Promise<void> {
  const message = utf8("signed with a data key pair");
  const privateKey = nodeCrypto.createPrivateKey({
    key: pkcs8,
    format: "der",
    type: "pkcs8",
  });
  const spki = nodeCrypto.createPublicKey({
    key: publicKey,
    format: "der",
    type: "spki",
  });
  if (spec === "ECC_SECG_P256K1") { // no secp256k1 in WebCrypto
    const signature = nodeCrypto.sign("sha256", message, privateKey);
    assert.ok(nodeCrypto.verify("sha256", message, spki, signature));
    assert.equal(privateKey.asymmetricKeyDetails?.namedCurve, "secp256k1");
    return;
  }
  const algorithm = spec.startsWith("RSA")
    ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
    : { name: "ECDSA", namedCurve: `P-${spec.slice(-3)}`, hash: "SHA-256" };
  const signer = await crypto.subtle.importKey(
    "pkcs8",
    pkcs8 as Uint8Array<ArrayBuffer>,
    algorithm,
    false,
    ["sign"],
  );
  const verifier = await crypto.subtle.importKey(
    "spki",
    publicKey as Uint8Array<ArrayBuffer>,
    algorithm,
    false,
    ["verify"],
  );
  const signature = await crypto.subtle.sign(algorithm, signer, message);
  assert.ok(
    await crypto.subtle.verify(algorithm, verifier, signature, message),
  );
}

Deno.test("GenerateDataKeyPair: pairs that work, sealed under the CMK", async (t) => {
  await using fixture = await openTestOkms(WRAPPED);
  const okms = fixture.okms;
  const cmk = await okms.createKey({ description: "data key pairs" });
  const encryptionContext = { purpose: "signing" };
  const specs: KeyPairSpec[] = [
    "RSA_2048",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
  ];
  for (const keyPairSpec of specs) {
    await t.step(keyPairSpec, async () => {
      let plaintext: Uint8Array;
      {
        using pair = await okms.generateDataKeyPair({
          keyId: cmk.keyId,
          keyPairSpec,
          encryptionContext,
        });
        assert.ok(pair instanceof DataKeyPair);
        assert.equal(pair.keyId, cmk.arn);
        assert.equal(pair.keyPairSpec, keyPairSpec);
        plaintext = pair.privateKeyPlaintext;
        await assertPairWorks(keyPairSpec, pair.publicKey, plaintext);
        const opened = await okms.decrypt({
          ciphertextBlob: pair.privateKeyCiphertextBlob,
          encryptionContext,
        });
        assert.deepEqual(opened.plaintext, plaintext);
        await rejectsNamed(
          okms.decrypt({
            ciphertextBlob: pair.privateKeyCiphertextBlob,
            encryptionContext: { purpose: "other" },
          }),
          "InvalidCiphertextException",
        );
      }
      assert.ok(plaintext.every((byte) => byte === 0), "zeroed on dispose");
    });
  }

  await t.step("toCryptoKey gives a non-extractable signing key", async () => {
    using pair = await okms.generateDataKeyPair({
      keyId: cmk.keyId,
      keyPairSpec: "ECC_NIST_P256",
    });
    const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const signer = await pair.toCryptoKey(algorithm, ["sign"]);
    assert.equal(signer.extractable, false);
    const verifier = await crypto.subtle.importKey(
      "spki",
      pair.publicKey as Uint8Array<ArrayBuffer>,
      algorithm,
      false,
      ["verify"],
    );
    const message = utf8("m");
    const signature = await crypto.subtle.sign(algorithm, signer, message);
    assert.ok(
      await crypto.subtle.verify(algorithm, verifier, signature, message),
    );
    pair[Symbol.dispose]();
    assert.throws(() => pair.privateKeyPlaintext, TypeError);
  });

  await t.step(
    "WithoutPlaintext: the blob decrypts to the key of the public key",
    async () => {
      const out = await okms.generateDataKeyPairWithoutPlaintext({
        keyId: cmk.keyId,
        keyPairSpec: "ECC_NIST_P256",
        encryptionContext,
      });
      assert.equal("privateKeyPlaintext" in out, false);
      assert.equal(out.keyId, cmk.arn);
      const opened = await okms.decrypt({
        ciphertextBlob: out.privateKeyCiphertextBlob,
        encryptionContext,
      });
      await assertPairWorks("ECC_NIST_P256", out.publicKey, opened.plaintext);
      const derived = nodeCrypto.createPublicKey(
        nodeCrypto.createPrivateKey({
          key: opened.plaintext,
          format: "der",
          type: "pkcs8",
        }),
      ).export({ type: "spki", format: "der" });
      assert.deepEqual(new Uint8Array(derived), out.publicKey);
    },
  );

  await t.step("bad inputs", async () => {
    const rsa = await okms.createKey({
      keySpec: "RSA_2048",
      keyUsage: "ENCRYPT_DECRYPT",
    });
    for (const keyPairSpec of ["SM2", "RSA_1024", undefined]) {
      await rejectsNamed(
        okms.generateDataKeyPair({
          keyId: cmk.keyId,
          keyPairSpec: keyPairSpec as KeyPairSpec,
        }),
        "ValidationException",
      );
    }
    await rejectsNamed(
      okms.generateDataKeyPair({ keyId: rsa.keyId, keyPairSpec: "RSA_2048" }),
      "InvalidKeyUsageException",
    );
    await rejectsNamed(
      okms.generateDataKeyPairWithoutPlaintext({
        keyId: crypto.randomUUID(),
        keyPairSpec: "RSA_2048",
      }),
      "NotFoundException",
    );
    await okms.disableKey({ keyId: cmk.keyId });
    for (
      const call of [
        okms.generateDataKeyPair,
        okms.generateDataKeyPairWithoutPlaintext,
      ]
    ) {
      await rejectsNamed(
        call.call(okms, { keyId: cmk.keyId, keyPairSpec: "ECC_NIST_P256" }),
        "DisabledException",
      );
    }
  });
});
