/**
 * Keys and accounts: creation, metadata, listing, quota, isolation.
 */
import assert from "node:assert/strict";
import { openTestOkms, rejectsNamed, utf8 } from "./helpers.ts";

Deno.test("a new okms has a default account with a default key", async () => {
  await using t = await openTestOkms();
  const accounts = await t.okms.listAccounts();
  assert.deepEqual(accounts, [t.okms.accountId]);
  assert.match(t.okms.accountId, /^\d{12}$/);
  const defaultKey = await t.okms.defaultKey();
  assert.equal(defaultKey.metadata.isDefault, true);
  assert.equal(defaultKey.metadata.keyState, "Enabled");
  const { keys } = await t.okms.listKeys();
  assert.deepEqual(keys.map((k) => k.keyId), [defaultKey.keyId]);
  const { ciphertextBlob } = await t.okms.encrypt({
    keyId: defaultKey.keyId,
    plaintext: utf8("x"),
  });
  assert.equal(
    (await t.okms.decrypt({ ciphertextBlob })).keyId,
    defaultKey.arn,
  );
});

Deno.test("CreateKey returns AWS KeyMetadata, and DescribeKey takes every key form", async () => {
  const now = Date.UTC(2026, 10, 28, 12, 0, 0);
  await using t = await openTestOkms({ now: () => now, region: "eu-west-2" });
  const tags = [{ tagKey: "team", tagValue: "payments" }, {
    tagKey: "empty",
    tagValue: "",
  }];
  const key = await t.okms.createKey({ description: "orders", tags });
  const m = key.metadata;
  assert.match(
    m.keyId,
    /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
  );
  assert.equal(
    m.arn,
    `arn:aws:kms:eu-west-2:${t.okms.accountId}:key/${m.keyId}`,
  );
  assert.equal(m.awsAccountId, t.okms.accountId);
  assert.deepEqual(m.creationDate, new Date(now));
  assert.equal(m.enabled, true);
  assert.equal(m.description, "orders");
  assert.equal(m.keyUsage, "ENCRYPT_DECRYPT");
  assert.equal(m.keyState, "Enabled");
  assert.equal(m.origin, "AWS_KMS");
  assert.equal(m.keySpec, "SYMMETRIC_DEFAULT");
  assert.deepEqual(m.encryptionAlgorithms, ["SYMMETRIC_DEFAULT"]);
  assert.equal(m.isDefault, false);
  assert.equal(m.deletionDate, undefined);
  for (const keyId of [m.keyId, m.keyId.toUpperCase(), m.arn]) {
    assert.deepEqual(await t.okms.describeKey({ keyId }), m);
  }
  await rejectsNamed(
    t.okms.describeKey({ keyId: m.arn.replace("eu-west-2", "us-east-1") }),
    "NotFoundException",
  );
});

