/**
 * Overlapping calls on one key: state checks cannot be overtaken, and
 * rotations, reservations and deletion queue behind each other.
 */
import assert from "node:assert/strict";
import { parseBlob } from "../lib/ciphertext_blob.ts";
import { openTestOkms, utf8 } from "./helpers.ts";

const DAY = 86_400_000;

Deno.test("overlapping state changes leave a state the key state table allows", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  await t.okms.disableKey({ keyId });
  const [scheduled, enabled] = await Promise.allSettled([
    t.okms.scheduleKeyDeletion({ keyId }),
    t.okms.enableKey({ keyId }),
  ]);
  assert.equal(scheduled.status, "fulfilled");
  assert.equal(enabled.status, "rejected");
  assert.equal(
    (enabled as PromiseRejectedResult).reason.name,
    "KMSInvalidStateException",
  );
  const metadata = await t.okms.describeKey({ keyId });
  assert.equal(metadata.keyState, "PendingDeletion");
  assert.ok(metadata.deletionDate instanceof Date);
});

Deno.test("concurrent on-demand rotations queue, and the 11th is refused", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  const results = await Promise.allSettled(
    Array.from({ length: 12 }, () => t.okms.rotateKeyOnDemand({ keyId })),
  );
  const refused = results.filter((r) =>
    r.status === "rejected"
  ) as PromiseRejectedResult[];
  assert.equal(results.length - refused.length, 10);
  assert.deepEqual(refused.map((r) => r.reason.name), [
    "LimitExceededException",
    "LimitExceededException",
  ]);
  const { rotations } = await t.okms.listKeyRotations({ keyId });
  assert.equal(rotations.length, 10);
  const { ciphertextBlob } = await t.okms.encrypt({
    keyId,
    plaintext: utf8("x"),
  });
  assert.equal(parseBlob(ciphertextBlob).keyVersion, 11);
});

Deno.test("rotations overlapping encryptions at the version limit all land", async () => {
  await using t = await openTestOkms({ maxEncryptionsPerVersion: 5 });
  const { keyId } = await t.okms.createKey();
  const encryptions = Array.from(
    { length: 40 },
    () => t.okms.encrypt({ keyId, plaintext: utf8("x") }),
  );
  const rotations = [
    t.okms.rotateKeyOnDemand({ keyId }),
    t.okms.rotateKeyOnDemand({ keyId }),
  ];
  const sealed = await Promise.all(encryptions);
  await Promise.all(rotations);
  const perVersion = new Map<number, number>();
  for (const { ciphertextBlob } of sealed) {
    const { keyVersion } = parseBlob(ciphertextBlob);
    perVersion.set(keyVersion, (perVersion.get(keyVersion) ?? 0) + 1);
  }
  assert.ok(
    [...perVersion.values()].every((n) => n <= 5),
    "no version past its limit",
  );
});

Deno.test("a deletion that was cancelled before maintenance ran does not happen", async () => {
  let now = Date.UTC(2026, 0, 1);
  await using t = await openTestOkms({
    now: () => now,
    maintenanceIntervalMs: 0,
  });
  const { keyId } = await t.okms.createKey();
  await t.okms.scheduleKeyDeletion({ keyId, pendingWindowInDays: 7 });
  now += 8 * DAY;
  const [report] = await Promise.all([
    t.okms.runMaintenance(),
    t.okms.cancelKeyDeletion({ keyId }),
  ]);
  assert.deepEqual(report.deleted, []);
  assert.deepEqual(report.failed, []);
  assert.equal((await t.okms.describeKey({ keyId })).keyState, "Disabled");
});
