/**
 * RSA Encrypt/Decrypt, DeriveSharedSecret and GenerateDataKeyPair(
 * WithoutPlaintext) over HTTP with the unmodified AWS SDK for JavaScript v3.
 */
import assert from "node:assert/strict";
import * as nodeCrypto from "node:crypto";
import {
  CreateKeyCommand,
  DecryptCommand,
  DeriveSharedSecretCommand,
  EncryptCommand,
  GenerateDataKeyPairCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  GetPublicKeyCommand,
  KMSClient,
} from "./aws_sdk.ts";
import { startServer } from "../server/mod.ts";
import { rejectsWith } from "./sdk_helpers.ts";
import { utf8 } from "./helpers.ts";

Deno.test("the AWS SDK v3: RSA encryption, ECDH and data key pairs", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-server-asym-" });
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    okms: { dataDir, region: "eu-west-2", keyMaterial: "wrapped" }, // asymmetric keys need it
    clockSkewSeconds: 300,
    auditLog: `${dataDir}/audit.log`,
  }, () => {});
  try {
    const kms = new KMSClient({
      endpoint: server.url,
      region: "eu-west-2",
      credentials: server.firstAccessKey!,
      maxAttempts: 1,
    });
    const create = async (KeySpec: string, KeyUsage: string) =>
      (await kms.send(
        new CreateKeyCommand({
          KeySpec: KeySpec as "RSA_2048",
          KeyUsage: KeyUsage as "ENCRYPT_DECRYPT",
        }),
      )).KeyMetadata!.KeyId!;

    await t.step("Encrypt and Decrypt with RSAES_OAEP_SHA_1", async () => {
      const KeyId = await create("RSA_2048", "ENCRYPT_DECRYPT");
      const enc = await kms.send(
        new EncryptCommand({
          KeyId,
          Plaintext: utf8("attack at dawn"),
          EncryptionAlgorithm: "RSAES_OAEP_SHA_1",
        }),
      );
      assert.equal(enc.EncryptionAlgorithm, "RSAES_OAEP_SHA_1");
      assert.equal(enc.CiphertextBlob!.byteLength, 256);
      const dec = await kms.send(
        new DecryptCommand({
          KeyId,
          CiphertextBlob: enc.CiphertextBlob,
          EncryptionAlgorithm: "RSAES_OAEP_SHA_1",
        }),
      );
      assert.deepEqual(dec.Plaintext, utf8("attack at dawn"));
      assert.equal(dec.KeyId, enc.KeyId);
      await rejectsWith(
        kms.send(
          new DecryptCommand({
            CiphertextBlob: enc.CiphertextBlob,
            EncryptionAlgorithm: "RSAES_OAEP_SHA_1",
          }),
        ),
        "ValidationException",
        400,
      );
      await rejectsWith(
        kms.send(
          new EncryptCommand({
            KeyId,
            Plaintext: utf8("x"),
            EncryptionAlgorithm: "RSAES_OAEP_SHA_256",
          }),
        ),
        "UnsupportedOperationException",
        400,
      );
    });

    await t.step("DeriveSharedSecret", async () => {
      const KeyId = await create("ECC_NIST_P256", "KEY_AGREEMENT");
      const peer = nodeCrypto.generateKeyPairSync("ec", {
        namedCurve: "prime256v1",
      });
      const out = await kms.send(
        new DeriveSharedSecretCommand({
          KeyId,
          KeyAgreementAlgorithm: "ECDH",
          PublicKey: peer.publicKey.export({ type: "spki", format: "der" }),
        }),
      );
      const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId }));
      const expected = nodeCrypto.diffieHellman({
        privateKey: peer.privateKey,
        publicKey: nodeCrypto.createPublicKey({
          key: PublicKey!,
          format: "der",
          type: "spki",
        }),
      });
      assert.deepEqual(out.SharedSecret, new Uint8Array(expected));
      assert.equal(out.KeyAgreementAlgorithm, "ECDH");
      assert.equal(out.KeyOrigin, "AWS_KMS");
      await rejectsWith(
        kms.send(
          new DeriveSharedSecretCommand({
            KeyId,
            KeyAgreementAlgorithm: "ECDH",
            PublicKey: utf8("not a key"),
          }),
        ),
        "ValidationException",
        400,
      );
    });

    await t.step("GenerateDataKeyPair and WithoutPlaintext", async () => {
      const KeyId = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!
        .KeyId!;
      const EncryptionContext = { purpose: "signing" };
      const pair = await kms.send(
        new GenerateDataKeyPairCommand({
          KeyId,
          KeyPairSpec: "ECC_NIST_P256",
          EncryptionContext,
        }),
      );
      assert.equal(pair.KeyPairSpec, "ECC_NIST_P256");
      const message = utf8("m");
      const signature = nodeCrypto.sign(
        "sha256",
        message,
        nodeCrypto.createPrivateKey({
          key: pair.PrivateKeyPlaintext!,
          format: "der",
          type: "pkcs8",
        }),
      );
      assert.ok(
        nodeCrypto.verify(
          "sha256",
          message,
          nodeCrypto.createPublicKey({
            key: pair.PublicKey!,
            format: "der",
            type: "spki",
          }),
          signature,
        ),
      );
      const opened = await kms.send(
        new DecryptCommand({
          CiphertextBlob: pair.PrivateKeyCiphertextBlob,
          EncryptionContext,
        }),
      );
      assert.deepEqual(opened.Plaintext, pair.PrivateKeyPlaintext);

      const bare = await kms.send(
        new GenerateDataKeyPairWithoutPlaintextCommand({
          KeyId,
          KeyPairSpec: "RSA_2048",
        }),
      );
      assert.equal(bare.KeyPairSpec, "RSA_2048");
      assert.equal(bare.KeyId, pair.KeyId);
      assert.equal("PrivateKeyPlaintext" in bare, false);
      const { Plaintext } = await kms.send(
        new DecryptCommand({ CiphertextBlob: bare.PrivateKeyCiphertextBlob }),
      );
      assert.deepEqual(
        new Uint8Array(
          nodeCrypto.createPublicKey(
            nodeCrypto.createPrivateKey({
              key: Plaintext!,
              format: "der",
              type: "pkcs8",
            }),
          ).export({ type: "spki", format: "der" }),
        ),
        bare.PublicKey,
      );
      await rejectsWith(
        kms.send(
          new GenerateDataKeyPairCommand({
            KeyId,
            KeyPairSpec: "SM2",
          }),
        ),
        "ValidationException",
        400,
      );
      await rejectsWith(
        kms.send(
          new GenerateDataKeyPairWithoutPlaintextCommand({
            KeyId: await create("ECC_NIST_P256", "KEY_AGREEMENT"),
            KeyPairSpec: "ECC_NIST_P256",
          }),
        ),
        "InvalidKeyUsageException",
        400,
      );
    });
  } finally {
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});