Deno.test("CreateKey refuses bad descriptions, tags and unsupported specs", async () => {
  await using t = await openTestOkms();
  const bad = [
    [{ description: "d".repeat(8193) }, "ValidationException"],
    [{ description: 5 }, "ValidationException"],
    [{ tags: [{ tagKey: "", tagValue: "v" }] }, "TagException"],
    [{ tags: [{ tagKey: "k".repeat(129), tagValue: "v" }] }, "TagException"],
    [{ tags: [{ tagKey: "k", tagValue: "v".repeat(257) }] }, "TagException"],
    [{ tags: [{ tagKey: "aws:x", tagValue: "v" }] }, "TagException"],
    [
      {
        tags: [{ tagKey: "k", tagValue: "1" }, { tagKey: "k", tagValue: "2" }],
      },
      "TagException",
    ],
    [{
      tags: Array.from(
        { length: 51 },
        (_, i) => ({ tagKey: `k${i}`, tagValue: "" }),
      ),
    }, "LimitExceededException"],
    [{ tags: "team=x" }, "ValidationException"],
    [{ keyUsage: "SIGN_VERIFY" }, "ValidationException"],
    [{ keySpec: "ECC_NIST_P256" }, "ValidationException"], // no KeyUsage
    [{ keySpec: "RSA_2048", keyUsage: "KEY_AGREEMENT" }, "ValidationException"],
    [
      { keySpec: "HMAC_256", keyUsage: "ENCRYPT_DECRYPT" },
      "ValidationException",
    ],
    [{ keySpec: "AES_256" }, "ValidationException"],
    [
      { keySpec: "ECC_NIST_EDWARDS25519", keyUsage: "SIGN_VERIFY" },
      "UnsupportedOperationException", // SoftHSM2 2.6.1 cannot wrap it
    ],
    [{ origin: "EXTERNAL" }, "UnsupportedOperationException"],
  ] as const;
  for (const [input, name] of bad) {
    await rejectsNamed(t.okms.createKey(input as never), name);
  }
  await t.okms.createKey({ description: "d".repeat(8192) });
  const { keys } = await t.okms.listKeys();
  assert.equal(keys.length, 2, "no refused key was created");
});

Deno.test("ListKeys pages in creation order with Limit and Marker", async () => {
  let clock = Date.UTC(2026, 0, 1);
  await using t = await openTestOkms({ now: () => clock++ });
  const created = [(await t.okms.defaultKey()).keyId];
  for (let i = 0; i < 6; i++) created.push((await t.okms.createKey()).keyId);
  const seen: string[] = [];
  let marker: string | undefined;
  let pages = 0;
  do {
    const page = await t.okms.listKeys({ limit: 3, marker });
    pages++;
    seen.push(...page.keys.map((k) => k.keyId));
    assert.equal(page.truncated, page.nextMarker !== undefined);
    marker = page.nextMarker;
  } while (marker !== undefined);
  assert.deepEqual(seen, created);
  assert.equal(pages, 3);
  for (const limit of [0, 1001, 2.5, "10"]) {
    await rejectsNamed(
      t.okms.listKeys({ limit } as never),
      "ValidationException",
    );
  }
  for (const marker of ["garbage", "e30", ""]) {
    await rejectsNamed(t.okms.listKeys({ marker }), "InvalidMarkerException");
  }
});

Deno.test("the key quota counts every key of the account and is per account", async () => {
  await using t = await openTestOkms({ keyQuota: 3 });
  await t.okms.createKey();
  const { keyId } = await t.okms.createKey();
  await t.okms.scheduleKeyDeletion({ keyId });
  const error = await rejectsNamed(
    t.okms.createKey(),
    "LimitExceededException",
  );
  assert.match(
    error.message,
    /quota of 3 keys, keys pending deletion included \(they count until they are deleted\); raise it with --key-quota \(OKMS_KEY_QUOTA\)/,
  );
  // Concurrent creations cannot overshoot the quota either.
  const other = await t.okms.createAccount();
  const results = await Promise.allSettled(
    Array.from({ length: 5 }, () => other.createKey()),
  );
  assert.equal(results.filter((r) => r.status === "fulfilled").length, 2);
  assert.equal((await other.listKeys()).keys.length, 3);
  assert.equal((await t.okms.listKeys()).keys.length, 3);
});

