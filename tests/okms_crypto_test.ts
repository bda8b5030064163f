/**
 * Encrypt, Decrypt and data keys on a real SoftHSM2 token.
 */
import assert from "node:assert/strict";
import { DataKey, InvalidCiphertextException, type OkmsKey } from "../mod.ts";
import { openTestOkms, rejectsNamed, utf8 } from "./helpers.ts";

Deno.test("encrypt and decrypt round-trip 1 to 4096 bytes, with and without context", async () => {
  await using t = await openTestOkms();
  const key = await t.okms.createKey({ description: "crypto" });
  for (const size of [1, 32, 4095, 4096]) {
    for (
      const encryptionContext of [undefined, { order: "42", tenant: "acme" }]
    ) {
      const plaintext = crypto.getRandomValues(new Uint8Array(size));
      const sealed = await t.okms.encrypt({
        keyId: key.keyId,
        plaintext,
        encryptionContext,
      });
      assert.equal(sealed.keyId, key.arn);
      assert.equal(sealed.encryptionAlgorithm, "SYMMETRIC_DEFAULT");
      assert.equal(sealed.ciphertextBlob.length, 33 + size + 16);
      const opened = await t.okms.decrypt({
        ciphertextBlob: sealed.ciphertextBlob,
        encryptionContext: encryptionContext && { tenant: "acme", order: "42" },
      });
      assert.deepEqual(opened.plaintext, plaintext);
      assert.equal(opened.keyId, key.arn);
    }
  }
});

Deno.test("0 and 4097 bytes of plaintext are refused", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  for (const size of [0, 4097]) {
    await rejectsNamed(
      t.okms.encrypt({ keyId, plaintext: new Uint8Array(size) }),
      "ValidationException",
    );
  }
  await rejectsNamed(
    t.okms.encrypt({ keyId, plaintext: "text" as unknown as Uint8Array }),
    "ValidationException",
  );
  await rejectsNamed(
    t.okms.encrypt({
      keyId,
      plaintext: utf8("x"),
      encryptionAlgorithm: "RSAES_OAEP_SHA_1",
    }),
    "InvalidKeyUsageException", // an RSA algorithm needs an RSA key, as AWS
  );
});

Deno.test("every single-byte change of a ciphertext is InvalidCiphertextException", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  const encryptionContext = { purpose: "tamper" };
  const { ciphertextBlob } = await t.okms.encrypt({
    keyId,
    plaintext: utf8("attack at dawn"),
    encryptionContext,
  });
  for (let i = 0; i < ciphertextBlob.length; i++) {
    for (const flip of [0x01, 0x80]) {
      const tampered = ciphertextBlob.slice();
      tampered[i] ^= flip;
      await rejectsNamed(
        t.okms.decrypt({ ciphertextBlob: tampered, encryptionContext }),
        "InvalidCiphertextException",
      );
    }
  }
  for (const length of [0, 1, 33, 49, ciphertextBlob.length - 1]) {
    await rejectsNamed(
      t.okms.decrypt({
        ciphertextBlob: ciphertextBlob.subarray(0, length),
        encryptionContext,
      }),
      length === 0 ? "ValidationException" : "InvalidCiphertextException",
    );
  }
  const extended = new Uint8Array(ciphertextBlob.length + 1);
  extended.set(ciphertextBlob);
  await rejectsNamed(
    t.okms.decrypt({ ciphertextBlob: extended, encryptionContext }),
    "InvalidCiphertextException",
  );
  // The untouched blob still decrypts: the failures left the session usable.
  const { plaintext } = await t.okms.decrypt({
    ciphertextBlob,
    encryptionContext,
  });
  assert.equal(new TextDecoder().decode(plaintext), "attack at dawn");
});

Deno.test("decryption needs exactly the same encryption context", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  const seal = async (encryptionContext?: Record<string, string>) =>
    (await t.okms.encrypt({ keyId, plaintext: utf8("x"), encryptionContext }))
      .ciphertextBlob;
  const cases: [
    Record<string, string> | undefined,
    Record<string, string> | undefined,
  ][] = [
    [{ a: "bc" }, { ab: "c" }],
    [{ ab: "c" }, { a: "bc" }],
    [{ a: "b" }, undefined],
    [undefined, { a: "b" }],
    [{ a: "b", c: "d" }, { a: "b" }],
    [{ a: "b" }, { a: "B" }],
    [{ a: "b" }, { A: "b" }],
    [{ a: "" }, {}],
  ];
  for (const [sealedWith, openedWith] of cases) {
    await rejectsNamed(
      t.okms.decrypt({
        ciphertextBlob: await seal(sealedWith),
        encryptionContext: openedWith,
      }),
      "InvalidCiphertextException",
    );
  }
  // An empty context is the same as none.
  await t.okms.decrypt({
    ciphertextBlob: await seal({}),
    encryptionContext: undefined,
  });
  await t.okms.decrypt({
    ciphertextBlob: await seal(undefined),
    encryptionContext: {},
  });
});

