/**
 * The server on a real socket, driven by the unmodified AWS SDK for
 * JavaScript v3: every operation, error names and statuses for bad input
 * and bad auth, two-account isolation, and the audit log.
 */
import assert from "node:assert/strict";
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  KMSClient,
  ListKeysCommand,
} from "./aws_sdk.ts";
import { startServer } from "../server/mod.ts";
import { rejectsWith } from "./sdk_helpers.ts";
import type { AuditRecord } from "../server/audit.ts";

const REGION = "eu-west-2";
const utf8 = (text: string) => new TextEncoder().encode(text);

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

function client(
  endpoint: string,
  credentials: Credentials,
  extra: { region?: string; systemClockOffset?: number; maxAttempts?: number } =
    {},
): KMSClient {
  return new KMSClient({
    endpoint,
    region: extra.region ?? REGION,
    credentials,
    maxAttempts: extra.maxAttempts ?? 1,
    systemClockOffset: extra.systemClockOffset,
  });
}

Deno.test("the AWS SDK v3 against okms over HTTP", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-server-sdk-" });
  const auditPath = `${dataDir}/audit.log`;
  const banner: string[] = [];
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    okms: { dataDir, region: REGION },
    clockSkewSeconds: 300,
    auditLog: auditPath,
  }, (line) => banner.push(line));
  try {
    const first = server.firstAccessKey!;
    assert.ok(first, "first start makes an access key");
    assert.match(
      banner.join("\n"),
      /aws kms encrypt --endpoint-url http:\/\/127\.0\.0\.1:\d+/,
    );
    assert.ok(!banner.join("\n").includes(first.secretAccessKey));
    const kms = client(server.url, first);
    const accountA = server.okms.accountId;
    const secretText = "attack at dawn, 7f3a9c";
    let keyArn = "";
    let keyId = "";

    await t.step("CreateKey returns AWS KeyMetadata", async () => {
      const out = await kms.send(
        new CreateKeyCommand({
          Description: "orders",
          Tags: [{ TagKey: "team", TagValue: "payments" }],
        }),
      );
      const m = out.KeyMetadata!;
      keyArn = m.Arn!;
      keyId = m.KeyId!;
      assert.match(keyId, /^[0-9a-f-]{36}$/);
      assert.equal(keyArn, `arn:aws:kms:${REGION}:${accountA}:key/${keyId}`);
      assert.equal(m.AWSAccountId, accountA);
      assert.equal(m.Description, "orders");
      assert.equal(m.KeyState, "Enabled");
      assert.equal(m.Enabled, true);
      assert.equal(m.KeySpec, "SYMMETRIC_DEFAULT");
      assert.equal(m.KeyUsage, "ENCRYPT_DECRYPT");
      assert.deepEqual(m.EncryptionAlgorithms, ["SYMMETRIC_DEFAULT"]);
      assert.ok(m.CreationDate instanceof Date);
      assert.ok(Math.abs(m.CreationDate.getTime() - Date.now()) < 3600_000);
      assert.match(out.$metadata.requestId!, /^[0-9a-f-]{36}$/);
    });

    await t.step("DescribeKey by key id and by key ARN", async () => {
      for (const id of [keyId, keyArn]) {
        const out = await kms.send(new DescribeKeyCommand({ KeyId: id }));
        assert.equal(out.KeyMetadata!.Arn, keyArn);
      }
      await rejectsWith(
        kms.send(new DescribeKeyCommand({ KeyId: crypto.randomUUID() })),
        "NotFoundException",
        404,
      );
      await rejectsWith(
        kms.send(new DescribeKeyCommand({ KeyId: "alias/none" })),
        "NotFoundException",
        404,
      );
    });

    await t.step("ListKeys pages with Limit and Marker", async () => {
      const page1 = await kms.send(new ListKeysCommand({ Limit: 1 }));
      assert.equal(page1.Keys!.length, 1);
      assert.equal(page1.Truncated, true);
      const page2 = await kms.send(
        new ListKeysCommand({ Limit: 10, Marker: page1.NextMarker }),
      );
      assert.equal(page2.Truncated, false);
      const all = [...page1.Keys!, ...page2.Keys!];
      assert.equal(all.length, 2, "the default key and the new one");
      assert.ok(all.some((k) => k.KeyArn === keyArn && k.KeyId === keyId));
      await rejectsWith(
        kms.send(new ListKeysCommand({ Marker: "not-a-marker" })),
        "InvalidMarkerException",
        400,
      );
      await rejectsWith(
        kms.send(new ListKeysCommand({ Limit: 0 })),
        "ValidationException",
        400,
      );
    });

    let ciphertext: Uint8Array = new Uint8Array();
    await t.step("Encrypt and Decrypt with an encryption context", async () => {
      const context = { order: "42", tenant: "acme" };
      const enc = await kms.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: utf8(secretText),
          EncryptionContext: context,
        }),
      );
      assert.equal(enc.KeyId, keyArn);
      assert.equal(enc.EncryptionAlgorithm, "SYMMETRIC_DEFAULT");
      ciphertext = enc.CiphertextBlob!;
      const dec = await kms.send(
        new DecryptCommand({
          CiphertextBlob: ciphertext,
          EncryptionContext: context,
        }),
      );
      assert.equal(new TextDecoder().decode(dec.Plaintext), secretText);
      assert.equal(dec.KeyId, keyArn);
      const named = await kms.send(
        new DecryptCommand({
          CiphertextBlob: ciphertext,
          EncryptionContext: context,
          KeyId: keyArn,
        }),
      );
      assert.equal(new TextDecoder().decode(named.Plaintext), secretText);
      await rejectsWith(
        kms.send(
          new DecryptCommand({
            CiphertextBlob: ciphertext,
            EncryptionContext: { order: "43", tenant: "acme" },
          }),
        ),
        "InvalidCiphertextException",
        400,
      );
      const defaultKey = (await server.okms.defaultKey()).arn;
      await rejectsWith(
        kms.send(
          new DecryptCommand({
            CiphertextBlob: ciphertext,
            EncryptionContext: context,
            KeyId: defaultKey,
          }),
        ),
        "IncorrectKeyException",
        400,
      );
    });

    await t.step("Encrypt's limits and bad input", async () => {
      await rejectsWith(
        kms.send(
          new EncryptCommand({ KeyId: keyId, Plaintext: new Uint8Array(4097) }),
        ),
        "ValidationException",
        400,
      );
      await rejectsWith(
        kms.send(
          new EncryptCommand({
            KeyId: "arn:aws:kms:nowhere",
            Plaintext: utf8("x"),
          }),
        ),
        "ValidationException",
        400,
      );
      const damaged = ciphertext.slice();
      damaged[damaged.length - 1] ^= 1;
      await rejectsWith(
        kms.send(
          new DecryptCommand({
            CiphertextBlob: damaged,
            EncryptionContext: { order: "42", tenant: "acme" },
          }),
        ),
        "InvalidCiphertextException",
        400,
      );
    });

    await t.step(
      "GenerateDataKey: plaintext and ciphertext agree",
      async () => {
        const out = await kms.send(
          new GenerateDataKeyCommand({
            KeyId: keyArn,
            KeySpec: "AES_256",
            EncryptionContext: { file: "a" },
          }),
        );
        assert.equal(out.Plaintext!.length, 32);
        assert.equal(out.KeyId, keyArn);
        const back = await kms.send(
          new DecryptCommand({
            CiphertextBlob: out.CiphertextBlob,
            EncryptionContext: { file: "a" },
          }),
        );
        assert.deepEqual(back.Plaintext, out.Plaintext);
        const bytes = await kms.send(
          new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 64 }),
        );
        assert.equal(bytes.Plaintext!.length, 64);
        await rejectsWith(
          kms.send(
            new GenerateDataKeyCommand({
              KeyId: keyId,
              KeySpec: "AES_128",
              NumberOfBytes: 16,
            }),
          ),
          "ValidationException",
          400,
        );
        await rejectsWith(
          kms.send(
            new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 1025 }),
          ),
          "ValidationException",
          400,
        );
      },
    );

    await t.step("GenerateDataKeyWithoutPlaintext", async () => {
      const out = await kms.send(
        new GenerateDataKeyWithoutPlaintextCommand({
          KeyId: keyId,
          KeySpec: "AES_128",
        }),
      );
      assert.equal(out.KeyId, keyArn);
      assert.equal((out as { Plaintext?: unknown }).Plaintext, undefined);
      const back = await kms.send(
        new DecryptCommand({ CiphertextBlob: out.CiphertextBlob }),
      );
      assert.equal(back.Plaintext!.length, 16);
    });

    await t.step("bad auth gets AWS's errors", async () => {
      await rejectsWith(
        client(server.url, {
          ...first,
          secretAccessKey: "wrong" + first.secretAccessKey,
        })
          .send(new ListKeysCommand({})),
        "InvalidSignatureException",
        400,
      );
      await rejectsWith(
        client(server.url, { ...first, accessKeyId: "AKIAUNKNOWNUNKNOWN12" })
          .send(new ListKeysCommand({})),
        "UnrecognizedClientException",
        400,
      );
      await rejectsWith(
        client(server.url, first, { region: "us-east-1" })
          .send(new ListKeysCommand({})),
        "InvalidSignatureException",
        400,
      );
      await rejectsWith(
        client(server.url, first, { systemClockOffset: -10 * 60_000 })
          .send(new ListKeysCommand({})),
        "InvalidSignatureException",
        400,
      );
      await rejectsWith(
        client(server.url, first, { systemClockOffset: 10 * 60_000 })
          .send(new ListKeysCommand({})),
        "InvalidSignatureException",
        400,
      );
      // With retries on, the SDK corrects its clock from the Date header, as with AWS.
      const skewed = client(server.url, first, {
        systemClockOffset: -10 * 60_000,
        maxAttempts: 2,
      });
      assert.ok((await skewed.send(new ListKeysCommand({}))).Keys);
    });

    await t.step("two accounts are isolated", async () => {
      const b = await server.okms.createAccount();
      const keyB = await server.credentials.createAccessKey(b.accountId);
      const kmsB = client(server.url, keyB);
      const own = await kmsB.send(new ListKeysCommand({}));
      assert.equal(own.Keys!.length, 1, "only B's default key");
      assert.ok(own.Keys!.every((k) => k.KeyArn!.includes(`:${b.accountId}:`)));
      for (const id of [keyId, keyArn]) {
        await rejectsWith(
          kmsB.send(new DescribeKeyCommand({ KeyId: id })),
          "NotFoundException",
          404,
        );
        await rejectsWith(
          kmsB.send(new EncryptCommand({ KeyId: id, Plaintext: utf8("x") })),
          "NotFoundException",
          404,
        );
      }
      await rejectsWith(
        kmsB.send(
          new DecryptCommand({
            CiphertextBlob: ciphertext,
            EncryptionContext: { order: "42", tenant: "acme" },
          }),
        ),
        "InvalidCiphertextException",
        400,
      );
      const bCipher = await kmsB.send(
        new EncryptCommand({
          KeyId: own.Keys![0].KeyId,
          Plaintext: utf8("b's secret"),
        }),
      );
      await rejectsWith(
        kms.send(
          new DecryptCommand({ CiphertextBlob: bCipher.CiphertextBlob }),
        ),
        "InvalidCiphertextException",
        400,
      );
      const mine = await kms.send(new ListKeysCommand({}));
      assert.ok(mine.Keys!.every((k) => k.KeyArn!.includes(`:${accountA}:`)));
    });

    await t.step("a revoked access key stops working at once", async () => {
      const extra = await server.credentials.createAccessKey(accountA);
      const kmsX = client(server.url, extra);
      await kmsX.send(new ListKeysCommand({}));
      await server.credentials.revokeAccessKey(extra.accessKeyId);
      await rejectsWith(
        kmsX.send(new ListKeysCommand({})),
        "UnrecognizedClientException",
        400,
      );
    });

    await t.step(
      "the audit log: one line per request, no secrets",
      async () => {
        await server.shutdown(); // flushes the log
        const text = await Deno.readTextFile(auditPath);
        const records = text.trim().split("\n").map((line) =>
          JSON.parse(line) as AuditRecord
        );
        assert.ok(records.length >= 30);
        const enc = records.find((r) =>
          r.operation === "Encrypt" && r.outcome === "success"
        )!;
        assert.equal(enc.accountId, accountA);
        assert.equal(enc.accessKeyId, first.accessKeyId);
        assert.equal(enc.keyId, keyArn);
        assert.deepEqual(enc.encryptionContext, {
          order: "42",
          tenant: "acme",
        });
        assert.equal(enc.status, 200);
        assert.equal(typeof enc.latencyMs, "number");
        assert.match(enc.requestId, /^[0-9a-f-]{36}$/);
        const denied = records.find((r) =>
          r.errorType === "UnrecognizedClientException"
        )!;
        assert.equal(denied.outcome, "error");
        assert.equal(denied.status, 400);
        assert.equal(denied.accountId, undefined);
        for (
          const secret of [
            secretText,
            utf8(secretText).toBase64(),
            first.secretAccessKey,
            ciphertext.toBase64(),
          ]
        ) assert.ok(!text.includes(secret), "no secret in the audit log");
      },
    );
  } finally {
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});
