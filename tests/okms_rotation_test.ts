/**
 * Rotation: new HSM material per version, on demand and on schedule; every
 * older ciphertext still decrypts.
 */
import assert from "node:assert/strict";
import { parseBlob } from "../lib/ciphertext_blob.ts";
import {
  cmkObjects,
  openTestOkms,
  rejectsNamed,
  storedMaterial,
  utf8,
} from "./helpers.ts";

const DAY = 86_400_000;

Deno.test("on-demand rotation makes new material; old ciphertexts still decrypt", async () => {
  let now = Date.UTC(2026, 0, 1);
  await using t = await openTestOkms({
    now: () => now,
    maintenanceIntervalMs: 0,
  });
  const { keyId, arn } = await t.okms.createKey();
  const before = await t.okms.encrypt({
    keyId,
    plaintext: utf8("v1"),
    encryptionContext: { v: "1" },
  });
  const versionsBefore = storedMaterial(t.dataDir).versions;
  now += DAY;
  assert.deepEqual(await t.okms.rotateKeyOnDemand({ keyId }), { keyId: arn });
  const stored = storedMaterial(t.dataDir);
  assert.equal(stored.versions.length, versionsBefore.length + 1);
  assert.deepEqual(
    await cmkObjects(t.dataDir),
    stored.tokenObjects,
    "a new token object in token mode; in wrapped mode, none",
  );
  const after = await t.okms.encrypt({ keyId, plaintext: utf8("v2") });
  assert.equal(parseBlob(before.ciphertextBlob).keyVersion, 1);
  assert.equal(parseBlob(after.ciphertextBlob).keyVersion, 2);
  const old = await t.okms.decrypt({
    ciphertextBlob: before.ciphertextBlob,
    encryptionContext: { v: "1" },
  });
  assert.equal(new TextDecoder().decode(old.plaintext), "v1");
  const { rotations, truncated } = await t.okms.listKeyRotations({ keyId });
  assert.equal(truncated, false);
  assert.deepEqual(rotations, [{
    keyId,
    rotationDate: new Date(now),
    rotationType: "ON_DEMAND",
  }]);
});

Deno.test("on-demand rotation is limited to 10 per key", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  for (let i = 0; i < 10; i++) await t.okms.rotateKeyOnDemand({ keyId });
  await rejectsNamed(
    t.okms.rotateKeyOnDemand({ keyId }),
    "LimitExceededException",
  );
  const first = await t.okms.listKeyRotations({ keyId, limit: 4 });
  assert.equal(first.rotations.length, 4);
  assert.equal(first.truncated, true);
  const rest = await t.okms.listKeyRotations({
    keyId,
    marker: first.nextMarker,
  });
  assert.equal(rest.rotations.length, 6);
  assert.equal(rest.truncated, false);
  await rejectsNamed(
    t.okms.listKeyRotations({ keyId, limit: 0 }),
    "ValidationException",
  );
  await rejectsNamed(
    t.okms.listKeyRotations({ keyId, marker: "x" }),
    "InvalidMarkerException",
  );
});

Deno.test("automatic rotation: status, period bounds, and rotation when due", async () => {
  let now = Date.UTC(2026, 0, 1);
  await using t = await openTestOkms({
    now: () => now,
    maintenanceIntervalMs: 0,
  });
  const { keyId, arn } = await t.okms.createKey();
  assert.deepEqual(await t.okms.getKeyRotationStatus({ keyId }), {
    keyId: arn,
    keyRotationEnabled: false,
  });
  for (const rotationPeriodInDays of [89, 2561, 100.5]) {
    await rejectsNamed(
      t.okms.enableKeyRotation({ keyId, rotationPeriodInDays }),
      "ValidationException",
    );
  }
  await rejectsNamed(
    t.okms.enableKeyRotation({ keyId: "alias/x" }),
    "ValidationException",
  );
  await t.okms.enableKeyRotation({ keyId });
  assert.deepEqual(await t.okms.getKeyRotationStatus({ keyId }), {
    keyId: arn,
    keyRotationEnabled: true,
    rotationPeriodInDays: 365,
    nextRotationDate: new Date(now + 365 * DAY),
  });
  await t.okms.enableKeyRotation({ keyId, rotationPeriodInDays: 90 });
  const start = now;
  assert.deepEqual(
    (await t.okms.getKeyRotationStatus({ keyId })).nextRotationDate,
    new Date(start + 90 * DAY),
    "changing the period keeps the schedule's start",
  );
  const old = await t.okms.encrypt({ keyId, plaintext: utf8("old") });

  now = start + 89 * DAY;
  assert.deepEqual(await t.okms.runMaintenance(), {
    deleted: [],
    rotated: [],
    recovered: 0,
    recoveryFailures: [],
    failed: [],
  });
  now = start + 90 * DAY;
  assert.deepEqual(await t.okms.runMaintenance(), {
    deleted: [],
    rotated: [keyId],
    recovered: 0,
    recoveryFailures: [],
    failed: [],
  });
  const fresh = await t.okms.encrypt({ keyId, plaintext: utf8("new") });
  assert.equal(parseBlob(fresh.ciphertextBlob).keyVersion, 2);
  assert.equal(
    new TextDecoder().decode((await t.okms.decrypt(old)).plaintext),
    "old",
  );
  assert.deepEqual(
    (await t.okms.getKeyRotationStatus({ keyId })).nextRotationDate,
    new Date(now + 90 * DAY),
  );
  assert.deepEqual(
    (await t.okms.listKeyRotations({ keyId })).rotations.map((r) =>
      r.rotationType
    ),
    [
      "AUTOMATIC",
    ],
  );

  // A disabled key is not rotated while disabled; it is once enabled again.
  await t.okms.disableKey({ keyId });
  now += 400 * DAY;
  assert.deepEqual((await t.okms.runMaintenance()).rotated, []);
  await t.okms.enableKey({ keyId });
  assert.deepEqual((await t.okms.runMaintenance()).rotated, [keyId]);

  await t.okms.disableKeyRotation({ keyId });
  assert.deepEqual(await t.okms.getKeyRotationStatus({ keyId }), {
    keyId: arn,
    keyRotationEnabled: false,
  });
  now += 4000 * DAY;
  assert.deepEqual((await t.okms.runMaintenance()).rotated, []);
});
