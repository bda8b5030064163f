/**
 * Wrapped key material (the default for new data directories): the mode a
 * directory records, its domain keys, crypto-shredding, and domain-key
 * rotation, with and without crashes. Every test here is wrapped-mode only
 * and says so in its options.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { CKA, CKM, Mechanism, Pkcs11Error } from "../ffi/mod.ts";
import { cmkTemplate } from "../lib/material/token_key_material.ts";
import { CMK_IN_USE } from "../lib/material/wrapped_key_material.ts";
import { Hsm } from "../lib/hsm.ts";
import { JOURNAL_GRACE_MS } from "../lib/key_ring.ts";
import { Okms, type OkmsOptions } from "../mod.ts";
import {
  cmkObjects,
  killWhileWorking,
  openTestOkms,
  rejectsNamed,
  storedMaterial,
  tokenSession,
  utf8,
} from "./helpers.ts";

const WRAPPED: OkmsOptions = { keyMaterial: "wrapped" };

/** The wrap algorithm and domain key id of every wrapped version. */
function wrappings(
  dataDir: string,
): { algorithm: string; domainKey: string }[] {
  const db = new DatabaseSync(`${dataDir}/okms.db`, { readOnly: true });
  try {
    return db.prepare("SELECT algorithm, domain_key_id FROM wrapped_material")
      .all().map((row) => ({
        algorithm: String(row.algorithm),
        domainKey: (row.domain_key_id as Uint8Array).toHex(),
      }));
  } finally {
    db.close();
  }
}

/** Session objects this process holds on the token: CMKs unwrapped for use. */
async function inUse(dataDir: string): Promise<number> {
  const hsm = await tokenSession(dataDir);
  try {
    return hsm.find([[CKA.TOKEN, false]]).length;
  } finally {
    hsm.close();
  }
}

