import assert from "node:assert/strict";
import {
  HEADER_BYTES,
  IV_AT,
  MAX_BLOB_BYTES,
  newBlob,
  parseBlob,
  TAG_BYTES,
} from "./ciphertext_blob.ts";
import { InvalidCiphertextException } from "./errors.ts";
import { keyIdToBytes } from "./key_id.ts";

const keyId = "0f8e6a52-1d2c-4b7a-9e3f-5a6b7c8d9e0f";
/** The HSM's generator, as far as a blob's layout is concerned. */
const random = {
  random: (bytes: number) => crypto.getRandomValues(new Uint8Array(bytes)),
};

Deno.test("a new blob's header parses back to its key id and version", () => {
  const blob = newBlob(keyIdToBytes(keyId), 0x01020304, 5, random);
  assert.equal(blob.length, HEADER_BYTES + 5 + TAG_BYTES);
  assert.equal(blob[0], 1);
  assert.equal(blob.subarray(17, 21).toHex(), "01020304");
  assert.deepEqual(parseBlob(blob), { keyId, keyVersion: 0x01020304 });
  assert.deepEqual(
    parseBlob(newBlob(keyIdToBytes(keyId), 0xffffffff, 1, random)).keyVersion,
    0xffffffff,
  );
});

Deno.test("each new blob has a fresh IV, across pool refills", () => {
  const ivs = new Set(
    Array.from(
      { length: 1000 },
      () =>
        newBlob(keyIdToBytes(keyId), 1, 1, random).subarray(IV_AT, HEADER_BYTES)
          .toHex(),
    ),
  );
  assert.equal(ivs.size, 1000);
});

Deno.test("short, long, unversioned and non-byte blobs are invalid ciphertext", () => {
  const good = newBlob(keyIdToBytes(keyId), 1, 1, random);
  const wrongVersion = good.slice();
  wrongVersion[0] = 2;
  for (
    const bad of [
      new Uint8Array(0),
      good.subarray(0, good.length - 1),
      new Uint8Array(MAX_BLOB_BYTES + 1).fill(1),
      wrongVersion,
      "AQID" as unknown as Uint8Array,
    ]
  ) {
    assert.throws(() => parseBlob(bad), InvalidCiphertextException);
  }
});