Deno.test("a foreign or unknown-key ciphertext is InvalidCiphertextException", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  const { ciphertextBlob } = await t.okms.encrypt({
    keyId,
    plaintext: utf8("x"),
  });
  const otherKey = ciphertextBlob.slice();
  otherKey.set(crypto.getRandomValues(new Uint8Array(16)), 1);
  const otherVersion = ciphertextBlob.slice();
  otherVersion[20] = 9;
  for (
    const blob of [
      otherKey,
      otherVersion,
      crypto.getRandomValues(new Uint8Array(80)),
    ]
  ) {
    await rejectsNamed(
      t.okms.decrypt({ ciphertextBlob: blob }),
      "InvalidCiphertextException",
    );
  }
});

Deno.test("decrypt with a KeyId checks the ciphertext's key", async () => {
  await using t = await openTestOkms();
  const a = await t.okms.createKey();
  const b = await t.okms.createKey();
  const { ciphertextBlob } = await t.okms.encrypt({
    keyId: a.keyId,
    plaintext: utf8("x"),
  });
  for (const keyId of [a.keyId, a.arn]) {
    assert.equal(
      (await t.okms.decrypt({ ciphertextBlob, keyId })).keyId,
      a.arn,
    );
  }
  await rejectsNamed(
    t.okms.decrypt({ ciphertextBlob, keyId: b.keyId }),
    "IncorrectKeyException",
  );
  await rejectsNamed(
    t.okms.decrypt({ ciphertextBlob, keyId: crypto.randomUUID() }),
    "NotFoundException",
  );
});

Deno.test("unknown keys and malformed key ids are refused on every crypto operation", async () => {
  await using t = await openTestOkms();
  const unknown = crypto.randomUUID();
  const plaintext = utf8("x");
  await rejectsNamed(
    t.okms.encrypt({ keyId: unknown, plaintext }),
    "NotFoundException",
  );
  await rejectsNamed(
    t.okms.generateDataKey({ keyId: unknown, keySpec: "AES_256" }),
    "NotFoundException",
  );
  await rejectsNamed(
    t.okms.generateDataKeyWithoutPlaintext({
      keyId: unknown,
      keySpec: "AES_256",
    }),
    "NotFoundException",
  );
  await rejectsNamed(
    t.okms.describeKey({ keyId: unknown }),
    "NotFoundException",
  );
  await rejectsNamed(
    t.okms.encrypt({ keyId: "", plaintext }),
    "ValidationException",
  );
  await rejectsNamed(
    t.okms.encrypt({ keyId: undefined as unknown as string, plaintext }),
    "ValidationException",
  );
  await rejectsNamed(
    t.okms.encrypt({
      keyId: `arn:aws:kms:eu-west-2:000000000001:key/${unknown}`,
      plaintext,
    }),
    "NotFoundException",
  );
});

Deno.test("data keys: sizes, encrypted copy, disposal and WebCrypto hand-off", async () => {
  await using t = await openTestOkms();
  const { keyId, arn } = await t.okms.createKey();
  const encryptionContext = { file: "report.pdf" };
  const cases = [
    [{ keySpec: "AES_256" as const }, 32],
    [{ keySpec: "AES_128" as const }, 16],
    [{ numberOfBytes: 1 }, 1],
    [{ numberOfBytes: 1024 }, 1024],
  ] as const;
  for (const [spec, size] of cases) {
    const dataKey = await t.okms.generateDataKey({
      keyId,
      encryptionContext,
      ...spec,
    });
    assert.ok(dataKey instanceof DataKey);
    assert.equal(dataKey.keyId, arn);
    assert.equal(dataKey.plaintext.length, size);
    const { plaintext } = await t.okms.decrypt({
      ciphertextBlob: dataKey.ciphertextBlob,
      encryptionContext,
    });
    assert.deepEqual(plaintext, dataKey.plaintext);
    const bytes = dataKey.plaintext;
    dataKey[Symbol.dispose]();
    assert.deepEqual(
      bytes,
      new Uint8Array(size),
      "disposal zeroes the plaintext",
    );
    assert.throws(() => dataKey.plaintext, TypeError);
  }

  let escaped: Uint8Array;
  let cryptoKey: CryptoKey;
  {
    using dataKey = await t.okms.generateDataKey({ keyId, keySpec: "AES_256" });
    escaped = dataKey.plaintext;
    cryptoKey = await dataKey.toCryptoKey();
  }
  assert.deepEqual(
    escaped,
    new Uint8Array(32),
    "`using` zeroes it at scope end",
  );
  assert.equal(cryptoKey.extractable, false);
  assert.deepEqual(cryptoKey.algorithm, { name: "AES-GCM", length: 256 });
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv },
    cryptoKey,
    utf8("bulk"),
  );
  const opened = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv },
    cryptoKey,
    sealed,
  );
  assert.equal(new TextDecoder().decode(opened), "bulk");
});

