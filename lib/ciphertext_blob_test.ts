import assert from "node:assert/strict";
import {
  HEADER_BYTES,
  MAX_BLOB_BYTES,
  newBlob,
  parseBlob,
  TAG_BYTES,
} from "./ciphertext_blob.ts";
import { InvalidCiphertextException } from "./errors.ts";
import { keyIdToBytes } from "./key_id.ts";

const keyId = "0f8e6a52-1d2c-4b7a-9e3f-5a6b7c8d9e0f";

Deno.test("a new blob's header parses back to its key id, version and IV", () => {
  const target = newBlob(keyIdToBytes(keyId), 7, 5);
  assert.equal(target.blob.length, HEADER_BYTES + 5 + TAG_BYTES);
  const parsed = parseBlob(target.blob);
  assert.equal(parsed.keyId, keyId);
  assert.equal(parsed.keyVersion, 7);
  assert.deepEqual(parsed.iv, target.iv);
  assert.equal(parsed.sealed.length, 5 + TAG_BYTES);
});

Deno.test("each new blob has a fresh IV", () => {
  const ivs = new Set(
    Array.from(
      { length: 100 },
      () => newBlob(keyIdToBytes(keyId), 1, 1).iv.toHex(),
    ),
  );
  assert.equal(ivs.size, 100);
});

Deno.test("short, long, unversioned and non-byte blobs are invalid ciphertext", () => {
  const good = newBlob(keyIdToBytes(keyId), 1, 1).blob;
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
