/**
 * The SubtleCrypto face with asymmetric and HMAC keys on SoftHSM2: every
 * result checked by WebCrypto on the exported public key, or the other
 * way round.
 */
import assert from "node:assert/strict";
import { OkmsKey } from "../mod.ts";
import { openTestOkms, rejectsNamed, utf8 } from "./helpers.ts";

const open = () => openTestOkms({ keyMaterial: "wrapped" });
const message = crypto.getRandomValues(new Uint8Array(10_000));

function flipped(
  data: ArrayBuffer | Uint8Array,
  at = 0,
): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(data).slice();
  copy[at] ^= 1;
  return copy;
}

async function importedPublicKey(
  pair: { publicKey: CryptoKey; privateKey: OkmsKey },
  usages: KeyUsage[],
): Promise<CryptoKey> {
  const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
  return crypto.subtle.importKey(
    "spki",
    spki,
    pair.privateKey.algorithm,
    false,
    usages,
  );
}

Deno.test("ECDSA signatures are raw r ‖ s that WebCrypto verifies", async () => {
  await using t = await open();
  for (
    const [namedCurve, hash, half] of [
      ["P-256", "SHA-256", 32],
      ["P-384", "SHA-384", 48],
      ["P-521", "SHA-512", 66],
    ] as const
  ) {
    const pair = await t.okms.subtle.generateKey(
      { name: "ECDSA", namedCurve },
      false,
      ["sign", "verify"],
    );
    const { privateKey, publicKey } = pair;
    assert.ok(privateKey instanceof OkmsKey);
    assert.equal(privateKey.type, "private");
    assert.equal(privateKey.extractable, false);
    assert.deepEqual(privateKey.algorithm, { name: "ECDSA", namedCurve });
    assert.deepEqual([...privateKey.usages], ["sign"]);
    assert.equal(
      privateKey.metadata.keySpec,
      `ECC_NIST_${namedCurve.replace("-", "")}`,
    );
    assert.ok(publicKey instanceof CryptoKey);
    assert.equal(publicKey.type, "public");
    assert.equal(publicKey.extractable, true);
    assert.deepEqual(publicKey.usages, ["verify"]);

    const algorithm = { name: "ECDSA", hash };
    const signature = await t.okms.subtle.sign(algorithm, privateKey, message);
    assert.equal(signature.byteLength, 2 * half);
    const verifier = await importedPublicKey(pair, ["verify"]);
    assert.ok(
      await crypto.subtle.verify(algorithm, verifier, signature, message),
    );
    assert.ok(
      await t.okms.subtle.verify(algorithm, publicKey, signature, message),
    );
    assert.equal(
      await crypto.subtle.verify(
        algorithm,
        verifier,
        signature,
        flipped(message),
      ),
      false,
    );
    assert.equal(
      await crypto.subtle.verify(
        algorithm,
        verifier,
        flipped(signature, half),
        message,
      ),
      false,
    );
    const jwk = await t.okms.subtle.exportKey("jwk", publicKey);
    assert.equal(jwk.crv, namedCurve);
    assert.equal(jwk.d, undefined);
  }
});

Deno.test("ECDSA takes the one hash AWS pairs with the curve", async () => {
  await using t = await open();
  const { privateKey } = await t.okms.subtle.generateKey(
    { name: "ECDSA", namedCurve: "P-256" },
    false,
    ["sign"],
  );
  await rejectsNamed(
    t.okms.subtle.sign({ name: "ECDSA", hash: "SHA-384" }, privateKey, message),
    "NotSupportedError",
  );
  await rejectsNamed(
    t.okms.subtle.sign(
      { name: "RSA-PSS", saltLength: 32 },
      privateKey,
      message,
    ),
    "InvalidAccessError",
  );
  await rejectsNamed(
    t.okms.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" },
      privateKey,
      new Uint8Array(64),
      message,
    ),
    "InvalidAccessError",
  );
  await rejectsNamed(
    t.okms.subtle.exportKey("pkcs8", privateKey),
    "InvalidAccessError",
  );
  await t.okms.disableKey({ keyId: privateKey.keyId });
  await rejectsNamed(
    t.okms.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, privateKey, message),
    "DisabledException",
  );
});

