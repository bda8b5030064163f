/**
 * Recovery from crashes inside key creation: a process killed inside
 * `C_GenerateKey` leaves nothing behind once recovery has run, recovery
 * keeps its journal until the material is gone, and it spares work that
 * may still be under way and any token okms does not own. In both key
 * material modes, unless a test says otherwise; wrapped mode's domain-key
 * rotation is killed in tests/okms_domain_keys_test.ts.
 */
import assert from "node:assert/strict";
import { CKA, CKK, CKO } from "../ffi/mod.ts";
import { Hsm } from "../lib/hsm.ts";
import { JOURNAL_GRACE_MS } from "../lib/key_ring.ts";
import { SqliteStore } from "../lib/sqlite_store.ts";
import { cmkLabel } from "../lib/material/token_key_material.ts";
import { Okms } from "../mod.ts";
import {
  cmkObjects,
  killWhileWorking,
  openTestOkms,
  runChild,
  storedMaterial,
  tokenSession,
  utf8,
} from "./helpers.ts";

/** The object files of the embedded token, and how many are empty. */
async function objectFiles(
  dataDir: string,
): Promise<{ files: number; empty: number }> {
  const counts = { files: 0, empty: 0 };
  for await (const token of Deno.readDir(`${dataDir}/tokens`)) {
    for await (const file of Deno.readDir(`${dataDir}/tokens/${token.name}`)) {
      if (!file.name.endsWith(".object") || file.name === "token.object") {
        continue;
      }
      counts.files++;
      const { size } = await Deno.stat(
        `${dataDir}/tokens/${token.name}/${file.name}`,
      );
      if (size === 0) counts.empty++;
    }
  }
  return counts;
}

/** An AES token object without CKA_ID, as a kill mid-generation leaves. */
function halfWritten(hsm: Hsm): number {
  return hsm.generateAesKey([
    [CKA.CLASS, CKO.SECRET_KEY],
    [CKA.KEY_TYPE, CKK.AES],
    [CKA.VALUE_LEN, 32],
    [CKA.TOKEN, true],
    [CKA.PRIVATE, true],
    [CKA.SENSITIVE, true],
    [CKA.EXTRACTABLE, false],
  ]);
}

