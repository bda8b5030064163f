/**
 * The key state table: every operation on a key in every state gives AWS's
 * answer. Each cell gets a key of its own, since operations change states.
 */
import assert from "node:assert/strict";
import type { Okms, OkmsKey } from "../mod.ts";
import { openTestOkms, utf8 } from "./helpers.ts";

type State = "Enabled" | "Disabled" | "PendingDeletion";
type Outcome = "ok" | "DisabledException" | "KMSInvalidStateException";
type Cell = (
  okms: Okms,
  key: OkmsKey,
  blob: Uint8Array,
  other: OkmsKey,
) => Promise<unknown>;

// Enabled, Disabled, PendingDeletion: each row as the AWS key state table
// gives it, written out rather than grouped like lib/key_state.ts.
const table: [string, Outcome[], Cell][] = [
  [
    "Encrypt",
    ["ok", "DisabledException", "KMSInvalidStateException"],
    (o, k) => o.encrypt({ keyId: k.keyId, plaintext: utf8("x") }),
  ],
  [
    "Decrypt",
    ["ok", "DisabledException", "KMSInvalidStateException"],
    (o, _k, blob) => o.decrypt({ ciphertextBlob: blob }),
  ],
  [
    "GenerateDataKey",
    ["ok", "DisabledException", "KMSInvalidStateException"],
    (o, k) => o.generateDataKey({ keyId: k.keyId, keySpec: "AES_256" }),
  ],
  [
    "GenerateDataKeyWithoutPlaintext",
    ["ok", "DisabledException", "KMSInvalidStateException"],
    (o, k) =>
      o.generateDataKeyWithoutPlaintext({ keyId: k.keyId, numberOfBytes: 8 }),
  ],
  [
    "ReEncrypt (source)",
    ["ok", "DisabledException", "KMSInvalidStateException"],
    (o, _k, blob, other) =>
      o.reEncrypt({ ciphertextBlob: blob, destinationKeyId: other.keyId }),
  ],
  ["ReEncrypt (destination)", [
    "ok",
    "DisabledException",
    "KMSInvalidStateException",
  ], async (o, k, _blob, other) => {
    const { ciphertextBlob } = await o.encrypt({
      keyId: other.keyId,
      plaintext: utf8("x"),
    });
    return o.reEncrypt({ ciphertextBlob, destinationKeyId: k.keyId });
  }],
  [
    "EnableKeyRotation",
    ["ok", "DisabledException", "KMSInvalidStateException"],
    (o, k) => o.enableKeyRotation({ keyId: k.keyId }),
  ],
  [
    "DisableKeyRotation",
    ["ok", "DisabledException", "KMSInvalidStateException"],
    (o, k) => o.disableKeyRotation({ keyId: k.keyId }),
  ],
  [
    "RotateKeyOnDemand",
    ["ok", "DisabledException", "KMSInvalidStateException"],
    (o, k) => o.rotateKeyOnDemand({ keyId: k.keyId }),
  ],
  [
    "EnableKey",
    ["ok", "ok", "KMSInvalidStateException"],
    (o, k) => o.enableKey({ keyId: k.keyId }),
  ],
  [
    "DisableKey",
    ["ok", "ok", "KMSInvalidStateException"],
    (o, k) => o.disableKey({ keyId: k.keyId }),
  ],
  [
    "ScheduleKeyDeletion",
    ["ok", "ok", "KMSInvalidStateException"],
    (o, k) => o.scheduleKeyDeletion({ keyId: k.keyId }),
  ],
  [
    "CreateAlias",
    ["ok", "ok", "KMSInvalidStateException"],
    (o, k) =>
      o.createAlias({ aliasName: `alias/${k.keyId}`, targetKeyId: k.keyId }),
  ],
  [
    "UpdateAlias (destination)",
    ["ok", "ok", "KMSInvalidStateException"],
    async (o, k, _blob, other) => {
      await o.createAlias({
        aliasName: `alias/${k.keyId}`,
        targetKeyId: other.keyId,
      });
      return o.updateAlias({
        aliasName: `alias/${k.keyId}`,
        targetKeyId: k.keyId,
      });
    },
  ],
  [
    "TagResource",
    ["ok", "ok", "KMSInvalidStateException"],
    (o, k) =>
      o.tagResource({ keyId: k.keyId, tags: [{ tagKey: "a", tagValue: "b" }] }),
  ],
  [
    "UntagResource",
    ["ok", "ok", "KMSInvalidStateException"],
    (o, k) => o.untagResource({ keyId: k.keyId, tagKeys: ["a"] }),
  ],
  [
    "UpdateKeyDescription",
    ["ok", "ok", "KMSInvalidStateException"],
    (o, k) => o.updateKeyDescription({ keyId: k.keyId, description: "d" }),
  ],
  [
    "DescribeKey",
    ["ok", "ok", "ok"],
    (o, k) => o.describeKey({ keyId: k.keyId }),
  ],
  [
    "GetKeyRotationStatus",
    ["ok", "ok", "ok"],
    (o, k) => o.getKeyRotationStatus({ keyId: k.keyId }),
  ],
  [
    "ListKeyRotations",
    ["ok", "ok", "ok"],
    (o, k) => o.listKeyRotations({ keyId: k.keyId }),
  ],
  [
    "ListResourceTags",
    ["ok", "ok", "ok"],
    (o, k) => o.listResourceTags({ keyId: k.keyId }),
  ],
  [
    "ListAliases",
    ["ok", "ok", "ok"],
    (o, k) => o.listAliases({ keyId: k.keyId }),
  ],
  // An alias may be moved away from a key pending deletion.
  [
    "UpdateAlias (source)",
    ["ok", "ok", "ok"],
    (o, k, _blob, other) =>
      o.updateAlias({
        aliasName: `alias/from-${k.keyId}`,
        targetKeyId: other.keyId,
      }),
  ],
  [
    "DeleteAlias",
    ["ok", "ok", "ok"],
    (o, k) => o.deleteAlias({ aliasName: `alias/from-${k.keyId}` }),
  ],
  [
    "CancelKeyDeletion",
    ["KMSInvalidStateException", "KMSInvalidStateException", "ok"],
    (o, k) => o.cancelKeyDeletion({ keyId: k.keyId }),
  ],
];

