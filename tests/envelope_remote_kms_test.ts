/**
 * The remote keyring against a real okms server on a socket: data keys
 * round trip, credentials come from the environment or the shared
 * credentials file, and AWS errors keep their AWS names.
 */
import assert from "node:assert/strict";
import { resolveAwsSettings } from "../lib/aws/credentials.ts";
import { KmsServiceError, remoteKeyring } from "../lib/envelope/remote_kms.ts";
import { startTestServer } from "./server_fixture.ts";

const REGION = "eu-west-2";

function envOf(vars: Record<string, string>) {
  return (name: string) => vars[name];
}

Deno.test("the remote keyring against an okms server", async (t) => {
  const { server, dataDir, stop } = await startTestServer("okms-remote-kms-");
  try {
    const keyArn = (await server.okms.defaultKey()).arn;
    // The server's first start wrote its access key as a credentials file.
    const fromFile = await resolveAwsSettings(envOf({
      HOME: "/nonexistent",
      AWS_SHARED_CREDENTIALS_FILE: `${dataDir}/credentials`,
      AWS_DEFAULT_REGION: REGION,
    }));
    const keyring = remoteKeyring({ endpoint: server.url, ...fromFile });
    const context = { purpose: "test", "a=b": "c" };

    await t.step("credentials: the shared file's default profile", () => {
      assert.equal(
        fromFile.credentials.accessKeyId,
        server.firstAccessKey!.accessKeyId,
      );
      assert.equal(fromFile.region, REGION);
    });

    await t.step("GenerateDataKey, Encrypt and Decrypt", async () => {
      const key = await keyring.generateDataKey(keyArn, context);
      assert.equal(key.keyId, keyArn);
      assert.equal(key.plaintext.byteLength, 32);
      const opened = await keyring.decrypt(keyArn, key.ciphertextBlob, context);
      assert.deepEqual(opened, { keyId: keyArn, plaintext: key.plaintext });
      const again = await keyring.encrypt(keyArn, key.plaintext, context);
      assert.equal(again.keyId, keyArn);
      assert.deepEqual(
        (await keyring.decrypt(keyArn, again.ciphertextBlob, context))
          .plaintext,
        key.plaintext,
      );
    });

    await t.step("AWS errors keep their AWS names", async () => {
      const key = await keyring.generateDataKey(keyArn, context);
      await assert.rejects(
        keyring.decrypt(keyArn, key.ciphertextBlob, { purpose: "other" }),
        (error: unknown) =>
          error instanceof KmsServiceError &&
          error.name === "InvalidCiphertextException" && error.status === 400,
      );
      await assert.rejects(
        keyring.generateDataKey("alias/none", {}),
        { name: "NotFoundException" },
      );
    });

    await t.step("credentials: the environment before the file", async () => {
      const settings = await resolveAwsSettings(envOf({
        AWS_ACCESS_KEY_ID: "AKIAUNKNOWN0000000000",
        AWS_SECRET_ACCESS_KEY: "wrong",
        AWS_SHARED_CREDENTIALS_FILE: `${dataDir}/credentials`,
        AWS_REGION: REGION,
      }));
      assert.equal(settings.credentials.accessKeyId, "AKIAUNKNOWN0000000000");
      const stranger = remoteKeyring({ endpoint: server.url, ...settings });
      await assert.rejects(
        stranger.generateDataKey(keyArn, {}),
        { name: "UnrecognizedClientException" },
      );
    });

    await t.step("a region the server does not serve", async () => {
      const elsewhere = remoteKeyring({
        endpoint: server.url,
        ...fromFile,
        region: "us-east-1",
      });
      await assert.rejects(
        elsewhere.generateDataKey(keyArn, {}),
        { name: "InvalidSignatureException" },
      );
    });

    await t.step("named profiles, and what is missing", async () => {
      const file = `${dataDir}/aws-files`;
      await Deno.writeTextFile(
        `${file}-credentials`,
        "# comment\n[other]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = s3cret\n",
      );
      await Deno.writeTextFile(
        `${file}-config`,
        "[default]\nregion = eu-west-1\n[profile other]\nregion = ap-south-1\n",
      );
      const settings = await resolveAwsSettings(envOf({
        AWS_PROFILE: "other",
        AWS_SHARED_CREDENTIALS_FILE: `${file}-credentials`,
        AWS_CONFIG_FILE: `${file}-config`,
      }));
      assert.deepEqual(settings, {
        credentials: { accessKeyId: "AKIAOTHER", secretAccessKey: "s3cret" },
        region: "ap-south-1",
      });
      await assert.rejects(
        resolveAwsSettings(envOf({
          AWS_SHARED_CREDENTIALS_FILE: `${file}-credentials`,
          AWS_REGION: REGION,
        })),
        (error: Error) =>
          error.name === "AwsSettingsError" &&
          error.message.includes("profile default") &&
          !error.message.includes("s3cret"),
      );
    });

    await t.step("an endpoint that does not answer", async () => {
      const nowhere = remoteKeyring({
        endpoint: "http://127.0.0.1:1",
        ...fromFile,
      });
      await assert.rejects(
        nowhere.generateDataKey(keyArn, {}),
        /GenerateDataKey at http:\/\/127\.0\.0\.1:1\/ failed/,
      );
    });
  } finally {
    await stop();
  }
});
