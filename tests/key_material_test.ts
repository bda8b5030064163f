/**
 * CMK material in the HSM: least-privilege attributes, proved through the
 * project's own binding, in each key material mode.
 */
import assert from "node:assert/strict";
import { CKA } from "../ffi/mod.ts";
import type { Hsm } from "../lib/hsm.ts";
import { domainKeyLabel } from "../lib/material/domain_keys.ts";
import { cmkLabel } from "../lib/material/token_key_material.ts";
import { openTestOkms, tokenSession, utf8 } from "./helpers.ts";

const TRUE = Uint8Array.of(1);
const FALSE = Uint8Array.of(0);

/** Asserts boolean attributes of an object, and that CKA_VALUE is unreadable. */
function assertAttributes(
  hsm: Hsm,
  handle: number,
  expected: [type: number, value: boolean][],
): void {
  const [value] = hsm.read(handle, [[CKA.VALUE, 64]]);
  assert.equal(value, undefined, "CKA_VALUE cannot be read");
  const values = hsm.read(handle, expected.map(([type]) => [type, 1] as const));
  expected.forEach(([type, want], i) =>
    assert.deepEqual(
      values[i],
      want ? TRUE : FALSE,
      `attribute 0x${type.toString(16)}`,
    )
  );
}

Deno.test("token mode: a CMK is a sensitive, non-extractable token key that only encrypts and decrypts", async () => {
  await using t = await openTestOkms({ keyMaterial: "token" });
  await t.okms.createKey();
  const hsm = await tokenSession(t.dataDir);
  try {
    const handles = hsm.find([]);
    assert.equal(handles.length, 2, "the default key and the new one");
    for (const handle of handles) {
      const [id, label] = hsm.read(handle, [[CKA.ID, 16], [CKA.LABEL, 64]]);
      assert.equal(
        new TextDecoder().decode(label),
        cmkLabel(id!),
        "the label names the material",
      );
      assertAttributes(hsm, handle, [
        [CKA.TOKEN, true],
        [CKA.PRIVATE, true],
        [CKA.SENSITIVE, true],
        [CKA.ALWAYS_SENSITIVE, true],
        [CKA.EXTRACTABLE, false],
        [CKA.NEVER_EXTRACTABLE, true],
        [CKA.LOCAL, true],
        [CKA.MODIFIABLE, false],
        [CKA.COPYABLE, false],
        [CKA.ENCRYPT, true],
        [CKA.DECRYPT, true],
        [CKA.WRAP, false],
        [CKA.UNWRAP, false],
        [CKA.SIGN, false],
        [CKA.VERIFY, false],
        [CKA.DERIVE, false],
      ]);
      const [length] = hsm.read(handle, [[CKA.VALUE_LEN, 8]]);
      assert.equal(new DataView(length!.buffer).getBigUint64(0, true), 32n);
    }
  } finally {
    hsm.close();
  }
});

Deno.test("wrapped mode: the token holds one domain key that only wraps; CMKs in use are session keys that only encrypt and decrypt", async () => {
  await using t = await openTestOkms({ keyMaterial: "wrapped" });
  const { keyId } = await t.okms.createKey();
  for (const key of [keyId, (await t.okms.defaultKey()).keyId]) {
    await t.okms.encrypt({ keyId: key, plaintext: utf8("in use") });
  }
  // A second session of this process sees okms's session objects too.
  const hsm = await tokenSession(t.dataDir);
  try {
    const [domainKey, ...others] = hsm.find([[CKA.TOKEN, true]]);
    assert.deepEqual(others, [], "nothing per key in the token");
    const [id, label] = hsm.read(domainKey, [[CKA.ID, 16], [CKA.LABEL, 64]]);
    assert.equal(new TextDecoder().decode(label), domainKeyLabel(id!));
    assertAttributes(hsm, domainKey, [
      [CKA.PRIVATE, true],
      [CKA.SENSITIVE, true],
      [CKA.ALWAYS_SENSITIVE, true],
      [CKA.EXTRACTABLE, false],
      [CKA.NEVER_EXTRACTABLE, true],
      [CKA.LOCAL, true],
      [CKA.MODIFIABLE, false],
      [CKA.COPYABLE, false],
      [CKA.ENCRYPT, false],
      [CKA.DECRYPT, false],
      [CKA.WRAP, true],
      [CKA.UNWRAP, true],
      [CKA.SIGN, false],
      [CKA.VERIFY, false],
      [CKA.DERIVE, false],
      [CKA.TRUSTED, false],
    ]);
    const inUse = hsm.find([[CKA.TOKEN, false]]);
    assert.equal(inUse.length, 2, "the default key and the new one, once each");
    for (const handle of inUse) {
      assertAttributes(hsm, handle, [
        [CKA.PRIVATE, true],
        [CKA.SENSITIVE, true],
        [CKA.EXTRACTABLE, false],
        [CKA.MODIFIABLE, false],
        [CKA.COPYABLE, false],
        [CKA.ENCRYPT, true],
        [CKA.DECRYPT, true],
        [CKA.WRAP, false],
        [CKA.UNWRAP, false],
        [CKA.SIGN, false],
        [CKA.VERIFY, false],
        [CKA.DERIVE, false],
      ]);
    }
  } finally {
    hsm.close();
  }
});