Deno.test("GenerateDataKeyWithoutPlaintext returns a ciphertext that decrypts to a fresh key", async () => {
  await using t = await openTestOkms();
  const { keyId, arn } = await t.okms.createKey();
  const out = await t.okms.generateDataKeyWithoutPlaintext({
    keyId,
    numberOfBytes: 48,
  });
  assert.deepEqual(Object.keys(out).sort(), ["ciphertextBlob", "keyId"]);
  assert.equal(out.keyId, arn);
  const { plaintext } = await t.okms.decrypt({
    ciphertextBlob: out.ciphertextBlob,
  });
  assert.equal(plaintext.length, 48);
  assert.notDeepEqual(plaintext, new Uint8Array(48));
});

Deno.test("data key sizes outside the rules are refused", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  for (
    const bad of [
      {},
      { keySpec: "AES_256", numberOfBytes: 32 },
      { keySpec: "AES_512" },
      { numberOfBytes: 0 },
      { numberOfBytes: 1025 },
      { numberOfBytes: 1.5 },
      { numberOfBytes: "32" },
    ]
  ) {
    await rejectsNamed(
      t.okms.generateDataKey({ keyId, ...bad } as never),
      "ValidationException",
    );
  }
});

Deno.test("the SubtleCrypto face encrypts with OkmsKeys bound to a context", async () => {
  await using t = await openTestOkms();
  const key: OkmsKey = await t.okms.subtle.generateKey(
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
  assert.equal(key.type, "secret");
  assert.equal(key.extractable, false);
  assert.deepEqual(key.algorithm, { name: "AES-GCM", length: 256 });
  assert.deepEqual([...key.usages], ["encrypt", "decrypt"]);
  const algorithm = {
    name: "AES-GCM",
    encryptionContext: { file: "a.txt" },
  } as const;
  const sealed = await t.okms.subtle.encrypt(algorithm, key, utf8("subtle"));
  assert.ok(sealed instanceof ArrayBuffer);
  const opened = await t.okms.subtle.decrypt(algorithm, key, sealed);
  assert.equal(new TextDecoder().decode(opened), "subtle");
  // The KMS face reads what the subtle face wrote, and the other way round.
  const viaKms = await t.okms.decrypt({
    ciphertextBlob: new Uint8Array(sealed),
    encryptionContext: algorithm.encryptionContext,
  });
  assert.equal(new TextDecoder().decode(viaKms.plaintext), "subtle");

  await assert.rejects(
    t.okms.subtle.decrypt({ name: "AES-GCM" }, key, sealed),
    InvalidCiphertextException,
  );
  await assert.rejects(
    t.okms.subtle.encrypt({ name: "AES-CBC" } as never, key, utf8("x")),
    (e: unknown) => e instanceof DOMException && e.name === "NotSupportedError",
  );
  await assert.rejects(
    t.okms.subtle.encrypt(
      { name: "AES-GCM", iv: new Uint8Array(12) } as never,
      key,
      utf8("x"),
    ),
    (e: unknown) => e instanceof DOMException && e.name === "NotSupportedError",
  );
  await assert.rejects(
    t.okms.subtle.generateKey({ name: "AES-GCM", length: 256 }, true, [
      "encrypt",
    ]),
    (e: unknown) => e instanceof DOMException && e.name === "NotSupportedError",
  );
  const existing = await t.okms.key(key.keyId);
  assert.equal(existing.arn, key.arn);
});

Deno.test("decryptDataKey opens an envelope into a disposable data key", async () => {
  await using t = await openTestOkms();
  const { keyId, arn } = await t.okms.createKey();
  const encryptionContext = { file: "a.bin" };
  const iv = crypto.getRandomValues(new Uint8Array(12));
  let stored: Uint8Array;
  let sealed: ArrayBuffer;
  {
    using dataKey = await t.okms.generateDataKey({
      keyId,
      keySpec: "AES_256",
      encryptionContext,
    });
    stored = dataKey.ciphertextBlob;
    sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv },
      await dataKey.toCryptoKey(),
      utf8("bulk"),
    );
  }
  let bytes: Uint8Array;
  {
    using dataKey = await t.okms.decryptDataKey({
      ciphertextBlob: stored,
      encryptionContext,
    });
    assert.equal(dataKey.keyId, arn);
    assert.deepEqual(dataKey.ciphertextBlob, stored);
    bytes = dataKey.plaintext;
    const opened = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv },
      await dataKey.toCryptoKey(),
      sealed,
    );
    assert.equal(new TextDecoder().decode(opened), "bulk");
  }
  assert.deepEqual(
    bytes,
    new Uint8Array(32),
    "disposal zeroed the decrypted data key",
  );
  await rejectsNamed(
    t.okms.decryptDataKey({ ciphertextBlob: stored }),
    "InvalidCiphertextException",
  );
});
