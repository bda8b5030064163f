import assert from "node:assert/strict";
import {
  blob,
  integer,
  list,
  MAX_JSON_DEPTH,
  oneOf,
  optional,
  parseRequestBody,
  required,
  string,
  stringMap,
  structure,
  toWire,
} from "./wire.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const named = (name: string) => ({ name });

Deno.test("parseRequestBody: objects only, within the depth limit", () => {
  assert.deepEqual(parseRequestBody(new Uint8Array()), {});
  assert.deepEqual(parseRequestBody(bytes('{"A":[1,{"B":"]"}]}')), {
    A: [1, { B: "]" }],
  });
  for (const bad of ["{", "[]", "1", '"x"', "null"]) {
    assert.throws(
      () => parseRequestBody(bytes(bad)),
      named("SerializationException"),
    );
  }
  const deep = (n: number) => "[".repeat(n) + "]".repeat(n);
  assert.deepEqual(
    parseRequestBody(bytes(`{"a":${deep(MAX_JSON_DEPTH - 1)}}`)).a !==
      undefined,
    true,
  );
  assert.throws(
    () => parseRequestBody(bytes(`{"a":${deep(MAX_JSON_DEPTH)}}`)),
    /nests deeper/,
  );
  // Brackets inside strings, escaped quotes included, do not count.
  const quoted = `{"a":"${"[".repeat(100)}\\"${"{".repeat(100)}"}`;
  assert.equal((parseRequestBody(bytes(quoted)).a as string).length, 201);
  assert.throws(
    () => parseRequestBody(new Uint8Array([0x7b, 0xc3, 0x7d])),
    /UTF-8/,
  );
});

Deno.test("decoders: type errors are SerializationException", () => {
  assert.equal(string("x", "M"), "x");
  assert.throws(() => string(1, "M"), /M must be a string, not number/);
  assert.equal(integer(3, "M"), 3);
  assert.throws(() => integer(1.5, "M"), named("SerializationException"));
  assert.throws(() => integer("3", "M"), named("SerializationException"));
  assert.deepEqual(blob("aGk=", "M"), bytes("hi"));
  assert.throws(() => blob("a*b", "M"), /M is not valid base64/);
  assert.throws(() => blob(5, "M"), named("SerializationException"));
  assert.deepEqual(stringMap({ a: "b" }, "M"), { a: "b" });
  assert.throws(() => stringMap({ a: 1 }, "M"), /M\.a must be a string/);
  assert.throws(() => stringMap([], "M"), named("SerializationException"));
  assert.deepEqual(list(string)(["a"], "M"), ["a"]);
  assert.throws(() => list(string)(["a", 2], "M"), /M\[1\]/);
  assert.equal(oneOf("A", "B")("B", "M"), "B");
  assert.throws(() => oneOf("A", "B")("C", "M"), named("ValidationException"));
  assert.throws(() => oneOf("A")(1, "M"), named("SerializationException"));
});

Deno.test("structure: PascalCase in, camelCase out; required members", () => {
  const decode = structure({
    KeyId: required(string),
    Limit: optional(integer),
    Tags: optional(list(structure({ TagKey: required(string) }))),
  });
  assert.deepEqual(
    decode(
      { KeyId: "k", Tags: [{ TagKey: "t" }], Unknown: 1, Limit: null },
      "in",
    ),
    { keyId: "k", tags: [{ tagKey: "t" }] },
  );
  assert.throws(
    () => decode({ Limit: 1 }, "in"),
    (e: Error) => e.name === "ValidationException" && /'keyId'/.test(e.message),
  );
  assert.throws(
    () => decode({ KeyId: null }, "in"),
    named("ValidationException"),
  );
  assert.throws(() => decode([], "in"), named("SerializationException"));
});

Deno.test("toWire: PascalCase, base64, epoch seconds, no undefined", () => {
  assert.deepEqual(
    toWire({
      keyId: "k",
      awsAccountId: "111122223333",
      plaintext: bytes("hi"),
      creationDate: new Date(1_700_000_000_500),
      nextMarker: undefined,
      keys: [{ keyArn: "a" }],
      truncated: false,
    }),
    {
      KeyId: "k",
      AWSAccountId: "111122223333",
      Plaintext: "aGk=",
      CreationDate: 1_700_000_000.5,
      Keys: [{ KeyArn: "a" }],
      Truncated: false,
    },
  );
});
