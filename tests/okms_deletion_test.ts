/**
 * Deletion for real: once the waiting period is over, the key, its aliases
 * and the HSM material of every version are gone, without a user action.
 */
import assert from "node:assert/strict";
import { Okms } from "../mod.ts";
import {
  cmkObjects,
  openTestOkms,
  rejectsNamed,
  storedMaterial,
  utf8,
} from "./helpers.ts";

const DAY = 86_400_000;

function clock(start = Date.UTC(2026, 10, 28)) {
  const c = { now: start, tick: (days: number) => c.now += days * DAY };
  return c;
}

Deno.test("ScheduleKeyDeletion validates its window and refuses the default key", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  for (const pendingWindowInDays of [6, 31, 7.5, "7"]) {
    await rejectsNamed(
      t.okms.scheduleKeyDeletion({ keyId, pendingWindowInDays } as never),
      "ValidationException",
    );
  }
  const defaultKey = await t.okms.defaultKey();
  const error = await rejectsNamed(
    t.okms.scheduleKeyDeletion({ keyId: defaultKey.keyId }),
    "UnsupportedOperationException",
  );
  assert.match(error.message, /default key/);
  assert.equal(
    (await t.okms.describeKey({ keyId: defaultKey.keyId })).keyState,
    "Enabled",
  );
});

Deno.test("a key is destroyed when its waiting period is over, and not before", async () => {
  const time = clock();
  await using t = await openTestOkms({
    now: () => time.now,
    maintenanceIntervalMs: 0,
  });
  const key = await t.okms.createKey();
  await t.okms.createAlias({
    aliasName: "alias/doomed",
    targetKeyId: key.keyId,
  });
  const encryptionContext = { a: "b" };
  const { ciphertextBlob } = await t.okms.encrypt({
    keyId: key.keyId,
    plaintext: utf8("x"),
    encryptionContext,
  });
  await t.okms.rotateKeyOnDemand({ keyId: key.keyId });
  const versionsBefore = storedMaterial(t.dataDir).versions.length;

  const scheduled = await t.okms.scheduleKeyDeletion({
    keyId: key.keyId,
    pendingWindowInDays: 7,
  });
  assert.deepEqual(scheduled, {
    keyId: key.arn,
    deletionDate: new Date(time.now + 7 * DAY),
    keyState: "PendingDeletion",
    pendingWindowInDays: 7,
  });
  const metadata = await t.okms.describeKey({ keyId: key.keyId });
  assert.deepEqual(metadata.deletionDate, new Date(time.now + 7 * DAY));
  assert.equal(metadata.pendingDeletionWindowInDays, 7);

  time.tick(7);
  time.now -= 1;
  assert.deepEqual(await t.okms.runMaintenance(), {
    deleted: [],
    rotated: [],
    recovered: 0,
    recoveryFailures: [],
    failed: [],
  });
  assert.equal(
    (await t.okms.describeKey({ keyId: key.keyId })).keyState,
    "PendingDeletion",
  );

  time.now += 1;
  assert.deepEqual(await t.okms.runMaintenance(), {
    deleted: [key.keyId],
    rotated: [],
    recovered: 0,
    recoveryFailures: [],
    failed: [],
  });
  await rejectsNamed(
    t.okms.describeKey({ keyId: key.keyId }),
    "NotFoundException",
  );
  await rejectsNamed(
    t.okms.describeKey({ keyId: "alias/doomed" }),
    "NotFoundException",
  );
  await rejectsNamed(
    t.okms.decrypt({ ciphertextBlob, encryptionContext }),
    "InvalidCiphertextException",
  );
  assert.deepEqual((await t.okms.listAliases()).aliases, []);
  assert.ok(!(await t.okms.listKeys()).keys.some((k) => k.keyId === key.keyId));
  const stored = storedMaterial(t.dataDir);
  assert.equal(
    stored.versions.length,
    versionsBefore - 2,
    "both versions gone",
  );
  assert.deepEqual(
    await cmkObjects(t.dataDir),
    stored.tokenObjects,
    "their token objects destroyed (token mode)",
  );
  // The alias name is free again.
  await t.okms.createAlias({
    aliasName: "alias/doomed",
    targetKeyId: (await t.okms.defaultKey()).keyId,
  });
});

Deno.test("a cancelled deletion leaves the key disabled and whole", async () => {
  const time = clock();
  await using t = await openTestOkms({
    now: () => time.now,
    maintenanceIntervalMs: 0,
  });
  const { keyId } = await t.okms.createKey();
  const { ciphertextBlob } = await t.okms.encrypt({
    keyId,
    plaintext: utf8("kept"),
  });
  await t.okms.scheduleKeyDeletion({ keyId });
  time.tick(29);
  assert.equal(
    (await t.okms.cancelKeyDeletion({ keyId })).keyId.endsWith(keyId),
    true,
  );
  const metadata = await t.okms.describeKey({ keyId });
  assert.equal(metadata.keyState, "Disabled");
  assert.equal(metadata.deletionDate, undefined);
  time.tick(365);
  await t.okms.runMaintenance();
  await t.okms.enableKey({ keyId });
  assert.equal(
    new TextDecoder().decode(
      (await t.okms.decrypt({ ciphertextBlob })).plaintext,
    ),
    "kept",
  );
});

Deno.test("due deletions happen at start-up", async () => {
  const time = clock();
  const dataDir = await Deno.makeTempDir({ prefix: "okms-deletion-" });
  try {
    let keyId: string;
    {
      await using okms = await Okms.open({ dataDir, now: () => time.now });
      keyId = (await okms.createKey()).keyId;
      await okms.scheduleKeyDeletion({ keyId, pendingWindowInDays: 10 });
    }
    time.tick(11);
    await using okms = await Okms.open({ dataDir, now: () => time.now });
    await rejectsNamed(okms.describeKey({ keyId }), "NotFoundException");
    assert.equal(
      (await cmkObjects(dataDir)).length,
      1,
      "only the default key's material is left",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("due deletions happen on the maintenance timer without a call", async () => {
  const time = clock();
  await using t = await openTestOkms({
    now: () => time.now,
    maintenanceIntervalMs: 5,
  });
  const { keyId } = await t.okms.createKey();
  await t.okms.scheduleKeyDeletion({ keyId, pendingWindowInDays: 7 });
  time.tick(8);
  let gone = false;
  for (let i = 0; i < 400 && !gone; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    gone = await t.okms.describeKey({ keyId }).then(
      () => false,
      (e) => e.name === "NotFoundException",
    );
  }
  assert.ok(gone, "the timer deleted the key");
});
