/**
 * Sign, Verify, GetPublicKey, GenerateMac and VerifyMac over HTTP with the
 * unmodified AWS SDK v3: asymmetric and HMAC keys made with KeySpec, each
 * answer checked (signatures by node:crypto), and an error of each.
 */
import assert from "node:assert/strict";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetPublicKeyCommand,
  KMSClient,
  SignCommand,
  VerifyCommand,
  VerifyMacCommand,
} from "./aws_sdk.ts";
import { startServer } from "../server/mod.ts";
import type { AuditRecord } from "../server/audit.ts";
import { rejectsWith } from "./sdk_helpers.ts";
import { utf8 } from "./helpers.ts";

const REGION = "eu-west-2";

Deno.test("signatures and MACs through the AWS SDK v3", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-server-signing-" });
  const auditPath = `${dataDir}/audit.log`;
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    okms: { dataDir, region: REGION, keyMaterial: "wrapped" }, // as asymmetric keys need
    clockSkewSeconds: 300,
    auditLog: auditPath,
  }, () => {});
  try {
    const kms = new KMSClient({
      endpoint: server.url,
      region: REGION,
      credentials: server.firstAccessKey!,
      maxAttempts: 1,
    });
    const message = utf8("pay 100 to Bob");
    let signer = "";
    let signature: Uint8Array = new Uint8Array();
    let macKey = "";
    let mac: Uint8Array = new Uint8Array();

    await t.step("CreateKey and DescribeKey with KeySpec", async () => {
      const created = await kms.send(
        new CreateKeyCommand({
          KeySpec: "ECC_NIST_P256",
          KeyUsage: "SIGN_VERIFY",
        }),
      );
      signer = created.KeyMetadata!.Arn!;
      const { KeyMetadata: m } = await kms.send(
        new DescribeKeyCommand({ KeyId: signer }),
      );
      assert.equal(m!.KeySpec, "ECC_NIST_P256");
      assert.equal(m!.CustomerMasterKeySpec, "ECC_NIST_P256");
      assert.equal(m!.KeyUsage, "SIGN_VERIFY");
      assert.deepEqual(m!.SigningAlgorithms, ["ECDSA_SHA_256"]);
      assert.equal(m!.EncryptionAlgorithms, undefined);
      await rejectsWith(
        kms.send(
          new CreateKeyCommand({
            KeySpec: "HMAC_256",
            KeyUsage: "SIGN_VERIFY",
          }),
        ),
        "ValidationException",
        400,
      );
    });

    await t.step("Sign, and the SPKI of GetPublicKey verifies it", async () => {
      const out = await kms.send(
        new SignCommand({
          KeyId: signer,
          Message: message,
          MessageType: "RAW",
          SigningAlgorithm: "ECDSA_SHA_256",
        }),
      );
      assert.equal(out.KeyId, signer);
      assert.equal(out.SigningAlgorithm, "ECDSA_SHA_256");
      signature = out.Signature!;
      const pub = await kms.send(new GetPublicKeyCommand({ KeyId: signer }));
      assert.equal(pub.KeyId, signer);
      assert.equal(pub.KeySpec, "ECC_NIST_P256");
      assert.equal(pub.CustomerMasterKeySpec, "ECC_NIST_P256");
      assert.equal(pub.KeyUsage, "SIGN_VERIFY");
      assert.deepEqual(pub.SigningAlgorithms, ["ECDSA_SHA_256"]);
      const key = createPublicKey({
        key: Buffer.from(pub.PublicKey!),
        format: "der",
        type: "spki",
      });
      assert.ok(
        nodeVerify("sha256", message, { key, dsaEncoding: "der" }, signature),
      );
      await rejectsWith(
        kms.send(
          new SignCommand({
            KeyId: signer,
            Message: message,
            SigningAlgorithm: "RSASSA_PSS_SHA_256",
          }),
        ),
        "InvalidKeyUsageException",
        400,
      );
    });

    await t.step("Verify, and a tampered message fails", async () => {
      const input = {
        KeyId: signer,
        Message: message,
        Signature: signature,
        SigningAlgorithm: "ECDSA_SHA_256" as const,
      };
      const out = await kms.send(new VerifyCommand(input));
      assert.equal(out.SignatureValid, true);
      assert.equal(out.KeyId, signer);
      await rejectsWith(
        kms.send(new VerifyCommand({ ...input, Message: utf8("pay 900") })),
        "KMSInvalidSignatureException",
        400,
      );
    });

    await t.step(
      "GetPublicKey of a symmetric key, Sign of a disabled key",
      async () => {
        const symmetric = await kms.send(new CreateKeyCommand({}));
        await rejectsWith(
          kms.send(
            new GetPublicKeyCommand({ KeyId: symmetric.KeyMetadata!.KeyId }),
          ),
          "UnsupportedOperationException",
          400,
        );
        await rejectsWith(
          kms.send(new EncryptCommand({ KeyId: signer, Plaintext: message })),
          "InvalidKeyUsageException",
          400,
        );
        const other = await kms.send(
          new CreateKeyCommand({
            KeySpec: "RSA_2048",
            KeyUsage: "SIGN_VERIFY",
          }),
        );
        await kms.send(
          new DisableKeyCommand({ KeyId: other.KeyMetadata!.Arn }),
        );
        await rejectsWith(
          kms.send(
            new SignCommand({
              KeyId: other.KeyMetadata!.Arn,
              Message: new Uint8Array(32),
              MessageType: "DIGEST",
              SigningAlgorithm: "RSASSA_PSS_SHA_256",
            }),
          ),
          "DisabledException",
          409,
        );
      },
    );

    await t.step("GenerateMac and VerifyMac", async () => {
      const created = await kms.send(
        new CreateKeyCommand({
          KeySpec: "HMAC_384",
          KeyUsage: "GENERATE_VERIFY_MAC",
        }),
      );
      macKey = created.KeyMetadata!.Arn!;
      assert.deepEqual(created.KeyMetadata!.MacAlgorithms, ["HMAC_SHA_384"]);
      const input = {
        KeyId: macKey,
        Message: message,
        MacAlgorithm: "HMAC_SHA_384" as const,
      };
      const out = await kms.send(new GenerateMacCommand(input));
      assert.equal(out.KeyId, macKey);
      assert.equal(out.MacAlgorithm, "HMAC_SHA_384");
      mac = out.Mac!;
      assert.equal(mac.byteLength, 48);
      const checked = await kms.send(
        new VerifyMacCommand({ ...input, Mac: mac }),
      );
      assert.equal(checked.MacValid, true);
      const wrong = mac.slice();
      wrong[0] ^= 1;
      await rejectsWith(
        kms.send(new VerifyMacCommand({ ...input, Mac: wrong })),
        "KMSInvalidMacException",
        400,
      );
      await rejectsWith(
        kms.send(
          new GenerateMacCommand({ ...input, MacAlgorithm: "HMAC_SHA_256" }),
        ),
        "InvalidKeyUsageException",
        400,
      );
      await rejectsWith(
        kms.send(
          new GenerateMacCommand({ ...input, Message: new Uint8Array(4097) }),
        ),
        "ValidationException",
        400,
      );
    });

    await t.step("the audit log names the key of a failed Verify", async () => {
      await server.shutdown(); // flushes the log
      const records = (await Deno.readTextFile(auditPath)).trim().split("\n")
        .map((line) => JSON.parse(line) as AuditRecord);
      const failed = records.find((r) =>
        r.operation === "Verify" && r.outcome === "error"
      )!;
      assert.equal(failed.errorType, "KMSInvalidSignatureException");
      assert.equal(failed.keyId, signer);
      const macs = records.filter((r) => r.operation === "VerifyMac");
      assert.deepEqual(macs.map((r) => r.outcome), ["success", "error"]);
      assert.ok(macs.every((r) => r.keyId === macKey));
    });
  } finally {
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});
