import assert from "node:assert/strict";
import { ValidationException } from "./errors.ts";
import { keyIdFromBytes, keyIdToBytes, parseKeyReference } from "./key_id.ts";

const id = "0f8e6a52-1d2c-4b7a-9e3f-5a6b7c8d9e0f";

Deno.test("key ids round-trip through their 16 bytes", () => {
  assert.equal(keyIdToBytes(id).length, 16);
  assert.equal(keyIdFromBytes(keyIdToBytes(id)), id);
});

Deno.test("every AWS form of a key argument is recognised", () => {
  assert.deepEqual(parseKeyReference(id), { kind: "key", keyId: id });
  assert.deepEqual(parseKeyReference(id.toUpperCase()), {
    kind: "key",
    keyId: id,
  });
  assert.deepEqual(
    parseKeyReference(`arn:aws:kms:eu-west-2:123456789012:key/${id}`),
    { kind: "key", keyId: id, accountId: "123456789012", region: "eu-west-2" },
  );
  assert.deepEqual(parseKeyReference("alias/orders"), {
    kind: "alias",
    aliasName: "alias/orders",
  });
  assert.deepEqual(
    parseKeyReference("arn:aws:kms:eu-west-2:123456789012:alias/orders"),
    {
      kind: "alias",
      aliasName: "alias/orders",
      accountId: "123456789012",
      region: "eu-west-2",
    },
  );
});

Deno.test("empty, over-long, non-string and malformed ARN arguments are refused", () => {
  for (
    const bad of ["", "x".repeat(2049), 42, undefined, "arn:aws:s3:::bucket"]
  ) {
    assert.throws(() => parseKeyReference(bad), ValidationException);
  }
});
