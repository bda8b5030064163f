/**
 * Asymmetric, HMAC and key-agreement keys on a SoftHSM2 token of their
 * own, checked against WebCrypto and node:crypto, and the SoftHSM2 2.6.1
 * findings the HSM layer's choices rest on.
 */
import assert from "node:assert/strict";
import nodeCrypto from "node:crypto";
import {
  CKA,
  CKK,
  CKM,
  CKR,
  findPkcs11Module,
  fixedBuffer,
  Mechanism,
  Pkcs11Error,
  SOFTHSM2_MODULE_PATHS,
} from "../ffi/mod.ts";
import {
  InvalidCiphertextException,
  UnsupportedOperationException,
  ValidationException,
} from "../lib/errors.ts";
import { Hsm } from "../lib/hsm.ts";
import { domainKeyTemplate } from "../lib/material/domain_keys.ts";
import { deriveSharedSecret } from "../lib/asymmetric/key_agreement.ts";
import {
  generateHmacKey,
  generateKeyPair,
  importPublicKey,
} from "../lib/asymmetric/key_generation.ts";
import {
  KEY_SPECS,
  type KeySpec,
  type KeyUsage,
  type SigningAlgorithm,
} from "../lib/asymmetric/key_specs.ts";
import { generateMac } from "../lib/asymmetric/mac.ts";
import { decrypt, encrypt } from "../lib/asymmetric/rsa_encryption.ts";
import { sign, type SigningInput, verify } from "../lib/asymmetric/signing.ts";
import {
  allowedMechanisms,
  privateKeyTemplate,
} from "../lib/asymmetric/templates.ts";
import { CURVES } from "../lib/asymmetric/curves.ts";
import {
  ecdsaDerToRaw,
  ecdsaRawToDer,
} from "../lib/asymmetric/ecdsa_signature.ts";
import { parseSpki } from "../lib/asymmetric/spki.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const IN_USE = { token: false, toWrap: false };
const TO_WRAP = { token: false, toWrap: true };
const CKA_PRIVATE_EXPONENT = 0x123;

