/**
 * Aliases: AWS naming rules, uniqueness, limits, resolution in every
 * key argument, isolation between accounts.
 */
import assert from "node:assert/strict";
import { openTestOkms, rejectsNamed, utf8 } from "./helpers.ts";

Deno.test("an alias names its key in every key argument, by name and by ARN", async () => {
  await using t = await openTestOkms();
  const key = await t.okms.createKey();
  await t.okms.createAlias({
    aliasName: "alias/orders",
    targetKeyId: key.keyId,
  });
  const aliasArn = `arn:aws:kms:eu-west-2:${t.okms.accountId}:alias/orders`;
  for (const keyId of ["alias/orders", aliasArn]) {
    assert.equal((await t.okms.describeKey({ keyId })).keyId, key.keyId);
    const { ciphertextBlob, keyId: arn } = await t.okms.encrypt({
      keyId,
      plaintext: utf8("x"),
    });
    assert.equal(arn, key.arn);
    assert.equal(
      (await t.okms.decrypt({ ciphertextBlob, keyId })).keyId,
      key.arn,
    );
    using dataKey = await t.okms.generateDataKey({ keyId, keySpec: "AES_128" });
    assert.equal(dataKey.keyId, key.arn);
  }
  const [alias] = (await t.okms.listAliases()).aliases;
  assert.equal(alias.aliasName, "alias/orders");
  assert.equal(alias.aliasArn, aliasArn);
  assert.equal(alias.targetKeyId, key.keyId);
  assert.ok(alias.creationDate instanceof Date);
});

Deno.test("alias names follow AWS rules", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  for (
    const aliasName of [
      "orders",
      "alias/",
      "alias/with space",
      "alias/é",
      `alias/${"a".repeat(251)}`,
      42,
    ]
  ) {
    await rejectsNamed(
      t.okms.createAlias({ aliasName, targetKeyId: keyId } as never),
      "ValidationException",
    );
  }
  await rejectsNamed(
    t.okms.createAlias({ aliasName: "alias/aws/reserved", targetKeyId: keyId }),
    "InvalidAliasNameException",
  );
  await t.okms.createAlias({ aliasName: "alias/mine", targetKeyId: keyId });
  await rejectsNamed(
    t.okms.updateAlias({ aliasName: "alias/aws/mine", targetKeyId: keyId }),
    "InvalidAliasNameException",
  );
  await t.okms.createAlias({
    aliasName: `alias/${"a".repeat(250)}`,
    targetKeyId: keyId,
  });
  await t.okms.createAlias({
    aliasName: "alias/team:app/prod_1-a",
    targetKeyId: keyId,
  });
  await rejectsNamed(
    t.okms.createAlias({
      aliasName: "alias/team:app/prod_1-a",
      targetKeyId: keyId,
    }),
    "AlreadyExistsException",
  );
  await rejectsNamed(
    t.okms.createAlias({
      aliasName: "alias/x",
      targetKeyId: "alias/team:app/prod_1-a",
    }),
    "ValidationException",
  );
  await rejectsNamed(
    t.okms.createAlias({
      aliasName: "alias/x",
      targetKeyId: crypto.randomUUID(),
    }),
    "NotFoundException",
  );
});

Deno.test("a key has at most 50 aliases", async () => {
  await using t = await openTestOkms();
  const a = await t.okms.createKey();
  const b = await t.okms.createKey();
  for (let i = 0; i < 50; i++) {
    await t.okms.createAlias({
      aliasName: `alias/a${i}`,
      targetKeyId: a.keyId,
    });
  }
  await rejectsNamed(
    t.okms.createAlias({ aliasName: "alias/a50", targetKeyId: a.keyId }),
    "LimitExceededException",
  );
  await t.okms.createAlias({ aliasName: "alias/b0", targetKeyId: b.keyId });
  await rejectsNamed(
    t.okms.updateAlias({ aliasName: "alias/b0", targetKeyId: a.keyId }),
    "LimitExceededException",
  );
  await t.okms.updateAlias({ aliasName: "alias/a0", targetKeyId: a.keyId }); // same key: no growth
});

Deno.test("UpdateAlias re-points, DeleteAlias removes, and ListAliases pages and filters", async () => {
  await using t = await openTestOkms();
  const a = await t.okms.createKey();
  const b = await t.okms.createKey();
  await t.okms.createAlias({
    aliasName: "alias/current",
    targetKeyId: a.keyId,
  });
  assert.equal(
    (await t.okms.describeKey({ keyId: "alias/current" })).keyId,
    a.keyId,
  );
  await t.okms.updateAlias({ aliasName: "alias/current", targetKeyId: b.arn });
  assert.equal(
    (await t.okms.describeKey({ keyId: "alias/current" })).keyId,
    b.keyId,
  );
  await rejectsNamed(
    t.okms.updateAlias({ aliasName: "alias/none", targetKeyId: a.keyId }),
    "NotFoundException",
  );

  for (const name of ["alias/p1", "alias/p2", "alias/p3", "alias/p4"]) {
    await t.okms.createAlias({ aliasName: name, targetKeyId: a.keyId });
  }
  const names: string[] = [];
  let marker: string | undefined;
  do {
    const page = await t.okms.listAliases({ limit: 2, marker });
    names.push(...page.aliases.map((x) => x.aliasName));
    marker = page.nextMarker;
  } while (marker);
  assert.deepEqual(names, [
    "alias/current",
    "alias/p1",
    "alias/p2",
    "alias/p3",
    "alias/p4",
  ]);
  const ofB = await t.okms.listAliases({ keyId: b.keyId });
  assert.deepEqual(ofB.aliases.map((x) => x.aliasName), ["alias/current"]);
  await rejectsNamed(
    t.okms.listAliases({ keyId: crypto.randomUUID() }),
    "NotFoundException",
  );
  await rejectsNamed(t.okms.listAliases({ limit: 101 }), "ValidationException");
  await rejectsNamed(
    t.okms.listAliases({ marker: "%%" }),
    "InvalidMarkerException",
  );

  await t.okms.deleteAlias({ aliasName: "alias/current" });
  await rejectsNamed(
    t.okms.describeKey({ keyId: "alias/current" }),
    "NotFoundException",
  );
  await rejectsNamed(
    t.okms.deleteAlias({ aliasName: "alias/current" }),
    "NotFoundException",
  );
  assert.equal(
    (await t.okms.describeKey({ keyId: b.keyId })).keyState,
    "Enabled",
    "the key stays",
  );
});

Deno.test("aliases are per account", async () => {
  await using t = await openTestOkms();
  const other = await t.okms.createAccount();
  const mine = await t.okms.createKey();
  const theirs = await other.createKey();
  await t.okms.createAlias({
    aliasName: "alias/shared-name",
    targetKeyId: mine.keyId,
  });
  await other.createAlias({
    aliasName: "alias/shared-name",
    targetKeyId: theirs.keyId,
  });
  assert.equal(
    (await t.okms.describeKey({ keyId: "alias/shared-name" })).keyId,
    mine.keyId,
  );
  assert.equal(
    (await other.describeKey({ keyId: "alias/shared-name" })).keyId,
    theirs.keyId,
  );
  await rejectsNamed(
    other.describeKey({
      keyId: `arn:aws:kms:eu-west-2:${t.okms.accountId}:alias/shared-name`,
    }),
    "NotFoundException",
  );
  await rejectsNamed(
    other.createAlias({ aliasName: "alias/steal", targetKeyId: mine.arn }),
    "NotFoundException",
  );
  await rejectsNamed(
    other.deleteAlias({ aliasName: "alias/none-here" }),
    "NotFoundException",
  );
});
