/**
 * Many overlapping calls on one Okms share one PKCS#11 session safely.
 */
import assert from "node:assert/strict";
import { openTestOkms, utf8 } from "./helpers.ts";

Deno.test("1,000 concurrent encrypts all succeed and all decrypt", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  const plaintexts = Array.from(
    { length: 1000 },
    (_, i) => utf8(`message ${i}`),
  );
  const sealed = await Promise.all(
    plaintexts.map((plaintext, i) =>
      t.okms.encrypt({ keyId, plaintext, encryptionContext: { i: String(i) } })
    ),
  );
  const opened = await Promise.all(
    sealed.map(({ ciphertextBlob }, i) =>
      t.okms.decrypt({ ciphertextBlob, encryptionContext: { i: String(i) } })
    ),
  );
  opened.forEach(({ plaintext }, i) =>
    assert.deepEqual(plaintext, plaintexts[i])
  );
});

Deno.test("mixed concurrent operations, with failures among them, do not disturb each other", async () => {
  await using t = await openTestOkms();
  const keys = await Promise.all([t.okms.createKey(), t.okms.createKey()]);
  const { ciphertextBlob } = await t.okms.encrypt({
    keyId: keys[0].keyId,
    plaintext: utf8("x"),
  });
  const tampered = ciphertextBlob.slice();
  tampered[tampered.length - 1] ^= 1;
  const work = Array.from({ length: 600 }, (_, i) => {
    const keyId = keys[i % 2].keyId;
    switch (i % 6) {
      case 0:
        return t.okms.encrypt({ keyId, plaintext: utf8("y") }).then(() => "ok");
      case 1:
        return t.okms.decrypt({ ciphertextBlob }).then(() => "ok");
      case 2:
        return t.okms.generateDataKey({ keyId, keySpec: "AES_256" }).then(
          (dk) => {
            dk[Symbol.dispose]();
            return "ok";
          },
        );
      case 3:
        return t.okms.decrypt({ ciphertextBlob: tampered }).then(
          () => "unexpected",
          (e) => e.name,
        );
      case 4:
        return t.okms.generateDataKeyWithoutPlaintext({
          keyId,
          numberOfBytes: 64,
        }).then(() => "ok");
      default:
        return t.okms.describeKey({ keyId }).then(() => "ok");
    }
  });
  const outcomes = await Promise.all(work);
  assert.equal(
    outcomes.filter((o) => o === "InvalidCiphertextException").length,
    100,
  );
  assert.equal(outcomes.filter((o) => o === "ok").length, 500);
});
