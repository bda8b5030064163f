/**
 * Interop with the AWS Encryption SDK for JavaScript, both ways, against a
 * real okms server: the SDK's KMS keyring reaches the server through the
 * AWS SDK v3's KMS client (endpoint and credentials of the test), and okms
 * reaches it through a test keyring over the same client. Both suites,
 * several frame sizes, empty input, exactly one frame, several CMKs.
 */
import assert from "node:assert/strict";
import {
  AlgorithmSuiteIdentifier,
  buildClient,
  CommitmentPolicy,
  KmsKeyringNode,
} from "./aws_encryption_sdk.ts";
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  KMS,
  KMSClient,
} from "./aws_sdk.ts";
import { startTestServer } from "./server_fixture.ts";
import {
  decryptMessage,
  decryptStream,
  encryptMessage,
  type EnvelopeKeyring,
} from "../lib/envelope/mod.ts";
import { chunked, collect, pattern } from "./envelope_helpers.ts";

const REGION = "eu-west-2";

/** okms's side: an EnvelopeKeyring over the AWS SDK's KMS client. */
function sdkClientKeyring(kms: KMSClient): EnvelopeKeyring {
  return {
    async generateDataKey(keyId, encryptionContext) {
      const out = await kms.send(
        new GenerateDataKeyCommand({
          KeyId: keyId,
          NumberOfBytes: 32,
          EncryptionContext: { ...encryptionContext },
        }),
      );
      return {
        keyId: out.KeyId!,
        plaintext: out.Plaintext!,
        ciphertextBlob: out.CiphertextBlob!,
      };
    },
    async encrypt(keyId, plaintext, encryptionContext) {
      const out = await kms.send(
        new EncryptCommand({
          KeyId: keyId,
          Plaintext: plaintext,
          EncryptionContext: { ...encryptionContext },
        }),
      );
      return { keyId: out.KeyId!, ciphertextBlob: out.CiphertextBlob! };
    },
    async decrypt(keyId, ciphertextBlob, encryptionContext) {
      const out = await kms.send(
        new DecryptCommand({
          KeyId: keyId,
          CiphertextBlob: ciphertextBlob,
          EncryptionContext: { ...encryptionContext },
        }),
      );
      return { keyId: out.KeyId!, plaintext: out.Plaintext! };
    },
  };
}

const SUITES = [
  [
    "unsigned",
    AlgorithmSuiteIdentifier.ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY,
  ],
  [
    "signed",
    AlgorithmSuiteIdentifier
      .ALG_AES256_GCM_IV12_TAG16_HKDF_SHA512_COMMIT_KEY_ECDSA_P384,
  ],
] as const;

/** Plaintext length and frame length of each case. */
const SIZES: [number, number][] = [
  [0, 4096],
  [4096, 4096],
  [10_000, 4096],
  [1000, 1],
  [70_000, 65_536],
];

Deno.test("the AWS Encryption SDK and okms read each other's messages", async (t) => {
  const { server, stop } = await startTestServer(
    "okms-envelope-interop-",
  );
  try {
    const credentials = server.firstAccessKey!;
    const config = {
      endpoint: server.url,
      region: REGION,
      credentials,
      maxAttempts: 1,
    };
    const kms = new KMSClient(config);
    const keyring = sdkClientKeyring(kms);
    const arnA = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const arnB = (await kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    const clientProvider = (region: string) => {
      assert.equal(region, REGION);
      return new KMS(config);
    };
    const sdkKeyring = new KmsKeyringNode({
      generatorKeyId: arnA,
      keyIds: [arnB],
      clientProvider,
    });
    const sdkKeyringB = new KmsKeyringNode({ keyIds: [arnB], clientProvider });
    const sdk = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
    const context = { purpose: "interop", "ünïcode": "välue", a: "1" };

    for (const [name, suiteId] of SUITES) {
      const signed = name === "signed";

      await t.step(`okms writes, the SDK reads (${name})`, async () => {
        for (const [length, frameLength] of SIZES) {
          const plaintext = pattern(length);
          const message = await encryptMessage(keyring, plaintext, {
            keyIds: [arnA, arnB],
            encryptionContext: context,
            frameLength,
            signed,
          });
          // Either CMK alone decrypts (the SDK's strict mode names it).
          for (const reader of [sdkKeyring, sdkKeyringB]) {
            const out = await sdk.decrypt(reader, message);
            assert.deepEqual(
              new Uint8Array(out.plaintext),
              plaintext,
              `${length}/${frameLength}`,
            );
            assert.equal(out.messageHeader.suiteId, suiteId);
            assert.equal(out.messageHeader.frameLength, frameLength);
            assert.equal(
              out.messageHeader.encryptionContext.purpose,
              "interop",
            );
            assert.equal(
              out.messageHeader.encryptionContext["ünïcode"],
              "välue",
            );
          }
        }
      });

      await t.step(`the SDK writes, okms reads (${name})`, async () => {
        for (const [length, frameLength] of SIZES) {
          const plaintext = pattern(length);
          const { result } = await sdk.encrypt(sdkKeyring, plaintext, {
            encryptionContext: context,
            frameLength,
            suiteId,
          });
          const message = new Uint8Array(result);
          assert.equal((message[1] << 8) | message[2], suiteId);
          for (const allowedKeyIds of [undefined, [arnA], [arnB]]) {
            const out = await decryptMessage(keyring, message, {
              encryptionContext: { purpose: "interop" },
              allowedKeyIds,
            });
            assert.deepEqual(
              out.plaintext,
              plaintext,
              `${length}/${frameLength}`,
            );
            assert.deepEqual(out.keyIds, [arnA, arnB]);
            assert.equal(out.encryptionContext["ünïcode"], "välue");
          }
          const streamed = await collect(
            chunked(message, [1, 7, 4096, 333]).pipeThrough(
              decryptStream(keyring),
            ),
          );
          assert.deepEqual(streamed, plaintext);
        }
      });
    }

    await t.step(
      "a message the SDK wrote, altered, fails in okms",
      async () => {
        const { result } = await sdk.encrypt(sdkKeyring, pattern(100), {
          frameLength: 64,
        });
        const altered = new Uint8Array(result);
        altered[altered.length - 20] ^= 1;
        await assert.rejects(decryptMessage(keyring, altered), {
          name: "InvalidCiphertextException",
        });
      },
    );
  } finally {
    await stop();
  }
});
