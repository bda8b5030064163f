/**
 * CMK material in the HSM: least-privilege attributes, proved through the
 * project's own binding.
 */
import assert from "node:assert/strict";
import { CKA } from "../ffi/mod.ts";
import { cmkLabel } from "../lib/material/token_key_material.ts";
import { openTestOkms, tokenSession } from "./helpers.ts";

const TRUE = Uint8Array.of(1);
const FALSE = Uint8Array.of(0);

Deno.test("a CMK is a sensitive, non-extractable token key that only encrypts and decrypts", async () => {
  await using t = await openTestOkms();
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
      const [value] = hsm.read(handle, [[CKA.VALUE, 64]]);
      assert.equal(value, undefined, "CKA_VALUE cannot be read");
      const expected: [number, Uint8Array][] = [
        [CKA.TOKEN, TRUE],
        [CKA.PRIVATE, TRUE],
        [CKA.SENSITIVE, TRUE],
        [CKA.ALWAYS_SENSITIVE, TRUE],
        [CKA.EXTRACTABLE, FALSE],
        [CKA.NEVER_EXTRACTABLE, TRUE],
        [CKA.LOCAL, TRUE],
        [CKA.MODIFIABLE, FALSE],
        [CKA.COPYABLE, FALSE],
        [CKA.ENCRYPT, TRUE],
        [CKA.DECRYPT, TRUE],
        [CKA.WRAP, FALSE],
        [CKA.UNWRAP, FALSE],
        [CKA.SIGN, FALSE],
        [CKA.VERIFY, FALSE],
        [CKA.DERIVE, FALSE],
      ];
      const values = hsm.read(
        handle,
        expected.map(([type]) => [type, 1] as const),
      );
      expected.forEach(([type, want], i) =>
        assert.deepEqual(values[i], want, `attribute 0x${type.toString(16)}`)
      );
      const [length] = hsm.read(handle, [[CKA.VALUE_LEN, 8]]);
      assert.equal(new DataView(length!.buffer).getBigUint64(0, true), 32n);
    }
  } finally {
    hsm.close();
  }
});
