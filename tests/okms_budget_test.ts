/**
 * The random-IV bound: encryptions per key version are counted durably and
 * okms rotates to new material before a version reaches its limit.
 */
import assert from "node:assert/strict";
import { parseBlob } from "../lib/ciphertext_blob.ts";
import { Okms } from "../mod.ts";
import { cmkObjects, openTestOkms, storedMaterial, utf8 } from "./helpers.ts";

Deno.test("a version that reaches its encryption limit is replaced by new material", async () => {
  await using t = await openTestOkms({ maxEncryptionsPerVersion: 3 });
  const { keyId } = await t.okms.createKey();
  const blobs = [];
  for (let i = 0; i < 7; i++) {
    blobs.push(
      (await t.okms.encrypt({ keyId, plaintext: utf8(`m${i}`) }))
        .ciphertextBlob,
    );
  }
  assert.deepEqual(blobs.map((b) => parseBlob(b).keyVersion), [
    1,
    1,
    1,
    2,
    2,
    2,
    3,
  ]);
  for (const [i, ciphertextBlob] of blobs.entries()) {
    const { plaintext } = await t.okms.decrypt({ ciphertextBlob });
    assert.equal(new TextDecoder().decode(plaintext), `m${i}`);
  }
  // default key + versions 1, 2, 3 of this key
  const stored = storedMaterial(t.dataDir);
  assert.equal(stored.versions.length, 4);
  assert.deepEqual(await cmkObjects(t.dataDir), stored.tokenObjects);
});

Deno.test("concurrent encryptions never exceed a version's limit", async () => {
  await using t = await openTestOkms({ maxEncryptionsPerVersion: 10 });
  const { keyId } = await t.okms.createKey();
  const blobs = await Promise.all(
    Array.from(
      { length: 95 },
      () => t.okms.encrypt({ keyId, plaintext: utf8("x") }),
    ),
  );
  const perVersion = new Map<number, number>();
  for (const { ciphertextBlob } of blobs) {
    const { keyVersion } = parseBlob(ciphertextBlob);
    perVersion.set(keyVersion, (perVersion.get(keyVersion) ?? 0) + 1);
  }
  assert.deepEqual([...perVersion.keys()].sort((a, b) => a - b), [
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
  ]);
  assert.ok([...perVersion.values()].every((n) => n <= 10));
});

Deno.test("after a restart, reserved encryptions count as made", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-budget-" });
  try {
    let keyId: string;
    {
      await using okms = await Okms.open({
        dataDir,
        maxEncryptionsPerVersion: 1000,
      });
      keyId = (await okms.createKey()).keyId;
      await okms.encrypt({ keyId, plaintext: utf8("one") });
    }
    await using okms = await Okms.open({
      dataDir,
      maxEncryptionsPerVersion: 1000,
    });
    const { ciphertextBlob } = await okms.encrypt({
      keyId,
      plaintext: utf8("two"),
    });
    assert.equal(parseBlob(ciphertextBlob).keyVersion, 2);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a limit above the NIST bound is refused", async () => {
  await assert.rejects(
    Okms.open({
      dataDir: "/nonexistent",
      maxEncryptionsPerVersion: 2 ** 32 + 1,
    }),
    /maxEncryptionsPerVersion/,
  );
});
