/**
 * Durability: keys, states and ciphertexts survive a restart in a new
 * process, and a crash inside CreateKey leaves no half key.
 */
import assert from "node:assert/strict";
import { parseBlob } from "../lib/ciphertext_blob.ts";
import { Okms } from "../mod.ts";
import { cmkObjects, runChild, storedMaterial, utf8 } from "./helpers.ts";

Deno.test("a new process sees every key and decrypts every ciphertext", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-restart-" });
  try {
    const encryptionContext = { order: "42" };
    let blob: Uint8Array;
    let dataKeyBlob: Uint8Array;
    let dataKeyBytes: Uint8Array;
    let keyArn: string;
    let keys: string[];
    {
      await using okms = await Okms.open({ dataDir });
      const key = await okms.createKey({ description: "durable" });
      keyArn = key.arn;
      blob = (await okms.encrypt({
        keyId: key.keyId,
        plaintext: utf8("survives"),
        encryptionContext,
      }))
        .ciphertextBlob;
      using dataKey = await okms.generateDataKey({
        keyId: key.keyId,
        keySpec: "AES_256",
      });
      dataKeyBlob = dataKey.ciphertextBlob;
      dataKeyBytes = dataKey.plaintext.slice();
      keys = (await okms.listKeys()).keys.map((k) => k.keyId);
    }
    const seen = JSON.parse(
      await runChild(
        "use_keys.ts",
        dataDir,
        blob.toBase64(),
        JSON.stringify(encryptionContext),
      ),
    );
    assert.equal(seen.plaintext, "survives");
    assert.equal(seen.keyId, keyArn);
    assert.deepEqual(seen.keys, keys);

    await using okms = await Okms.open({ dataDir });
    const fromChild = await okms.decrypt({
      ciphertextBlob: Uint8Array.fromBase64(seen.fresh),
    });
    assert.equal(
      new TextDecoder().decode(fromChild.plaintext),
      "from the child",
    );
    assert.deepEqual(
      (await okms.decrypt({ ciphertextBlob: dataKeyBlob })).plaintext,
      dataKeyBytes,
    );
    assert.equal(
      (await okms.describeKey({ keyId: keyArn })).description,
      "durable",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a crash between HSM material and metadata leaves no half key", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-crash-" });
  try {
    let before: string[];
    {
      await using okms = await Okms.open({ dataDir });
      before = (await okms.listKeys()).keys.map((k) => k.keyId);
    }
    const materialBefore = await cmkObjects(dataDir);
    assert.equal(materialBefore.length, 1);

    const out = await runChild("crash_in_create_key.ts", dataDir);
    assert.match(out, /CRASHING/);
    // Token objects are left in the token; wrapped material, only wrapped
    // in the crashed process, never reached anything durable but the journal.
    const left = storedMaterial(dataDir).keyMaterial === "token" ? 1 : 0;
    assert.equal(
      (await cmkObjects(dataDir)).length,
      1 + left,
      "what the crash left in the token",
    );
    assert.equal(storedMaterial(dataDir).journal, 1);

    // Within the grace period the material may be another process's work
    // under way: it is kept, but never listed or used.
    let now = Date.now();
    await using okms = await Okms.open({ dataDir, now: () => now });
    assert.deepEqual((await okms.listKeys()).keys.map((k) => k.keyId), before);
    assert.equal((await cmkObjects(dataDir)).length, 1 + left);
    now += 61_000;
    assert.equal((await okms.runMaintenance()).recovered, 1);
    assert.deepEqual(
      await cmkObjects(dataDir),
      materialBefore,
      "recovery destroyed it",
    );
    const { keyId } = await okms.createKey();
    const { ciphertextBlob } = await okms.encrypt({
      keyId,
      plaintext: utf8("after"),
    });
    assert.equal(
      (await okms.decrypt({ ciphertextBlob })).keyId.endsWith(keyId),
      true,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("another process can administer beside the owner", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-beside-" });
  try {
    await using okms = await Okms.open({ dataDir });
    const created = JSON.parse(
      await runChild("create_account_beside.ts", dataDir),
    );
    assert.equal(created.refused, "UnsupportedOperationException");
    const account = await okms.account(created.accountId);
    const defaultKey = await account.defaultKey();
    assert.equal(defaultKey.keyId, created.defaultKeyId);
    const { ciphertextBlob } = await account.encrypt({
      keyId: defaultKey.keyId,
      plaintext: utf8("made beside"),
    });
    assert.equal(
      new TextDecoder().decode(
        (await account.decrypt({ ciphertextBlob })).plaintext,
      ),
      "made beside",
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("beside the owner, keys are read afresh and never rotated", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-beside-" });
  try {
    await using okms = await Okms.open({
      dataDir,
      maxEncryptionsPerVersion: 3,
    });
    const { keyId } = await okms.createKey();
    await okms.encrypt({ keyId, plaintext: utf8("owner") });
    await okms.disableKey({ keyId });
    // The beside process sees the owner's change at once.
    const disabled = JSON.parse(
      await runChild("beside_budget.ts", dataDir, keyId, "3"),
    );
    assert.deepEqual(disabled, {
      state: "Disabled",
      versions: [],
      stop: "DisabledException",
    });
    await okms.enableKey({ keyId });
    // The owner reserved the whole (tiny) budget of version 1 when it made
    // it: beside, the version is spent, and it stops instead of rotating.
    const spent = JSON.parse(
      await runChild("beside_budget.ts", dataDir, keyId, "3"),
    );
    assert.deepEqual(spent, {
      state: "Enabled",
      versions: [],
      stop: "UnsupportedOperationException",
    });
    assert.deepEqual(
      (await okms.listKeyRotations({ keyId })).rotations,
      [],
      "no version made beside",
    );
    // The owner uses the rest of its reservation, then rotates.
    const versions = [];
    for (let i = 0; i < 3; i++) {
      const { ciphertextBlob } = await okms.encrypt({
        keyId,
        plaintext: utf8("after"),
      });
      versions.push(parseBlob(ciphertextBlob).keyVersion);
    }
    assert.deepEqual(versions, [1, 1, 2]);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a second process cannot open a data directory in use", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-lock-" });
  try {
    await using okms = await Okms.open({ dataDir });
    const { ciphertextBlob } = await okms.encrypt({
      keyId: (await okms.defaultKey()).keyId,
      plaintext: utf8("x"),
    });
    await assert.rejects(
      runChild("use_keys.ts", dataDir, ciphertextBlob.toBase64(), "{}"),
      new RegExp(
        `in use by another process \\(okms, PID ${Deno.pid}\\): stop it first, or use \`deno task admin\``,
      ),
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