Deno.test("RSA-PSS and RSASSA-PKCS1-v1_5 signatures verify in WebCrypto", async () => {
  await using t = await open();
  const pair = await t.okms.subtle.generateKey(
    {
      name: "RSA-PSS",
      modulusLength: 2048,
      publicExponent: Uint8Array.of(1, 0, 1),
      hash: "SHA-256",
    },
    false,
    ["sign", "verify"],
  );
  const { privateKey, publicKey } = pair;
  const algorithm = privateKey.algorithm as RsaHashedKeyAlgorithm;
  assert.equal(algorithm.name, "RSA-PSS");
  assert.equal(algorithm.modulusLength, 2048);
  assert.deepEqual(algorithm.publicExponent, Uint8Array.of(1, 0, 1));
  assert.deepEqual(algorithm.hash, { name: "SHA-256" });
  assert.equal(privateKey.metadata.keySpec, "RSA_2048");

  const pss = { name: "RSA-PSS", saltLength: 32 };
  const signature = await t.okms.subtle.sign(pss, privateKey, message);
  assert.ok(await crypto.subtle.verify(pss, publicKey, signature, message));
  assert.equal(
    await crypto.subtle.verify(pss, publicKey, signature, flipped(message)),
    false,
  );
  assert.equal(
    await crypto.subtle.verify(pss, publicKey, flipped(signature, 7), message),
    false,
  );
  await rejectsNamed(
    t.okms.subtle.sign(
      { name: "RSA-PSS", saltLength: 20 },
      privateKey,
      message,
    ),
    "NotSupportedError",
  );

  // Another algorithm of the same AWS key: another handle, as WebCrypto binds one per key.
  const handle = await t.okms.key(privateKey.keyId);
  assert.deepEqual(handle.algorithm, privateKey.algorithm);
  for (
    const [choice, params, hash] of [
      [{ name: "RSA-PSS", hash: "SHA-384" }, {
        name: "RSA-PSS",
        saltLength: 48,
      }, "SHA-384"],
      [{ name: "RSASSA-PKCS1-v1_5", hash: "SHA-512" }, {
        name: "RSASSA-PKCS1-v1_5",
      }, "SHA-512"],
    ] as const
  ) {
    const other = handle.withAlgorithm(choice);
    const verifier = await t.okms.subtle.publicKey(other);
    assert.deepEqual((verifier.algorithm as RsaHashedKeyAlgorithm).hash, {
      name: hash,
    });
    const made = await t.okms.subtle.sign(params, other, message);
    assert.ok(await crypto.subtle.verify(params, verifier, made, message));
    assert.equal(
      await crypto.subtle.verify(params, verifier, made, flipped(message)),
      false,
    );
  }
  assert.throws(
    () => handle.withAlgorithm({ name: "RSA-PSS", hash: "SHA-1" }),
    (e: unknown) => e instanceof DOMException && e.name === "NotSupportedError",
  );
  assert.throws(
    () => handle.withAlgorithm({ name: "RSA-OAEP" }),
    (e: unknown) => e instanceof DOMException && e.name === "NotSupportedError",
  );
});