async function keyIn(okms: Okms, state: State) {
  const key = await okms.createKey();
  await okms.createAlias({
    aliasName: `alias/from-${key.keyId}`,
    targetKeyId: key.keyId,
  });
  const { ciphertextBlob } = await okms.encrypt({
    keyId: key.keyId,
    plaintext: utf8("x"),
  });
  if (state === "Disabled") await okms.disableKey({ keyId: key.keyId });
  if (state === "PendingDeletion") {
    await okms.scheduleKeyDeletion({ keyId: key.keyId });
  }
  assert.equal((await okms.describeKey({ keyId: key.keyId })).keyState, state);
  return { key, ciphertextBlob };
}

Deno.test("every operation answers every key state as the AWS key state table says", async () => {
  await using t = await openTestOkms({ keyQuota: 1000 });
  const other = await t.okms.createKey();
  const states: State[] = ["Enabled", "Disabled", "PendingDeletion"];
  const failures: string[] = [];
  for (const [operation, outcomes, run] of table) {
    for (const [i, state] of states.entries()) {
      const { key, ciphertextBlob } = await keyIn(t.okms, state);
      const outcome = await run(t.okms, key, ciphertextBlob, other).then(
        () => "ok",
        (e: Error) => e.name,
      );
      if (outcome !== outcomes[i]) {
        failures.push(
          `${operation} on ${state}: expected ${outcomes[i]}, got ${outcome}`,
        );
      }
    }
  }
  assert.deepEqual(failures, []);
});

Deno.test("state changes show in DescribeKey and survive a restart", async () => {
  await using t = await openTestOkms();
  const key = await t.okms.createKey();
  await t.okms.disableKey({ keyId: key.keyId });
  let metadata = await t.okms.describeKey({ keyId: key.keyId });
  assert.equal(metadata.enabled, false);
  assert.equal(metadata.keyState, "Disabled");
  await t.okms.disableKey({ keyId: key.keyId }); // disabling twice is no error
  await t.okms.close();
  const { Okms } = await import("../mod.ts");
  await using reopened = await Okms.open({ dataDir: t.dataDir });
  metadata = await reopened.describeKey({ keyId: key.keyId });
  assert.equal(metadata.keyState, "Disabled");
  await reopened.enableKey({ keyId: key.keyId });
  await reopened.enableKey({ keyId: key.keyId });
  assert.equal(
    (await reopened.describeKey({ keyId: key.keyId })).keyState,
    "Enabled",
  );
});
