/**
 * The key lifecycle over HTTP with the unmodified AWS SDK v3: states,
 * deletion on a moved clock, aliases, tags, rotation, ReEncrypt,
 * GenerateRandom, and their errors with AWS's statuses.
 */
import assert from "node:assert/strict";
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateRandomCommand,
  GetKeyRotationStatusCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeyRotationsCommand,
  ListResourceTagsCommand,
  ReEncryptCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
} from "./aws_sdk.ts";
import { startServer } from "../server/mod.ts";
import { rejectsWith } from "./sdk_helpers.ts";

const REGION = "eu-west-2";
const DAY = 86_400_000;
const utf8 = (text: string) => new TextEncoder().encode(text);

Deno.test("the key lifecycle through the AWS SDK v3", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-server-lifecycle-" });
  let now = Date.UTC(2026, 10, 28);
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    okms: { dataDir, region: REGION, now: () => now, maintenanceIntervalMs: 0 },
    clockSkewSeconds: 300,
    auditLog: `${dataDir}/audit.log`,
  }, () => {});
  const kms = new KMSClient({
    endpoint: server.url,
    region: REGION,
    credentials: server.firstAccessKey!,
    maxAttempts: 1,
  });
  try {
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ Description: "life" }),
    );
    const keyId = KeyMetadata!.KeyId!;
    const arn = KeyMetadata!.Arn!;
    const other = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!
      .KeyId!;

    await t.step("aliases name keys in every key argument", async () => {
      await kms.send(
        new CreateAliasCommand({ AliasName: "alias/life", TargetKeyId: keyId }),
      );
      const { CiphertextBlob, KeyId } = await kms.send(
        new EncryptCommand({ KeyId: "alias/life", Plaintext: utf8("x") }),
      );
      assert.equal(KeyId, arn);
      const aliasArn = `arn:aws:kms:${REGION}:${
        KeyMetadata!.AWSAccountId
      }:alias/life`;
      assert.equal(
        (await kms.send(
          new DecryptCommand({ CiphertextBlob, KeyId: aliasArn }),
        )).KeyId,
        arn,
      );
      const { Aliases } = await kms.send(
        new ListAliasesCommand({ KeyId: keyId }),
      );
      assert.equal(Aliases?.[0].AliasName, "alias/life");
      assert.equal(Aliases?.[0].AliasArn, aliasArn);
      assert.equal(Aliases?.[0].TargetKeyId, keyId);
      assert.ok(Aliases?.[0].CreationDate instanceof Date);
      await rejectsWith(
        kms.send(
          new CreateAliasCommand({
            AliasName: "alias/life",
            TargetKeyId: other,
          }),
        ),
        "AlreadyExistsException",
        409,
      );
      await rejectsWith(
        kms.send(
          new CreateAliasCommand({
            AliasName: "alias/aws/x",
            TargetKeyId: keyId,
          }),
        ),
        "InvalidAliasNameException",
        400,
      );
      await kms.send(
        new UpdateAliasCommand({ AliasName: "alias/life", TargetKeyId: other }),
      );
      assert.equal(
        (await kms.send(new DescribeKeyCommand({ KeyId: "alias/life" })))
          .KeyMetadata?.KeyId,
        other,
      );
      await kms.send(new DeleteAliasCommand({ AliasName: "alias/life" }));
      await rejectsWith(
        kms.send(new DescribeKeyCommand({ KeyId: "alias/life" })),
        "NotFoundException",
        404,
      );
    });

    await t.step("tags and description", async () => {
      await kms.send(
        new TagResourceCommand({
          KeyId: keyId,
          Tags: [{ TagKey: "team", TagValue: "a" }],
        }),
      );
      await kms.send(
        new TagResourceCommand({
          KeyId: arn,
          Tags: [{ TagKey: "team", TagValue: "b" }],
        }),
      );
      assert.deepEqual(
        (await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags,
        [
          { TagKey: "team", TagValue: "b" },
        ],
      );
      await kms.send(
        new UntagResourceCommand({ KeyId: keyId, TagKeys: ["team", "absent"] }),
      );
      assert.deepEqual(
        (await kms.send(new ListResourceTagsCommand({ KeyId: keyId }))).Tags,
        [],
      );
      await rejectsWith(
        kms.send(
          new TagResourceCommand({
            KeyId: keyId,
            Tags: [{ TagKey: "aws:x", TagValue: "" }],
          }),
        ),
        "TagException",
        400,
      );
      await kms.send(
        new UpdateKeyDescriptionCommand({
          KeyId: keyId,
          Description: "renamed",
        }),
      );
      assert.equal(
        (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
          ?.Description,
        "renamed",
      );
    });

    await t.step(
      "rotation: on demand, automatic on schedule, old ciphertexts still decrypt",
      async () => {
        const before = await kms.send(
          new EncryptCommand({ KeyId: keyId, Plaintext: utf8("v1") }),
        );
        assert.equal(
          (await kms.send(new RotateKeyOnDemandCommand({ KeyId: keyId })))
            .KeyId,
          arn,
        );
        await kms.send(
          new EnableKeyRotationCommand({
            KeyId: keyId,
            RotationPeriodInDays: 90,
          }),
        );
        const status = await kms.send(
          new GetKeyRotationStatusCommand({ KeyId: keyId }),
        );
        assert.equal(status.KeyRotationEnabled, true);
        assert.equal(status.RotationPeriodInDays, 90);
        assert.deepEqual(status.NextRotationDate, new Date(now + 90 * DAY));
        now += 90 * DAY;
        assert.deepEqual((await server.okms.runMaintenance()).rotated, [keyId]);
        const { Rotations } = await kms.send(
          new ListKeyRotationsCommand({ KeyId: keyId }),
        );
        assert.deepEqual(Rotations?.map((r) => r.RotationType), [
          "ON_DEMAND",
          "AUTOMATIC",
        ]);
        const old = await kms.send(
          new DecryptCommand({ CiphertextBlob: before.CiphertextBlob }),
        );
        assert.equal(new TextDecoder().decode(old.Plaintext), "v1");
        await kms.send(new DisableKeyRotationCommand({ KeyId: keyId }));
        assert.equal(
          (await kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId })))
            .KeyRotationEnabled,
          false,
        );
        await rejectsWith(
          kms.send(
            new EnableKeyRotationCommand({
              KeyId: keyId,
              RotationPeriodInDays: 30,
            }),
          ),
          "ValidationException",
          400,
        );
      },
    );

    await t.step("ReEncrypt and GenerateRandom", async () => {
      const sealed = await kms.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: utf8("move"),
          EncryptionContext: { a: "1" },
        }),
      );
      const moved = await kms.send(
        new ReEncryptCommand({
          CiphertextBlob: sealed.CiphertextBlob,
          SourceEncryptionContext: { a: "1" },
          DestinationKeyId: other,
          DestinationEncryptionContext: { b: "2" },
        }),
      );
      assert.equal(moved.SourceKeyId, arn);
      assert.ok(moved.KeyId?.endsWith(other));
      assert.equal(moved.SourceEncryptionAlgorithm, "SYMMETRIC_DEFAULT");
      const opened = await kms.send(
        new DecryptCommand({
          CiphertextBlob: moved.CiphertextBlob,
          EncryptionContext: { b: "2" },
        }),
      );
      assert.equal(new TextDecoder().decode(opened.Plaintext), "move");
      await rejectsWith(
        kms.send(
          new ReEncryptCommand({
            CiphertextBlob: sealed.CiphertextBlob,
            DestinationKeyId: other,
          }),
        ),
        "InvalidCiphertextException",
        400,
      );
      assert.equal(
        (await kms.send(new GenerateRandomCommand({ NumberOfBytes: 64 })))
          .Plaintext?.length,
        64,
      );
      await rejectsWith(
        kms.send(new GenerateRandomCommand({ NumberOfBytes: 1025 })),
        "ValidationException",
        400,
      );
    });

    await t.step(
      "states: disable, enable, schedule, cancel, and deletion for real",
      async () => {
        const { CiphertextBlob } = await kms.send(
          new EncryptCommand({ KeyId: keyId, Plaintext: utf8("x") }),
        );
        await kms.send(new DisableKeyCommand({ KeyId: keyId }));
        await rejectsWith(
          kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: utf8("x") })),
          "DisabledException",
          409,
        );
        await rejectsWith(
          kms.send(new DecryptCommand({ CiphertextBlob })),
          "DisabledException",
          409,
        );
        await kms.send(new EnableKeyCommand({ KeyId: keyId }));
        await rejectsWith(
          kms.send(new CancelKeyDeletionCommand({ KeyId: keyId })),
          "KMSInvalidStateException",
          409,
        );

        const scheduled = await kms.send(
          new ScheduleKeyDeletionCommand({
            KeyId: keyId,
            PendingWindowInDays: 7,
          }),
        );
        assert.equal(scheduled.KeyState, "PendingDeletion");
        assert.equal(scheduled.PendingWindowInDays, 7);
        assert.deepEqual(scheduled.DeletionDate, new Date(now + 7 * DAY));
        await rejectsWith(
          kms.send(new EncryptCommand({ KeyId: keyId, Plaintext: utf8("x") })),
          "KMSInvalidStateException",
          409,
        );
        await rejectsWith(
          kms.send(new EnableKeyCommand({ KeyId: keyId })),
          "KMSInvalidStateException",
          409,
        );
        await kms.send(new CancelKeyDeletionCommand({ KeyId: keyId }));
        assert.equal(
          (await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata
            ?.KeyState,
          "Disabled",
        );

        await kms.send(
          new ScheduleKeyDeletionCommand({
            KeyId: keyId,
            PendingWindowInDays: 7,
          }),
        );
        now += 7 * DAY;
        assert.deepEqual((await server.okms.runMaintenance()).deleted, [keyId]);
        await rejectsWith(
          kms.send(new DescribeKeyCommand({ KeyId: keyId })),
          "NotFoundException",
          404,
        );
        await rejectsWith(
          kms.send(new DecryptCommand({ CiphertextBlob })),
          "InvalidCiphertextException",
          400,
        );
        await rejectsWith(
          kms.send(
            new ScheduleKeyDeletionCommand({
              KeyId: other,
              PendingWindowInDays: 31,
            }),
          ),
          "ValidationException",
          400,
        );
      },
    );
  } finally {
    kms.destroy();
    await server[Symbol.asyncDispose]();
    await Deno.remove(dataDir, { recursive: true });
  }
});