Deno.test("RSA-OAEP: WebCrypto encrypts with the public key, the HSM decrypts", async () => {
  await using t = await open();
  const pair = await t.okms.subtle.generateKey(
    {
      name: "RSA-OAEP",
      modulusLength: 2048,
      publicExponent: Uint8Array.of(1, 0, 1),
      hash: "SHA-1",
    },
    false,
    ["encrypt", "decrypt"],
  );
  const { privateKey, publicKey } = pair;
  assert.deepEqual([...privateKey.usages], ["decrypt"]);
  assert.deepEqual(publicKey.usages, ["encrypt"]);
  const plaintext = utf8("a secret for the HSM");
  const encryptor = await importedPublicKey(pair, ["encrypt"]);
  const ciphertext = await crypto.subtle.encrypt(
    { name: "RSA-OAEP" },
    encryptor,
    plaintext,
  );
  const opened = await t.okms.subtle.decrypt(
    { name: "RSA-OAEP" },
    privateKey,
    ciphertext,
  );
  assert.deepEqual(new Uint8Array(opened), plaintext);
  const viaFace = await t.okms.subtle.encrypt(
    { name: "RSA-OAEP" },
    publicKey,
    plaintext,
  );
  const again = await t.okms.subtle.decrypt(
    { name: "RSA-OAEP" },
    privateKey,
    viaFace,
  );
  assert.deepEqual(new Uint8Array(again), plaintext);

  await rejectsNamed(
    t.okms.subtle.decrypt(
      { name: "RSA-OAEP" },
      privateKey,
      flipped(ciphertext, 100),
    ),
    "InvalidCiphertextException",
  );
  await rejectsNamed(
    t.okms.subtle.decrypt(
      { name: "RSA-OAEP", label: utf8("label") },
      privateKey,
      ciphertext,
    ),
    "NotSupportedError",
  );
  await rejectsNamed(
    t.okms.subtle.encrypt({ name: "RSA-OAEP" }, privateKey, plaintext),
    "InvalidAccessError",
  );
  // SoftHSM2 2.6.1 has no OAEP with SHA-256.
  const sha256 = privateKey.withAlgorithm({
    name: "RSA-OAEP",
    hash: "SHA-256",
  });
  // No public key to encrypt what nothing could decrypt: neither a new
  // pair nor the public half of an existing key.
  await rejectsNamed(t.okms.subtle.publicKey(sha256), "NotSupportedError");
  await rejectsNamed(
    t.okms.subtle.generateKey(
      {
        name: "RSA-OAEP",
        modulusLength: 2048,
        publicExponent: Uint8Array.of(1, 0, 1),
        hash: "SHA-256",
      },
      false,
      ["encrypt", "decrypt"],
    ),
    "NotSupportedError",
  );
  const described = await t.okms.describeKey({ keyId: privateKey.keyId });
  assert.deepEqual(described.encryptionAlgorithms, ["RSAES_OAEP_SHA_1"]);
});

Deno.test("ECDH: deriveBits equals WebCrypto's from the peer's side", async () => {
  await using t = await open();
  for (const namedCurve of ["P-256", "P-384", "P-521"]) {
    const pair = await t.okms.subtle.generateKey(
      { name: "ECDH", namedCurve },
      false,
      ["deriveBits"],
    );
    assert.deepEqual([...pair.privateKey.usages], ["deriveBits"]);
    assert.deepEqual(pair.publicKey.usages, []);
    const peer = await crypto.subtle.generateKey(
      { name: "ECDH", namedCurve },
      true,
      ["deriveBits"],
    ) as CryptoKeyPair;
    const ours = await t.okms.subtle.deriveBits(
      { name: "ECDH", public: peer.publicKey },
      pair.privateKey,
    );
    const theirs = await crypto.subtle.deriveBits(
      { name: "ECDH", public: pair.publicKey },
      peer.privateKey,
      null as unknown as number,
    );
    assert.deepEqual(new Uint8Array(ours), new Uint8Array(theirs));
    const first128 = await t.okms.subtle.deriveBits(
      { name: "ECDH", public: peer.publicKey },
      pair.privateKey,
      128,
    );
    assert.deepEqual(
      new Uint8Array(first128),
      new Uint8Array(theirs).subarray(0, 16),
    );
    await rejectsNamed(
      t.okms.subtle.deriveBits(
        { name: "ECDH", public: peer.publicKey },
        pair.privateKey,
        12,
      ),
      "OperationError",
    );
  }
  const pair = await t.okms.subtle.generateKey(
    { name: "ECDH", namedCurve: "P-256" },
    false,
    ["deriveBits"],
  );
  const elsewhere = await crypto.subtle.generateKey(
    { name: "ECDH", namedCurve: "P-384" },
    true,
    ["deriveBits"],
  ) as CryptoKeyPair;
  await rejectsNamed(
    t.okms.subtle.deriveBits(
      { name: "ECDH", public: elsewhere.publicKey },
      pair.privateKey,
    ),
    "InvalidAccessError",
  );
  await rejectsNamed(
    t.okms.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      pair.privateKey,
      message,
    ),
    "InvalidAccessError",
  );
});