async function withDir(test: (dataDir: string) => Promise<void>) {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-domain-" });
  try {
    await test(dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test("wrapped mode: a directory keeps its mode and refuses another, or a token without its domain key", async () => {
  await withDir(async (dataDir) => {
    {
      await using okms = await Okms.open({ dataDir, ...WRAPPED });
      assert.equal(okms.token.keyMaterial, "wrapped");
    }
    await assert.rejects(
      Okms.open({ dataDir, keyMaterial: "token" }),
      new RegExp(
        `the okms data directory ${dataDir} keeps its keys' material wrapped under domain keys, but keyMaterial "token" \\(OKMS_KEY_MATERIAL\\) was given: give "wrapped" or nothing`,
      ),
    );
    // Without the domain key, the token cannot open a single key.
    const [domainKey] = storedMaterial(dataDir).domainKeys;
    const hsm = await tokenSession(dataDir);
    try {
      for (const handle of hsm.find([[CKA.TOKEN, true]])) hsm.destroy(handle);
    } finally {
      hsm.close();
    }
    await assert.rejects(
      Okms.open({ dataDir, ...WRAPPED }),
      new RegExp(
        `${dataDir} wraps its keys under domain key okms-domain:${domainKey} \\(made .*\\), which the embedded SoftHSM2 token \\(serial .*\\) does not hold: restore ${dataDir}/tokens from a backup`,
      ),
    );
  });
  await withDir(async (dataDir) => {
    await (await Okms.open({ dataDir, keyMaterial: "token" })).close();
    await assert.rejects(
      Okms.open({ dataDir, keyMaterial: "wrapped" }),
      /keeps its keys' material as token objects, but keyMaterial "wrapped" \(OKMS_KEY_MATERIAL\) was given: give "token" or nothing/,
    );
    await using okms = await Okms.open({ dataDir });
    assert.equal(okms.token.keyMaterial, "token");
    await rejectsNamed(okms.rotateDomainKey(), "UnsupportedOperationException");
  });
  await assert.rejects(
    Okms.open({ keyMaterial: "clear" as "token" }),
    /keyMaterial \(OKMS_KEY_MATERIAL\) is "wrapped" or "token", not "clear"/,
  );
});

Deno.test("wrapped mode: deleting a key shreds its wrapped material and the key unwrapped for it", async () => {
  let now = Date.now();
  await using t = await openTestOkms({
    ...WRAPPED,
    now: () => now,
    maintenanceIntervalMs: 0,
  });
  const { keyId } = await t.okms.createKey();
  await t.okms.rotateKeyOnDemand({ keyId });
  const { ciphertextBlob } = await t.okms.encrypt({
    keyId,
    plaintext: utf8("x"),
  });
  const versions = storedMaterial(t.dataDir).versions.length;
  const unwrapped = await inUse(t.dataDir);
  assert.equal(wrappings(t.dataDir).length, 3, "the default key, 2 versions");

  await t.okms.scheduleKeyDeletion({ keyId, pendingWindowInDays: 7 });
  now += 8 * 86_400_000;
  assert.deepEqual((await t.okms.runMaintenance()).deleted, [keyId]);
  const after = storedMaterial(t.dataDir);
  assert.equal(after.versions.length, versions - 2);
  assert.equal(wrappings(t.dataDir).length, 1, "only the default key's");
  assert.equal(await inUse(t.dataDir), unwrapped - 1, "the one in use");
  assert.deepEqual(await cmkObjects(t.dataDir), after.domainKeys);
  await rejectsNamed(
    t.okms.decrypt({ ciphertextBlob }),
    "InvalidCiphertextException",
  );
});

/** Keys with two versions each, and a ciphertext under every version. */
async function keysWithCiphertexts(okms: Okms) {
  const sealed: { ciphertextBlob: Uint8Array; text: string }[] = [];
  for (let k = 0; k < 3; k++) {
    const { keyId } = await okms.createKey();
    for (let v = 0; v < 2; v++) {
      if (v > 0) await okms.rotateKeyOnDemand({ keyId });
      const text = `key ${k} version ${v + 1}`;
      const encryptionContext = { text };
      const { ciphertextBlob } = await okms.encrypt({
        keyId,
        plaintext: utf8(text),
        encryptionContext,
      });
      sealed.push({ ciphertextBlob, text });
    }
  }
  return sealed;
}

/** Decrypts every ciphertext, and encrypts under every key. */
async function assertAllWork(
  okms: Okms,
  sealed: { ciphertextBlob: Uint8Array; text: string }[],
) {
  for (const { ciphertextBlob, text } of sealed) {
    const { plaintext } = await okms.decrypt({
      ciphertextBlob,
      encryptionContext: { text },
    });
    assert.equal(new TextDecoder().decode(plaintext), text);
  }
  for (const { keyId } of (await okms.listKeys({ limit: 1000 })).keys) {
    await okms.encrypt({ keyId, plaintext: utf8("still whole") });
  }
}

Deno.test("wrapped mode: rotating the domain key re-wraps every version; every ciphertext decrypts throughout; the old key goes once unused", async () => {
  await withDir(async (dataDir) => {
    let now = Date.now();
    const okms = await Okms.open({
      dataDir,
      ...WRAPPED,
      now: () => now,
      maintenanceIntervalMs: 0,
    });
    try {
      const sealed = await keysWithCiphertexts(okms);
      const [first] = storedMaterial(dataDir).domainKeys;
      // Beside it, an instance that has unwrapped only the first version of
      // a key before the rotation unwraps the second after it.
      await using early = await Okms.open({
        dataDir,
        ...WRAPPED,
        beside: true,
      });
      await assertAllWork(early, sealed.slice(0, 1));
      // Beside it, fresh instances unwrap whatever the store holds meanwhile.
      let rotating = true;
      let checks = 0;
      const checker = (async () => {
        while (rotating) {
          await using beside = await Okms.open({
            dataDir,
            ...WRAPPED,
            beside: true,
          });
          await assertAllWork(beside, sealed);
          checks++;
        }
      })();
      const rotation = await okms.rotateDomainKey();
      const second = rotation.domainKeyId;
      assert.deepEqual(rotation, {
        domainKeyId: second,
        rewrapped: 7,
        retired: [],
        failures: [],
      }, "the default key's version and the 6 others");
      await assertAllWork(okms, sealed);
      rotating = false;
      await checker;
      assert.ok(checks > 0);
      assert.ok(
        wrappings(dataDir).every(({ domainKey }) => domainKey === second),
      );
      assert.deepEqual(await cmkObjects(dataDir), [first, second].sort());
      await okms.createKey();
      assert.ok(
        wrappings(dataDir).every(({ domainKey }) => domainKey === second),
        "new material is wrapped under the new domain key",
      );
      // Within the grace, a creation may still be wrapping under the old.
      assert.equal((await okms.runMaintenance()).domainKeys, undefined);
      now += JOURNAL_GRACE_MS + 1;
      assert.deepEqual((await okms.runMaintenance()).domainKeys, {
        rewrapped: 0,
        retired: [first],
        failures: [],
      });
      assert.deepEqual(await cmkObjects(dataDir), [second]);
      assert.deepEqual(storedMaterial(dataDir).domainKeys, [second]);
      await assertAllWork(early, sealed);
      assert.equal(storedMaterial(dataDir).journal, 0);
    } finally {
      await okms.close();
    }
    await using reopened = await Okms.open({ dataDir, ...WRAPPED });
    await assertAllWork(reopened, await keysWithCiphertexts(reopened));
    await rejectsNamed(
      (async () => {
        await using beside = await Okms.open({
          dataDir,
          ...WRAPPED,
          beside: true,
        });
        await beside.rotateDomainKey();
      })(),
      "UnsupportedOperationException",
    );
  });
});

Deno.test("wrapped mode: processes killed inside domain-key rotations and key creations leave nothing that recovery does not finish", async () => {
  await withDir(async (dataDir) => {
    let sealed;
    {
      await using okms = await Okms.open({ dataDir, ...WRAPPED });
      sealed = await keysWithCiphertexts(okms);
    }
    for (let round = 0; round < 10; round++) {
      await killWhileWorking(
        "rotate_domain_keys_until_killed.ts",
        dataDir,
        10 + Math.random() * 70,
      );
    }
    // Past every grace period (the children's clocks ran fast), opening
    // recovers what the kills interrupted and finishes the rotation.
    const late = Date.now() + 86_400_000;
    await using okms = await Okms.open({
      dataDir,
      ...WRAPPED,
      now: () => late,
      maintenanceIntervalMs: 0,
    });
    const stored = storedMaterial(dataDir);
    assert.ok(stored.versions.length > 17, "keys were made between the kills");
    assert.equal(stored.domainKeys.length, 1, "older domain keys retired");
    assert.deepEqual(await cmkObjects(dataDir), stored.domainKeys);
    assert.equal(stored.journal, 0, "no journal entry is left");
    assert.ok(
      wrappings(dataDir).every(({ domainKey }) =>
        domainKey === stored.domainKeys[0]
      ),
    );
    await assertAllWork(okms, sealed);
  });
});

Deno.test("wrapped mode: RFC 3394 key wrap when the token lacks CKM_AES_KEY_WRAP_PAD, and a clear refusal when it lacks both", async () => {
  const real = Object.getOwnPropertyDescriptor(Hsm.prototype, "mechanisms")!;
  const without = (...hidden: number[]) =>
    Object.defineProperty(Hsm.prototype, "mechanisms", {
      configurable: true,
      get(this: Hsm) {
        const offered = new Set(real.get!.call(this) as Set<number>);
        for (const mechanism of hidden) offered.delete(mechanism);
        return offered;
      },
    });
  try {
    without(CKM.AES_KEY_WRAP_PAD);
    {
      await using t = await openTestOkms(WRAPPED);
      const sealed = await keysWithCiphertexts(t.okms);
      assert.ok(
        wrappings(t.dataDir).every(({ algorithm }) => algorithm === "RFC3394"),
      );
      Object.defineProperty(Hsm.prototype, "mechanisms", real);
      await t.okms.close();
      // Reopened on a module that offers both: old blobs keep their algorithm.
      await using reopened = await Okms.open({
        dataDir: t.dataDir,
        ...WRAPPED,
      });
      await assertAllWork(reopened, sealed);
      await reopened.createKey();
      assert.deepEqual(
        new Set(wrappings(t.dataDir).map(({ algorithm }) => algorithm)),
        new Set(["RFC3394", "RFC5649"]),
      );
    }
    without(CKM.AES_KEY_WRAP_PAD, CKM.AES_KEY_WRAP);
    await assert.rejects(
      openTestOkms(WRAPPED),
      /offers neither CKM_AES_KEY_WRAP_PAD nor CKM_AES_KEY_WRAP, which wrapped key material needs: use keyMaterial "token"/,
    );
  } finally {
    Object.defineProperty(Hsm.prototype, "mechanisms", real);
  }
});

Deno.test("CMKs allow AES-GCM only (wrapped in use, and token objects): no ECB to leak GCM's hash key", async () => {
  await using t = await openTestOkms();
  const hsm = await tokenSession(t.dataDir);
  try {
    const key = hsm.generateAesKey([...CMK_IN_USE, [CKA.VALUE_LEN, 32]]);
    const tokenCmk = hsm.generateAesKey(
      cmkTemplate(crypto.getRandomValues(new Uint8Array(16))),
    );
    const ecb = new Mechanism(CKM.AES_ECB);
    for (const cmk of [key, tokenCmk]) {
      assert.throws(
        () => hsm.p11.encryptInit(hsm.session, ecb, cmk),
        (e: unknown) =>
          e instanceof Pkcs11Error && e.ckr === "CKR_MECHANISM_INVALID",
      );
    }
    hsm.destroy(tokenCmk);
    const sealed = new Uint8Array(16 + 16);
    const written = hsm.encrypt(
      key,
      { iv: new Uint8Array(12), aad: new Uint8Array(0) },
      new Uint8Array(16),
      sealed,
    );
    assert.equal(written, 32, "GCM still works");
    hsm.destroy(key);
  } finally {
    hsm.close();
  }
});

Deno.test("recovery never destroys a recorded domain key that the journal names", async () => {
  await using t = await openTestOkms({
    keyMaterial: "wrapped",
    maintenanceIntervalMs: 0,
  });
  const { ciphertextBlob } = await t.okms.encrypt({
    keyId: (await t.okms.defaultKey()).keyId,
    plaintext: utf8("kept"),
  });
  const tokenBefore = await cmkObjects(t.dataDir);
  const db = new DatabaseSync(`${t.dataDir}/okms.db`);
  try {
    // As a bug, or someone writing to okms.db, could: journal the domain key.
    db.prepare(
      "INSERT INTO material_journal (material_id, since) SELECT id, 0 FROM domain_keys",
    ).run();
  } finally {
    db.close();
  }
  const report = await t.okms.runMaintenance();
  assert.match(report.recoveryFailures.join("\n"), /kept it/);
  assert.deepEqual(await cmkObjects(t.dataDir), tokenBefore);
  await t.okms.close();
  await using reopened = await Okms.open({
    dataDir: t.dataDir,
    keyMaterial: "wrapped",
  });
  const { plaintext } = await reopened.decrypt({ ciphertextBlob });
  assert.equal(new TextDecoder().decode(plaintext), "kept");
});