/** A fresh token directory and a logged-in Hsm on its one token. */
async function withHsm(body: (hsm: Hsm) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "okms-asymmetric-" });
  await Deno.mkdir(`${dir}/tokens`);
  await Deno.writeTextFile(
    `${dir}/softhsm2.conf`,
    `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  Deno.env.set("SOFTHSM2_CONF", `${dir}/softhsm2.conf`);
  const hsm = Hsm.open({
    modulePath: findPkcs11Module(SOFTHSM2_MODULE_PATHS),
    tokenLabel: "okms-asymmetric",
    pin: utf8("user-pin"),
    initializeWithSoPin: utf8("so-pin"),
  });
  try {
    await body(hsm);
  } finally {
    hsm.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Packed `CK_MECHANISM_TYPE`s, sorted (SoftHSM2 reads them back sorted). */
function mechanismList(packed: Uint8Array): number[] {
  return [...new BigUint64Array(packed.slice().buffer)].map(Number).sort((
    a,
    b,
  ) => a - b);
}

const pkcs11Code = (code: number) => (e: unknown) =>
  e instanceof Pkcs11Error && e.code === code;

/** The public key of a DER SPKI, for node:crypto. */
function nodePublicKey(spki: Uint8Array): nodeCrypto.KeyObject {
  return nodeCrypto.createPublicKey({
    key: Buffer.from(spki),
    format: "der",
    type: "spki",
  });
}

/** node:crypto's verification of an AWS-format signature made with `spki`. */
function nodeVerifies(
  spki: Uint8Array,
  algorithm: SigningAlgorithm,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const key = nodePublicKey(spki);
  if (algorithm === "ED25519_SHA_512") {
    return nodeCrypto.verify(null, message, key, signature);
  }
  const hash = `sha${algorithm.slice(-3)}`;
  const padding = algorithm.startsWith("RSASSA_PSS")
    ? {
      padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(algorithm.slice(-3)) / 8,
    }
    : {};
  return nodeCrypto.verify(
    hash,
    message,
    { key, ...padding },
    curveOf(spki) === "secp256k1" ? lowS(signature) : signature,
  );
}

function curveOf(spki: Uint8Array): string | undefined {
  const parts = parseSpki(spki);
  return parts.kind === "EC" ? parts.curve.name : undefined;
}

const SECP256K1_ORDER =
  0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/**
 * A secp256k1 signature with s ≤ n/2: Deno's node:crypto (the k256 crate)
 * refuses the other half of valid signatures, which OpenSSL in SoftHSM2
 * (and AWS KMS) make; s and n − s are both valid.
 */
function lowS(der: Uint8Array): Uint8Array {
  const raw = ecdsaDerToRaw(der, 32);
  const s = BigInt(`0x${raw.subarray(32).toHex()}`);
  if (s <= SECP256K1_ORDER / 2n) return der;
  raw.set(
    Uint8Array.fromHex((SECP256K1_ORDER - s).toString(16).padStart(64, "0")),
    32,
  );
  return ecdsaRawToDer(raw);
}

const SIGNERS: [KeySpec, SigningAlgorithm[]][] = [
  ["RSA_2048", [
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
  ]],
  ["RSA_3072", ["RSASSA_PSS_SHA_384"]],
  ["RSA_4096", ["RSASSA_PKCS1_V1_5_SHA_512"]],
  ["ECC_NIST_P256", ["ECDSA_SHA_256"]],
  ["ECC_NIST_P384", ["ECDSA_SHA_384"]],
  ["ECC_NIST_P521", ["ECDSA_SHA_512"]],
  ["ECC_SECG_P256K1", ["ECDSA_SHA_256"]],
  ["ECC_NIST_EDWARDS25519", ["ED25519_SHA_512"]],
];

Deno.test("asymmetric keys in SoftHSM2", async (t) => {
  await withHsm(async (hsm) => {
    await t.step("SoftHSM2 2.6.1 findings the choices rest on", () => {
      const offered = hsm.mechanisms;
      for (
        const m of [
          CKM.ECDSA,
          CKM.EDDSA,
          CKM.ECDH1_DERIVE,
          CKM.RSA_PKCS,
          CKM.RSA_PKCS_PSS,
          CKM.SHA256_RSA_PKCS_PSS,
          CKM.SHA224_HMAC,
          CKM.SHA512_HMAC,
          CKM.EC_EDWARDS_KEY_PAIR_GEN,
          CKM.GENERIC_SECRET_KEY_GEN,
        ]
      ) assert.ok(offered.has(m), `offers 0x${m.toString(16)}`);
      // No ECDSA with a hash: RAW messages are hashed in JS.
      for (const m of [CKM.ECDSA_SHA256, CKM.ECDSA_SHA384, CKM.ECDSA_SHA512]) {
        assert.equal(offered.has(m), false);
      }
      // HMAC keys are generic secrets: CKK_SHA256_HMAC cannot be generated.
      assert.throws(
        () =>
          hsm.generateKey(CKM.GENERIC_SECRET_KEY_GEN, [
            [CKA.KEY_TYPE, CKK.SHA256_HMAC],
            [CKA.VALUE_LEN, 32],
            [CKA.TOKEN, false],
          ]),
        pkcs11Code(CKR.TEMPLATE_INCONSISTENT),
      );
      // Ed25519ph: CK_EDDSA_PARAMS.phFlag is taken but ignored (the
      // signature is pure Ed25519 of the same bytes), and an Ed25519 private
      // key cannot be wrapped.
      const ed = generateKeyPair(
        hsm,
        "ECC_NIST_EDWARDS25519",
        "SIGN_VERIFY",
        { token: false, toWrap: false },
      );
      const params = fixedBuffer(24); // phFlag, ulContextDataLen, pContextData
      params[0] = 1;
      const digest = new Uint8Array(64).fill(7);
      assert.deepEqual(
        hsm.sign(new Mechanism(CKM.EDDSA, params), ed.privateKey, digest),
        hsm.sign(CKM.EDDSA, ed.privateKey, digest),
      );
      const edToWrap = generateKeyPair(
        hsm,
        "ECC_NIST_EDWARDS25519",
        "SIGN_VERIFY",
        TO_WRAP,
      );
      const domainKey = hsm.generateAesKey(
        domainKeyTemplate(new Uint8Array(16)),
      );
      assert.throws(
        () => hsm.wrap(CKM.AES_KEY_WRAP_PAD, domainKey, edToWrap.privateKey),
        pkcs11Code(CKR.KEY_NOT_WRAPPABLE),
      );
      // HMAC keys must be at least as long as the hash.
      const short = generateHmacKey(hsm, "HMAC_256", IN_USE);
      assert.throws(
        () => hsm.sign(CKM.SHA512_HMAC, short, utf8("x")),
        (e: unknown) =>
          e instanceof Pkcs11Error &&
          (e.code === CKR.KEY_SIZE_RANGE || e.code === CKR.MECHANISM_INVALID),
      );
    });

    for (const [spec, algorithms] of SIGNERS) {
      await t.step(
        `${spec} signs as node:crypto and the HSM verify`,
        async () => {
          const pair = generateKeyPair(hsm, spec, "SIGN_VERIFY", IN_USE);
          const verifier = importPublicKey(hsm, spec, "SIGN_VERIFY", pair.spki);
          for (const algorithm of algorithms) {
            const message = utf8(`message for ${algorithm}`);
            const input: SigningInput = { spec, algorithm, message };
            const signature = await sign(hsm, pair.privateKey, input);
            assert.ok(nodeVerifies(pair.spki, algorithm, message, signature));
            assert.ok(await verify(hsm, verifier, input, signature));
            assert.ok(await verify(hsm, pair.publicKey, input, signature));
            const tampered = utf8(`message for ${algorithm}!`);
            assert.equal(
              nodeVerifies(pair.spki, algorithm, tampered, signature),
              false,
            );
            assert.equal(
              await verify(
                hsm,
                verifier,
                { ...input, message: tampered },
                signature,
              ),
              false,
            );
            const forged = signature.slice();
            forged[forged.length - 5] ^= 1;
            assert.equal(
              nodeVerifies(pair.spki, algorithm, message, forged),
              false,
            );
            assert.equal(await verify(hsm, verifier, input, forged), false);
            assert.equal(
              await verify(hsm, verifier, input, forged.subarray(3)),
              false,
            );
            if (algorithm === "ED25519_SHA_512") {
              const key = await crypto.subtle.importKey(
                "spki",
                pair.spki as Uint8Array<ArrayBuffer>,
                "Ed25519",
                false,
                ["verify"],
              );
              assert.ok(
                await crypto.subtle.verify(
                  "Ed25519",
                  key,
                  signature as Uint8Array<ArrayBuffer>,
                  message,
                ),
              );
              continue;
            }
            // MessageType DIGEST: the same signature scheme on the digest.
            const hash = `SHA-${algorithm.slice(-3)}`;
            const digest = new Uint8Array(
              await crypto.subtle.digest(hash, message),
            );
            const ofDigest = await sign(hsm, pair.privateKey, {
              ...input,
              message: digest,
              messageType: "DIGEST",
            });
            assert.ok(nodeVerifies(pair.spki, algorithm, message, ofDigest));
            assert.throws(
              () =>
                sign(hsm, pair.privateKey, {
                  ...input,
                  message: digest.subarray(1),
                  messageType: "DIGEST",
                }),
              ValidationException,
            );
          }
        },
      );
    }

    await t.step("signing refuses what the spec or HSM cannot do", () => {
      const ec = generateKeyPair(hsm, "ECC_NIST_P256", "SIGN_VERIFY", IN_USE);
      assert.throws(
        () =>
          sign(hsm, ec.privateKey, {
            spec: "ECC_NIST_P256",
            algorithm: "ECDSA_SHA_384",
            message: utf8("m"),
          }),
        ValidationException,
      );
      const ed = generateKeyPair(
        hsm,
        "ECC_NIST_EDWARDS25519",
        "SIGN_VERIFY",
        IN_USE,
      );
      assert.throws(
        () =>
          sign(hsm, ed.privateKey, {
            spec: "ECC_NIST_EDWARDS25519",
            algorithm: "ED25519_PH_SHA_512",
            message: new Uint8Array(64),
            messageType: "DIGEST",
          }),
        UnsupportedOperationException,
      );
      assert.throws(
        () =>
          sign(hsm, ed.privateKey, {
            spec: "ECC_NIST_EDWARDS25519",
            algorithm: "ED25519_SHA_512",
            message: new Uint8Array(64),
            messageType: "DIGEST",
          }),
        ValidationException,
      );
      assert.throws(
        () => generateKeyPair(hsm, "ECC_SECG_P256K1", "KEY_AGREEMENT", IN_USE),
        ValidationException,
      );
      assert.throws(
        () => generateKeyPair(hsm, "HMAC_256", "GENERATE_VERIFY_MAC", IN_USE),
        ValidationException,
      );
    });

    await t.step(
      "RSA-OAEP: WebCrypto's SHA-1 ciphertexts decrypt in the HSM; SHA-256 is refused cleanly",
      async () => {
        const pair = generateKeyPair(
          hsm,
          "RSA_2048",
          "ENCRYPT_DECRYPT",
          IN_USE,
        );
        const spec = "RSA_2048";
        const webKey = await crypto.subtle.importKey(
          "spki",
          pair.spki as Uint8Array<ArrayBuffer>,
          { name: "RSA-OAEP", hash: "SHA-1" },
          false,
          ["encrypt"],
        );
        const plaintext = utf8("attack at dawn");
        const ciphertext = new Uint8Array(
          await crypto.subtle.encrypt({ name: "RSA-OAEP" }, webKey, plaintext),
        );
        assert.deepEqual(
          decrypt(hsm, pair.privateKey, spec, "RSAES_OAEP_SHA_1", ciphertext),
          plaintext,
        );
        const nodeCiphertext = nodeCrypto.publicEncrypt({
          key: nodePublicKey(pair.spki),
          oaepHash: "sha1",
        }, plaintext);
        assert.deepEqual(
          decrypt(
            hsm,
            pair.privateKey,
            spec,
            "RSAES_OAEP_SHA_1",
            nodeCiphertext,
          ),
          plaintext,
        );
        const own = encrypt(
          hsm,
          pair.publicKey,
          spec,
          "RSAES_OAEP_SHA_1",
          plaintext,
        );
        assert.deepEqual(
          decrypt(hsm, pair.privateKey, spec, "RSAES_OAEP_SHA_1", own),
          plaintext,
        );
        ciphertext[10] ^= 1;
        assert.throws(
          () =>
            decrypt(hsm, pair.privateKey, spec, "RSAES_OAEP_SHA_1", ciphertext),
          InvalidCiphertextException,
        );
        assert.throws(
          () =>
            encrypt(
              hsm,
              pair.publicKey,
              spec,
              "RSAES_OAEP_SHA_1",
              new Uint8Array(215),
            ),
          ValidationException,
        );
        const sha256 = new Uint8Array(
          await crypto.subtle.encrypt(
            { name: "RSA-OAEP" },
            await crypto.subtle.importKey(
              "spki",
              pair.spki as Uint8Array<ArrayBuffer>,
              { name: "RSA-OAEP", hash: "SHA-256" },
              false,
              ["encrypt"],
            ),
            plaintext,
          ),
        );
        assert.throws(
          () =>
            decrypt(hsm, pair.privateKey, spec, "RSAES_OAEP_SHA_256", sha256),
          UnsupportedOperationException,
        );
      },
    );

    for (
      const [spec, curve] of [["ECC_NIST_P256", "P-256"], [
        "ECC_NIST_P384",
        "P-384",
      ], ["ECC_NIST_P521", "P-521"]] as const
    ) {
      await t.step(
        `${spec} ECDH secrets equal WebCrypto's and node:crypto's`,
        async () => {
          const pair = generateKeyPair(hsm, spec, "KEY_AGREEMENT", IN_USE);
          const peer = await crypto.subtle.generateKey(
            { name: "ECDH", namedCurve: curve },
            true,
            ["deriveBits"],
          ) as CryptoKeyPair;
          const peerSpki = new Uint8Array(
            await crypto.subtle.exportKey("spki", peer.publicKey),
          );
          const secret = deriveSharedSecret(
            hsm,
            pair.privateKey,
            spec,
            "ECDH",
            peerSpki,
          );
          const ours = await crypto.subtle.importKey(
            "spki",
            pair.spki as Uint8Array<ArrayBuffer>,
            { name: "ECDH", namedCurve: curve },
            false,
            [],
          );
          const theirs = new Uint8Array(
            await crypto.subtle.deriveBits(
              { name: "ECDH", public: ours },
              peer.privateKey,
              8 * CURVES[curve].coordinateBytes,
            ),
          );
          assert.deepEqual(secret, theirs);
          const nodePeer = nodeCrypto.generateKeyPairSync("ec", {
            namedCurve: curve,
          });
          const nodeSecret = nodeCrypto.diffieHellman({
            privateKey: nodePeer.privateKey,
            publicKey: nodePublicKey(pair.spki),
          });
          assert.deepEqual(
            deriveSharedSecret(
              hsm,
              pair.privateKey,
              spec,
              "ECDH",
              new Uint8Array(
                nodePeer.publicKey.export({ type: "spki", format: "der" }),
              ),
            ),
            new Uint8Array(nodeSecret),
          );
          // The read-once secret left nothing behind.
          assert.deepEqual(
            hsm.find([[CKA.KEY_TYPE, CKK.GENERIC_SECRET], [CKA.TOKEN, false], [
              CKA.SENSITIVE,
              false,
            ]]),
            [],
          );
        },
      );
    }

    await t.step(
      "ECDH refuses wrong-curve and malformed peers, and keys made for signing",
      async () => {
        const pair = generateKeyPair(
          hsm,
          "ECC_NIST_P256",
          "KEY_AGREEMENT",
          IN_USE,
        );
        const p384 = await crypto.subtle.generateKey(
          { name: "ECDH", namedCurve: "P-384" },
          true,
          ["deriveBits"],
        ) as CryptoKeyPair;
        const p384Spki = new Uint8Array(
          await crypto.subtle.exportKey("spki", p384.publicKey),
        );
        assert.throws(
          () =>
            deriveSharedSecret(
              hsm,
              pair.privateKey,
              "ECC_NIST_P256",
              "ECDH",
              p384Spki,
            ),
          /P-384, but the KMS key's curve is P-256/,
        );
        assert.throws(
          () =>
            deriveSharedSecret(
              hsm,
              pair.privateKey,
              "ECC_NIST_P256",
              "ECDH",
              p384Spki.subarray(0, 30),
            ),
          ValidationException,
        );
        const signer = generateKeyPair(
          hsm,
          "ECC_NIST_P256",
          "SIGN_VERIFY",
          IN_USE,
        );
        assert.throws(
          () =>
            deriveSharedSecret(
              hsm,
              signer.privateKey,
              "ECC_NIST_P256",
              "ECDH",
              pair.spki,
            ),
          pkcs11Code(CKR.KEY_FUNCTION_NOT_PERMITTED),
        );
        assert.throws(
          () =>
            deriveSharedSecret(
              hsm,
              pair.privateKey,
              "ECC_SECG_P256K1",
              "ECDH",
              pair.spki,
            ),
          ValidationException,
        );
      },
    );

    for (
      const [spec, algorithm, hash] of [
        ["HMAC_224", "HMAC_SHA_224", "sha224"],
        ["HMAC_256", "HMAC_SHA_256", "sha256"],
        ["HMAC_384", "HMAC_SHA_384", "sha384"],
        ["HMAC_512", "HMAC_SHA_512", "sha512"],
      ] as const
    ) {
      await t.step(
        `${spec} MACs equal node:crypto's (through a wrap under a domain key)`,
        () => {
          const domainKey = hsm.generateAesKey(
            domainKeyTemplate(crypto.getRandomValues(new Uint8Array(16))),
          );
          const toWrap = generateHmacKey(hsm, spec, TO_WRAP);
          assert.throws(
            () => hsm.sign(CKM.SHA256_HMAC, toWrap, utf8("m")),
            pkcs11Code(CKR.KEY_FUNCTION_NOT_PERMITTED),
          );
          const blob = hsm.wrap(CKM.AES_KEY_WRAP_PAD, domainKey, toWrap);
          hsm.destroy(toWrap);
          const key = hsm.unwrap(
            CKM.AES_KEY_WRAP_PAD,
            domainKey,
            blob,
            privateKeyTemplate(spec, "GENERATE_VERIFY_MAC", IN_USE),
          );
          const [value] = hsm.read(key, [[CKA.VALUE, 64]]);
          assert.equal(value, undefined);
          for (
            const message of [
              utf8("hello"),
              new Uint8Array(0),
              new Uint8Array(4096).fill(9),
            ]
          ) {
            const mac = generateMac(hsm, key, spec, algorithm, message);
            assert.equal(
              mac.length,
              nodeCrypto.createHash(hash).digest().length,
            );
            assert.deepEqual(
              generateMac(hsm, key, spec, algorithm, message),
              mac,
              "the same key and message give the same MAC",
            );
          }
          assert.throws(
            () =>
              generateMac(
                hsm,
                key,
                spec,
                "HMAC_SHA_256" === algorithm ? "HMAC_SHA_512" : "HMAC_SHA_256",
                utf8("m"),
              ),
            ValidationException,
          );
        },
      );
    }

    await t.step(
      "key attributes read back: sensitive, not extractable, one use, its mechanisms only",
      () => {
        const cases: [KeySpec, KeyUsage, number, number][] = [
          ["ECC_NIST_P256", "SIGN_VERIFY", CKA.SIGN, CKA.VALUE],
          ["ECC_NIST_P384", "KEY_AGREEMENT", CKA.DERIVE, CKA.VALUE],
          ["RSA_2048", "SIGN_VERIFY", CKA.SIGN, CKA_PRIVATE_EXPONENT],
          ["RSA_2048", "ENCRYPT_DECRYPT", CKA.DECRYPT, CKA_PRIVATE_EXPONENT],
          ["ECC_NIST_EDWARDS25519", "SIGN_VERIFY", CKA.SIGN, CKA.VALUE],
          ["HMAC_384", "GENERATE_VERIFY_MAC", CKA.SIGN, CKA.VALUE],
        ];
        const uses = [CKA.SIGN, CKA.DECRYPT, CKA.DERIVE, CKA.UNWRAP];
        for (const [spec, usage, use, secret] of cases) {
          const key = KEY_SPECS[spec].material.kind === "HMAC"
            ? generateHmacKey(hsm, spec, IN_USE)
            : generateKeyPair(hsm, spec, usage, IN_USE).privateKey;
          const flags = [
            CKA.TOKEN,
            CKA.PRIVATE,
            CKA.SENSITIVE,
            CKA.ALWAYS_SENSITIVE,
            CKA.EXTRACTABLE,
            CKA.NEVER_EXTRACTABLE,
            CKA.MODIFIABLE,
            CKA.COPYABLE,
            ...uses,
          ];
          const read = hsm.read(key, flags.map((type) => [type, 1] as const));
          const value = Object.fromEntries(
            flags.map((type, i) => [type, read[i]?.[0]]),
          );
          assert.deepEqual(
            [
              value[CKA.TOKEN],
              value[CKA.PRIVATE],
              value[CKA.SENSITIVE],
              value[CKA.ALWAYS_SENSITIVE],
              value[CKA.EXTRACTABLE],
              value[CKA.NEVER_EXTRACTABLE],
              value[CKA.MODIFIABLE],
              value[CKA.COPYABLE],
            ],
            [0, 1, 1, 1, 0, 1, 0, 0],
            `${spec} ${usage}`,
          );
          for (const other of uses) {
            assert.equal(
              value[other],
              other === use ? 1 : 0,
              `${spec} ${usage} 0x${other.toString(16)}`,
            );
          }
          const [allowed, hidden] = hsm.read(key, [
            [CKA.ALLOWED_MECHANISMS, 64],
            [secret, 1024],
          ]);
          assert.deepEqual(
            mechanismList(allowed!),
            mechanismList(allowedMechanisms(spec, usage)),
          );
          assert.equal(hidden, undefined, `${spec} value unreadable`);
        }
        assert.deepEqual(
          [
            ...new BigUint64Array(
              allowedMechanisms("RSA_4096", "SIGN_VERIFY").slice().buffer,
            ),
          ].map(Number),
          [CKM.RSA_PKCS_PSS, CKM.RSA_PKCS],
        );
        // A mechanism outside CKA_ALLOWED_MECHANISMS is refused by the HSM.
        const rsa = generateKeyPair(hsm, "RSA_2048", "SIGN_VERIFY", IN_USE);
        assert.throws(
          () => hsm.sign(CKM.SHA256_RSA_PKCS, rsa.privateKey, utf8("m")),
          pkcs11Code(CKR.MECHANISM_INVALID),
        );
      },
    );

    for (
      const [spec, usage, algorithm] of [
        ["ECC_NIST_P256", "SIGN_VERIFY", "ECDSA_SHA_256"],
        ["ECC_NIST_P521", "SIGN_VERIFY", "ECDSA_SHA_512"],
        ["ECC_SECG_P256K1", "SIGN_VERIFY", "ECDSA_SHA_256"],
        ["RSA_2048", "SIGN_VERIFY", "RSASSA_PSS_SHA_256"],
        ["ECC_NIST_P384", "KEY_AGREEMENT", "ECDH"],
        ["RSA_3072", "ENCRYPT_DECRYPT", "RSAES_OAEP_SHA_1"],
      ] as const
    ) {
      await t.step(
        `${spec} ${usage}: wrapped under a domain key (AES key wrap with padding) and unwrapped for use`,
        async () => {
          const domainKey = hsm.generateAesKey(
            domainKeyTemplate(crypto.getRandomValues(new Uint8Array(16))),
          );
          const pair = generateKeyPair(hsm, spec, usage, TO_WRAP);
          // Until it is wrapped, the key can do nothing.
          assert.throws(
            () => hsm.sign(CKM.ECDSA, pair.privateKey, new Uint8Array(32)),
            pkcs11Code(CKR.KEY_FUNCTION_NOT_PERMITTED),
          );
          const blob = hsm.wrap(
            CKM.AES_KEY_WRAP_PAD,
            domainKey,
            pair.privateKey,
          );
          hsm.destroy(pair.privateKey);
          hsm.destroy(pair.publicKey);
          const key = hsm.unwrap(
            CKM.AES_KEY_WRAP_PAD,
            domainKey,
            blob,
            privateKeyTemplate(spec, usage, IN_USE),
          );
          const [sensitive, extractable, modifiable] = hsm.read(key, [
            [CKA.SENSITIVE, 1],
            [CKA.EXTRACTABLE, 1],
            [CKA.MODIFIABLE, 1],
          ]);
          assert.deepEqual(
            [sensitive?.[0], extractable?.[0], modifiable?.[0]],
            [1, 0, 0],
          );
          assert.throws(
            () => hsm.wrap(CKM.AES_KEY_WRAP_PAD, domainKey, key),
            pkcs11Code(CKR.KEY_UNEXTRACTABLE),
          );
          if (algorithm === "ECDH") {
            const peer = nodeCrypto.generateKeyPairSync("ec", {
              namedCurve: "P-384",
            });
            const expected = nodeCrypto.diffieHellman({
              privateKey: peer.privateKey,
              publicKey: nodePublicKey(pair.spki),
            });
            assert.deepEqual(
              deriveSharedSecret(
                hsm,
                key,
                spec,
                "ECDH",
                new Uint8Array(
                  peer.publicKey.export({ type: "spki", format: "der" }),
                ),
              ),
              new Uint8Array(expected),
            );
          } else if (algorithm === "RSAES_OAEP_SHA_1") {
            const ciphertext = nodeCrypto.publicEncrypt({
              key: nodePublicKey(pair.spki),
              oaepHash: "sha1",
            }, utf8("secret"));
            assert.deepEqual(
              decrypt(hsm, key, spec, algorithm, ciphertext),
              utf8("secret"),
            );
          } else {
            const message = utf8("signed after unwrapping");
            const signature = await sign(hsm, key, {
              spec,
              algorithm,
              message,
            });
            assert.ok(nodeVerifies(pair.spki, algorithm, message, signature));
          }
        },
      );
    }

    await t.step("HMAC values equal node:crypto's for a key both know", () => {
      // An HMAC key can never be read; to compare with node:crypto, import
      // a known value as a session key with the in-use template.
      const value = crypto.getRandomValues(new Uint8Array(32));
      const key = hsm.createObject([
        [CKA.VALUE, value],
        ...privateKeyTemplate("HMAC_256", "GENERATE_VERIFY_MAC", IN_USE),
      ]);
      for (const message of [utf8("hello"), new Uint8Array(0)]) {
        assert.equal(
          generateMac(hsm, key, "HMAC_256", "HMAC_SHA_256", message).toHex(),
          nodeCrypto.createHmac("sha256", value).update(message).digest("hex"),
        );
      }
    });
  });
});
