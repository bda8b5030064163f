/**
 * ReEncrypt and GenerateRandom.
 */
import assert from "node:assert/strict";
import { openTestOkms, rejectsNamed, utf8 } from "./helpers.ts";

Deno.test("ReEncrypt moves a ciphertext to another key and context without showing the plaintext", async () => {
  await using t = await openTestOkms();
  const source = await t.okms.createKey();
  const destination = await t.okms.createKey();
  const { ciphertextBlob } = await t.okms.encrypt({
    keyId: source.keyId,
    plaintext: utf8("moving"),
    encryptionContext: { from: "a" },
  });
  const out = await t.okms.reEncrypt({
    ciphertextBlob,
    sourceEncryptionContext: { from: "a" },
    sourceKeyId: source.keyId,
    destinationKeyId: destination.arn,
    destinationEncryptionContext: { to: "b" },
  });
  assert.deepEqual(Object.keys(out).sort(), [
    "ciphertextBlob",
    "destinationEncryptionAlgorithm",
    "keyId",
    "sourceEncryptionAlgorithm",
    "sourceKeyId",
  ]);
  assert.equal(out.sourceKeyId, source.arn);
  assert.equal(out.keyId, destination.arn);
  const opened = await t.okms.decrypt({
    ciphertextBlob: out.ciphertextBlob,
    encryptionContext: { to: "b" },
  });
  assert.equal(new TextDecoder().decode(opened.plaintext), "moving");
  assert.equal(opened.keyId, destination.arn);

  await rejectsNamed(
    t.okms.reEncrypt({ ciphertextBlob, destinationKeyId: destination.keyId }),
    "InvalidCiphertextException",
  );
  await rejectsNamed(
    t.okms.reEncrypt({
      ciphertextBlob,
      sourceEncryptionContext: { from: "a" },
      sourceKeyId: destination.keyId,
      destinationKeyId: destination.keyId,
    }),
    "IncorrectKeyException",
  );
  await rejectsNamed(
    t.okms.reEncrypt({
      ciphertextBlob,
      sourceEncryptionContext: { from: "a" },
      destinationKeyId: crypto.randomUUID(),
    }),
    "NotFoundException",
  );
  await rejectsNamed(
    t.okms.reEncrypt(
      { ciphertextBlob, sourceEncryptionContext: { from: "a" } } as never,
    ),
    "ValidationException",
  );
  await rejectsNamed(
    t.okms.reEncrypt({
      ciphertextBlob,
      sourceEncryptionContext: { from: "a" },
      destinationKeyId: destination.keyId,
      destinationEncryptionAlgorithm: "RSAES_OAEP_SHA_256" as never,
    }),
    "ValidationException",
  );
});

Deno.test("GenerateRandom returns 1 to 1024 bytes from the HSM", async () => {
  await using t = await openTestOkms();
  for (const numberOfBytes of [1, 32, 1024]) {
    assert.equal(
      (await t.okms.generateRandom({ numberOfBytes })).plaintext.length,
      numberOfBytes,
    );
  }
  const a = await t.okms.generateRandom({ numberOfBytes: 32 });
  const b = await t.okms.generateRandom({ numberOfBytes: 32 });
  assert.notDeepEqual(a.plaintext, b.plaintext);
  for (const numberOfBytes of [0, 1025, 2.5, undefined]) {
    await rejectsNamed(
      t.okms.generateRandom({ numberOfBytes } as never),
      "ValidationException",
    );
  }
});