Deno.test("processes killed inside key creation leave nothing that recovery does not remove", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-kill-" });
  try {
    await (await Okms.open({ dataDir })).close();
    for (let round = 0; round < 12; round++) {
      await killWhileWorking(
        "create_keys_until_killed.ts",
        dataDir,
        10 + Math.random() * 70,
      );
    }
    // Past the grace period, the next start recovers everything.
    await using okms = await Okms.open({
      dataDir,
      now: () => Date.now() + JOURNAL_GRACE_MS + 1_000,
    });
    const { versions, tokenObjects, journal } = storedMaterial(dataDir);
    assert.ok(versions.length > 12, "keys were made between the kills");
    assert.deepEqual(
      await cmkObjects(dataDir),
      tokenObjects,
      "the token holds exactly the stored keys' material, or the domain key",
    );
    assert.equal(journal, 0, "no journal entry is left");
    assert.deepEqual(await objectFiles(dataDir), {
      files: tokenObjects.length,
      empty: 0,
    });
    const { keys } = await okms.listKeys({ limit: 1000 });
    for (const { keyId } of keys) {
      await okms.encrypt({ keyId, plaintext: utf8("still whole") });
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("token mode: recovery keeps a journal entry until its material is confirmed destroyed", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-keep-" });
  const destroy = Hsm.prototype.destroy;
  try {
    await (await Okms.open({ dataDir, keyMaterial: "token" })).close();
    await runChild("crash_in_create_key.ts", dataDir);
    const [left] = (await cmkObjects(dataDir)).filter((id) =>
      !storedMaterial(dataDir).versions.includes(id)
    );
    let now = Date.now() + JOURNAL_GRACE_MS + 1_000;
    Hsm.prototype.destroy = () => {}; // the HSM answers OK but keeps it
    await using okms = await Okms.open({
      dataDir,
      now: () => now,
      maintenanceIntervalMs: 0,
    });
    let report = await okms.runMaintenance();
    assert.equal(report.recovered, 0);
    assert.match(
      report.recoveryFailures[0],
      new RegExp(`material ${left}: 1 HSM object\\(s\\) .* remain`),
    );
    assert.equal(storedMaterial(dataDir).journal, 1, "the entry stays");

    Hsm.prototype.destroy = () => {
      throw new Error("C_DestroyObject failed with CKR_DEVICE_ERROR (0x30)");
    };
    now += 60_000;
    report = await okms.runMaintenance();
    assert.equal(report.recovered, 0);
    assert.match(report.recoveryFailures[0], /CKR_DEVICE_ERROR/);
    assert.equal(storedMaterial(dataDir).journal, 1, "the entry stays");
    assert.ok((await cmkObjects(dataDir)).includes(left));

    Hsm.prototype.destroy = destroy;
    report = await okms.runMaintenance();
    assert.equal(report.recovered, 1);
    assert.deepEqual(report.recoveryFailures, []);
    assert.equal(storedMaterial(dataDir).journal, 0);
    assert.deepEqual(
      await cmkObjects(dataDir),
      storedMaterial(dataDir).versions,
    );
  } finally {
    Hsm.prototype.destroy = destroy;
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("the sweep spares what a creation under way may finish, and material it cannot name", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-sweep-" });
  try {
    await (await Okms.open({ dataDir })).close();
    const hsm = await tokenSession(dataDir);
    const foreignId = crypto.getRandomValues(new Uint8Array(16));
    try {
      halfWritten(hsm);
      // Material no store entry names (a lost or older okms.db): kept.
      hsm.generateAesKey([
        [CKA.CLASS, CKO.SECRET_KEY],
        [CKA.KEY_TYPE, CKK.AES],
        [CKA.VALUE_LEN, 32],
        [CKA.TOKEN, true],
        [CKA.ID, foreignId],
        [CKA.LABEL, cmkLabel(foreignId)],
      ]);
    } finally {
      hsm.close();
    }
    // Dead files: an empty object file and a lone lock, both old, and an
    // empty object file SoftHSM2 may still be writing.
    const [tokenDir] = await Array.fromAsync(Deno.readDir(`${dataDir}/tokens`));
    const dir = `${dataDir}/tokens/${tokenDir.name}`;
    const dead = [crypto.randomUUID(), crypto.randomUUID()];
    const young = crypto.randomUUID();
    await Deno.writeFile(`${dir}/${dead[0]}.object`, new Uint8Array());
    await Deno.writeFile(`${dir}/${dead[0]}.lock`, new Uint8Array());
    await Deno.writeFile(`${dir}/${dead[1]}.lock`, new Uint8Array());
    for (
      const file of [`${dead[0]}.object`, `${dead[0]}.lock`, `${dead[1]}.lock`]
    ) {
      await Deno.utime(`${dir}/${file}`, 0, 0);
    }
    let now = Date.now();
    await Deno.writeFile(`${dir}/${young}.object`, new Uint8Array());
    // A creation beside, under way: its material is journaled, not yet made.
    const beside = SqliteStore.open(`${dataDir}/okms.db`);
    await beside.journalMaterial(
      crypto.getRandomValues(new Uint8Array(16)),
      now,
    );
    beside.close();

    {
      await using okms = await Okms.open({
        dataDir,
        now: () => now,
        maintenanceIntervalMs: 0,
      });
      const files = await Array.fromAsync(Deno.readDir(dir), (f) => f.name);
      assert.ok(!files.includes(`${dead[0]}.object`), "old empty file removed");
      assert.ok(!files.includes(`${dead[0]}.lock`));
      assert.ok(!files.includes(`${dead[1]}.lock`), "lone old lock removed");
      assert.ok(files.includes(`${young}.object`), "a young one is kept");
      assert.ok(
        (await cmkObjects(dataDir)).includes(""),
        "the half-written object is kept while a creation is under way",
      );
      now += JOURNAL_GRACE_MS + 5_000;
      const report = await okms.runMaintenance();
      assert.equal(
        report.recovered,
        3,
        "the entry, the object, the young file",
      );
      assert.deepEqual(report.recoveryFailures, []);
      assert.deepEqual(
        await cmkObjects(dataDir),
        [...storedMaterial(dataDir).tokenObjects, foreignId.toHex()].sort(),
      );
      await okms.encrypt({
        keyId: (await okms.defaultKey()).keyId,
        plaintext: utf8("intact"),
      });
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("on an external token, nothing okms cannot name is swept", async () => {
  await using t = await openTestOkms();
  await t.okms.close();
  const hsm = await tokenSession(t.dataDir);
  try {
    halfWritten(hsm);
  } finally {
    hsm.close();
  }
  const externalDir = await Deno.makeTempDir({ prefix: "okms-ext-" });
  try {
    await using okms = await Okms.open({
      dataDir: externalDir,
      pkcs11: { tokenLabel: "okms", pinFile: `${t.dataDir}/pin` },
      now: () => Date.now() + JOURNAL_GRACE_MS + 1_000,
    });
    assert.equal((await okms.runMaintenance()).recovered, 0);
    assert.ok((await cmkObjects(t.dataDir)).includes(""));
  } finally {
    await Deno.remove(externalDir, { recursive: true });
  }
});