Deno.test("accounts are isolated: no account sees or uses another's keys or ciphertexts", async () => {
  await using t = await openTestOkms();
  const alice = t.okms;
  const bob = await t.okms.createAccount("222222222222");
  assert.deepEqual(await t.okms.listAccounts(), [
    alice.accountId,
    "222222222222",
  ]);
  const bobDefault = await bob.defaultKey();
  assert.notEqual(bobDefault.keyId, (await alice.defaultKey()).keyId);

  const aliceKey = await alice.createKey();
  const { ciphertextBlob } = await alice.encrypt({
    keyId: aliceKey.keyId,
    plaintext: utf8("mine"),
  });
  for (const keyId of [aliceKey.keyId, aliceKey.arn]) {
    await rejectsNamed(bob.describeKey({ keyId }), "NotFoundException");
    await rejectsNamed(
      bob.encrypt({ keyId, plaintext: utf8("x") }),
      "NotFoundException",
    );
    await rejectsNamed(
      bob.generateDataKey({ keyId, keySpec: "AES_256" }),
      "NotFoundException",
    );
  }
  await rejectsNamed(
    bob.decrypt({ ciphertextBlob }),
    "InvalidCiphertextException",
  );
  await rejectsNamed(
    bob.decrypt({ ciphertextBlob, keyId: bobDefault.keyId }),
    "InvalidCiphertextException",
  );
  // Every key-management operation treats the other account's key as unknown.
  const foreign = [
    () => bob.enableKey({ keyId: aliceKey.arn }),
    () => bob.disableKey({ keyId: aliceKey.arn }),
    () => bob.scheduleKeyDeletion({ keyId: aliceKey.arn }),
    () => bob.cancelKeyDeletion({ keyId: aliceKey.arn }),
    () => bob.tagResource({ keyId: aliceKey.arn, tags: [] }),
    () => bob.untagResource({ keyId: aliceKey.arn, tagKeys: [] }),
    () => bob.listResourceTags({ keyId: aliceKey.arn }),
    () => bob.updateKeyDescription({ keyId: aliceKey.arn, description: "x" }),
    () => bob.enableKeyRotation({ keyId: aliceKey.arn }),
    () => bob.getKeyRotationStatus({ keyId: aliceKey.arn }),
    () => bob.rotateKeyOnDemand({ keyId: aliceKey.arn }),
    () => bob.listKeyRotations({ keyId: aliceKey.arn }),
    () =>
      bob.createAlias({ aliasName: "alias/mine", targetKeyId: aliceKey.arn }),
    () => bob.listAliases({ keyId: aliceKey.arn }),
    () => bob.reEncrypt({ ciphertextBlob, destinationKeyId: bobDefault.keyId }),
  ];
  for (const operation of foreign) {
    const name = await operation().then(
      () => "succeeded",
      (e: Error) => e.name,
    );
    assert.ok(
      name === "NotFoundException" || name === "InvalidCiphertextException",
      `${operation}: ${name}`,
    );
  }
  assert.equal(
    (await alice.describeKey({ keyId: aliceKey.keyId })).keyState,
    "Enabled",
  );
  assert.deepEqual((await bob.listKeys()).keys.map((k) => k.keyId), [
    bobDefault.keyId,
  ]);
  assert.equal((await alice.decrypt({ ciphertextBlob })).keyId, aliceKey.arn);

  const again = await t.okms.account("222222222222");
  assert.equal((await again.defaultKey()).keyId, bobDefault.keyId);
  await rejectsNamed(t.okms.account("999999999999"), "NotFoundException");
  await rejectsNamed(
    t.okms.createAccount("222222222222"),
    "AlreadyExistsException",
  );
  await rejectsNamed(t.okms.createAccount("12345"), "ValidationException");
});

Deno.test("every operation after close fails with an error, not a crash", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  const { ciphertextBlob } = await t.okms.encrypt({
    keyId,
    plaintext: utf8("x"),
  });
  await t.okms.close();
  await rejectsNamed(
    t.okms.encrypt({ keyId, plaintext: utf8("x") }),
    "KMSInternalException",
  );
  await rejectsNamed(
    t.okms.decrypt({ ciphertextBlob }),
    "KMSInternalException",
  );
  await rejectsNamed(
    t.okms.generateDataKey({ keyId, keySpec: "AES_256" }),
    "KMSInternalException",
  );
  await rejectsNamed(
    t.okms.generateRandom({ numberOfBytes: 8 }),
    "KMSInternalException",
  );
  await rejectsNamed(t.okms.createKey(), "KMSInternalException");
});
