/**
 * Tags and descriptions: AWS rules for TagResource, UntagResource,
 * ListResourceTags and UpdateKeyDescription.
 */
import assert from "node:assert/strict";
import { openTestOkms, rejectsNamed } from "./helpers.ts";

Deno.test("TagResource adds and replaces, UntagResource removes, ListResourceTags pages", async () => {
  await using t = await openTestOkms();
  const { keyId, arn } = await t.okms.createKey({
    tags: [{ tagKey: "team", tagValue: "a" }],
  });
  await t.okms.tagResource({
    keyId,
    tags: [{ tagKey: "team", tagValue: "b" }, { tagKey: "env", tagValue: "" }],
  });
  assert.deepEqual((await t.okms.listResourceTags({ keyId: arn })).tags, [
    { tagKey: "env", tagValue: "" },
    { tagKey: "team", tagValue: "b" },
  ]);
  await t.okms.untagResource({ keyId, tagKeys: ["env", "never-set"] });
  assert.deepEqual((await t.okms.listResourceTags({ keyId })).tags, [{
    tagKey: "team",
    tagValue: "b",
  }]);

  const many = Array.from(
    { length: 49 },
    (_, i) => ({ tagKey: `k${String(i).padStart(2, "0")}`, tagValue: "v" }),
  );
  await t.okms.tagResource({ keyId, tags: many });
  await rejectsNamed(
    t.okms.tagResource({
      keyId,
      tags: [{ tagKey: "one-too-many", tagValue: "" }],
    }),
    "LimitExceededException",
  );
  await t.okms.tagResource({
    keyId,
    tags: [{ tagKey: "team", tagValue: "replaced" }],
  }); // still 50
  const seen: string[] = [];
  let marker: string | undefined;
  do {
    const page = await t.okms.listResourceTags({ keyId, limit: 20, marker });
    seen.push(...page.tags.map((tag) => tag.tagKey));
    marker = page.nextMarker;
  } while (marker);
  assert.equal(seen.length, 50);
  assert.deepEqual(seen, [...seen].sort());
});

Deno.test("bad tags and bad tag arguments are refused", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey();
  const bad = [
    [{ keyId, tags: [{ tagKey: "", tagValue: "v" }] }, "TagException"],
    [
      { keyId, tags: [{ tagKey: "aws:internal", tagValue: "v" }] },
      "TagException",
    ],
    [
      { keyId, tags: [{ tagKey: "k", tagValue: "v".repeat(257) }] },
      "TagException",
    ],
    [{ keyId, tags: "k=v" }, "ValidationException"],
    [{ keyId: "alias/x", tags: [] }, "ValidationException"],
    [{ keyId: crypto.randomUUID(), tags: [] }, "NotFoundException"],
  ] as const;
  for (const [input, name] of bad) {
    await rejectsNamed(t.okms.tagResource(input as never), name);
  }
  await rejectsNamed(
    t.okms.untagResource({ keyId, tagKeys: "k" } as never),
    "ValidationException",
  );
  await rejectsNamed(
    t.okms.listResourceTags({ keyId, limit: 51 }),
    "ValidationException",
  );
});

Deno.test("UpdateKeyDescription replaces the description, up to 8192 characters", async () => {
  await using t = await openTestOkms();
  const { keyId } = await t.okms.createKey({ description: "before" });
  await t.okms.updateKeyDescription({ keyId, description: "after" });
  assert.equal((await t.okms.describeKey({ keyId })).description, "after");
  await t.okms.updateKeyDescription({ keyId, description: "" });
  assert.equal((await t.okms.describeKey({ keyId })).description, "");
  await rejectsNamed(
    t.okms.updateKeyDescription({ keyId, description: "d".repeat(8193) }),
    "ValidationException",
  );
  await rejectsNamed(
    t.okms.updateKeyDescription({ keyId } as never),
    "ValidationException",
  );
});