Deno.test("HMAC keys sign and verify in the HSM; tampering is false", async () => {
  await using t = await open();
  for (
    const [hash, length] of [["SHA-256", 256], ["SHA-384", 384], [
      "SHA-512",
      512,
    ]] as const
  ) {
    const key = await t.okms.subtle.generateKey({ name: "HMAC", hash }, false, [
      "sign",
      "verify",
    ]);
    assert.equal(key.type, "secret");
    assert.deepEqual(key.algorithm, {
      name: "HMAC",
      hash: { name: hash },
      length,
    });
    assert.equal(key.metadata.keySpec, `HMAC_${length}`);
    const data = utf8("the message");
    const mac = await t.okms.subtle.sign({ name: "HMAC" }, key, data);
    assert.equal(mac.byteLength * 8, length);
    assert.ok(await t.okms.subtle.verify({ name: "HMAC" }, key, mac, data));
    const viaKms = await t.okms.generateMac({
      keyId: key.keyId,
      message: data,
      macAlgorithm: `HMAC_SHA_${length}`,
    });
    assert.deepEqual(viaKms.mac, new Uint8Array(mac));
    assert.equal(
      await t.okms.subtle.verify({ name: "HMAC" }, key, mac, flipped(data)),
      false,
    );
    assert.equal(
      await t.okms.subtle.verify({ name: "HMAC" }, key, flipped(mac, 5), data),
      false,
    );
    assert.equal(
      await t.okms.subtle.verify({ name: "HMAC" }, key, mac.slice(1), data),
      false,
    );
  }
  const signOnly = await t.okms.subtle.generateKey(
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  assert.deepEqual([...signOnly.usages], ["sign"]);
  const mac = await t.okms.subtle.sign(
    { name: "HMAC" },
    signOnly,
    message.subarray(0, 64),
  );
  await rejectsNamed(
    t.okms.subtle.verify(
      { name: "HMAC" },
      signOnly,
      mac,
      message.subarray(0, 64),
    ),
    "InvalidAccessError",
  );
  await rejectsNamed(t.okms.subtle.publicKey(signOnly), "InvalidAccessError");
  await rejectsNamed(
    t.okms.subtle.exportKey("raw", signOnly),
    "InvalidAccessError",
  );
});

Deno.test("generateKey refuses what AWS KMS or the HSM cannot keep", async () => {
  await using t = await open();
  const rsa = (overrides: Record<string, unknown>) => ({
    name: "RSA-PSS",
    modulusLength: 2048,
    publicExponent: Uint8Array.of(1, 0, 1),
    hash: "SHA-256",
    ...overrides,
  });
  const refused: [unknown, boolean, KeyUsage[], string][] = [
    [
      { name: "ECDSA", namedCurve: "P-256" },
      true,
      ["sign"],
      "NotSupportedError",
    ],
    [{ name: "HMAC", hash: "SHA-256" }, true, ["sign"], "NotSupportedError"],
    [rsa({}), true, ["sign"], "NotSupportedError"],
    [{ name: "ECDSA", namedCurve: "P-256" }, false, ["encrypt"], "SyntaxError"],
    [{ name: "ECDSA", namedCurve: "P-256" }, false, ["verify"], "SyntaxError"],
    [{ name: "ECDH", namedCurve: "P-256" }, false, [], "SyntaxError"],
    [{ name: "HMAC", hash: "SHA-256" }, false, ["decrypt"], "SyntaxError"],
    [
      { name: "ECDSA", namedCurve: "K-256" },
      false,
      ["sign"],
      "NotSupportedError",
    ],
    [rsa({ modulusLength: 1024 }), false, ["sign"], "NotSupportedError"],
    [
      rsa({ publicExponent: Uint8Array.of(3) }),
      false,
      ["sign"],
      "NotSupportedError",
    ],
    [rsa({ hash: "SHA-1" }), false, ["sign"], "NotSupportedError"],
    [
      rsa({ name: "RSA-OAEP", hash: "SHA-512" }),
      false,
      ["decrypt"],
      "NotSupportedError",
    ],
    [rsa({ hash: undefined }), false, ["sign"], "TypeError"],
    [{ name: "HMAC", hash: "SHA-1" }, false, ["sign"], "NotSupportedError"],
    [
      { name: "HMAC", hash: "SHA-256", length: 512 },
      false,
      ["sign"],
      "NotSupportedError",
    ],
    [{ name: "AES-CBC", length: 256 }, false, ["encrypt"], "NotSupportedError"],
    // SoftHSM2 2.6.1 cannot wrap Ed25519 private keys, and okms keeps keys only wrapped.
    [{ name: "Ed25519" }, false, ["sign"], "NotSupportedError"],
  ];
  for (const [algorithm, extractable, usages, name] of refused) {
    await rejectsNamed(
      t.okms.subtle.generateKey(algorithm as never, extractable, usages),
      name,
    );
  }
  // Only the Ed25519 attempt reached the KMS, and it kept nothing.
  const { keys } = await t.okms.listKeys();
  assert.equal(keys.length, 1);
});
