import assert from "node:assert/strict";
import {
  encodeEncryptionContext,
  MAX_ENCRYPTION_CONTEXT_BYTES,
} from "./encryption_context.ts";
import { ValidationException } from "./errors.ts";

Deno.test("an absent or empty context encodes as no bytes", () => {
  assert.equal(encodeEncryptionContext(undefined).length, 0);
  assert.equal(encodeEncryptionContext({}).length, 0);
});

Deno.test("the encoding is count, then length-prefixed key and value", () => {
  assert.equal(
    encodeEncryptionContext({ a: "bc" }).toHex(),
    "0001" + "0001" + "61" + "0002" + "6263",
  );
});

Deno.test("pairs that concatenate alike encode differently", () => {
  const a = encodeEncryptionContext({ a: "bc" }).toHex();
  const b = encodeEncryptionContext({ ab: "c" }).toHex();
  assert.notEqual(a, b);
  assert.notEqual(
    encodeEncryptionContext({ a: "b", c: "d" }).toHex(),
    encodeEncryptionContext({ a: "bcd" }).toHex(),
  );
});

Deno.test("the order pairs are given in does not matter", () => {
  assert.deepEqual(
    encodeEncryptionContext({ z: "1", a: "2", m: "3" }),
    encodeEncryptionContext({ m: "3", z: "1", a: "2" }),
  );
});

Deno.test("keys sort by UTF-8 bytes, not UTF-16 code units", () => {
  // U+FF21 (EF BC A1 in UTF-8) sorts before U+1F600 (F0 9F 98 80) by bytes,
  // but after it by UTF-16 code units (0xFF21 > 0xD83D).
  const encoded = encodeEncryptionContext({ "\u{1F600}": "x", "\uFF21": "y" });
  const firstKey = encoded.subarray(4, 7);
  assert.equal(firstKey.toHex(), "efbca1");
});

Deno.test("ASCII and non-ASCII contexts share one encoding", () => {
  // "é" is C3 A9 in UTF-8: two bytes for one UTF-16 code unit.
  assert.equal(
    encodeEncryptionContext({ b: "\u00e9", a: "z" }).toHex(),
    "0002" + "0001" + "61" + "0001" + "7a" + "0001" + "62" + "0002" + "c3a9",
  );
  assert.equal(
    encodeEncryptionContext({ b: "e", a: "z" }).toHex(),
    "0002" + "0001" + "61" + "0001" + "7a" + "0001" + "62" + "0001" + "65",
  );
});

Deno.test("lone surrogates are refused, so no two contexts share an encoding", () => {
  const lone: Record<string, string>[] = [{ k: "\uD800" }, { "\uDC00": "v" }, {
    k: "a\uDBFFb",
  }];
  for (const bad of lone) {
    assert.throws(() => encodeEncryptionContext(bad), ValidationException);
  }
  assert.equal(
    encodeEncryptionContext({ k: "\u{1F600}" }).length,
    2 + 2 + 1 + 2 + 4,
  );
});

Deno.test("non-string values, empty keys and non-objects are refused", () => {
  for (
    const bad of [
      { a: 1 },
      { a: null },
      { "": "x" },
      ["a"],
      "a=b",
    ]
  ) {
    assert.throws(
      () => encodeEncryptionContext(bad as never),
      ValidationException,
    );
  }
});

Deno.test("a context over the size limit is refused; one at it is not", () => {
  const overhead = 2 + 4 + 1;
  const fits = { k: "v".repeat(MAX_ENCRYPTION_CONTEXT_BYTES - overhead) };
  assert.equal(
    encodeEncryptionContext(fits).length,
    MAX_ENCRYPTION_CONTEXT_BYTES,
  );
  const over = { k: "v".repeat(MAX_ENCRYPTION_CONTEXT_BYTES - overhead + 1) };
  assert.throws(() => encodeEncryptionContext(over), ValidationException);
});

Deno.test("many pairs sort as few do, in any order", () => {
  const pairs = Array.from({ length: 20 }, (_, i) => [`k${i}`, `v${i}`]);
  const sorted = encodeEncryptionContext(Object.fromEntries(pairs.toSorted()));
  for (let i = 0; i < 5; i++) {
    const shuffled = pairs.toSorted(() => Math.random() - 0.5);
    assert.deepEqual(
      encodeEncryptionContext(Object.fromEntries(shuffled)),
      sorted,
    );
    assert.deepEqual(
      encodeEncryptionContext(Object.fromEntries(shuffled.slice(0, 8))),
      encodeEncryptionContext(
        Object.fromEntries(shuffled.slice(0, 8).toSorted()),
      ),
    );
  }
});
