/**
 * The unmodified AWS CLI (whichever `aws` is on the PATH, else Debian's
 * `awscli`, installed when missing and root; skipped otherwise) against a
 * running okms server, with the credentials file the first start writes and
 * none of the caller's own AWS settings.
 */
import assert from "node:assert/strict";
import { findOnPath, findOrInstall } from "../ffi/debian_package.ts";
import { startServer } from "../server/mod.ts";

const AWS_CLI = {
  name: "awscli",
  what: "the AWS CLI",
  find: () => findOnPath("aws"),
};

/** What the CLI needs of this environment; none of the caller's AWS_* settings. */
function cliEnvironment(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "LANG", "PYENV_ROOT", "PYENV_VERSION"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return env;
}

Deno.test({
  name: "the AWS CLI against okms",
  // Installed when missing if this runs as root (as CI does), else skipped.
  ignore: AWS_CLI.find() === undefined && Deno.uid() !== 0,
}, async (t) => {
  const aws = await findOrInstall(AWS_CLI);
  const dataDir = await Deno.makeTempDir({ prefix: "okms-cli-" });
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    okms: { dataDir },
    clockSkewSeconds: 300,
    auditLog: `${dataDir}/audit.log`,
  }, () => {});
  const cli = async (...args: string[]) => {
    const out = await new Deno.Command(aws, {
      args: ["--endpoint-url", server.url, "--output", "json", "kms", ...args],
      env: {
        ...cliEnvironment(),
        AWS_SHARED_CREDENTIALS_FILE: `${dataDir}/credentials`,
        AWS_CONFIG_FILE: `${dataDir}/no-config`,
        AWS_DEFAULT_REGION: "eu-west-2",
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_MAX_ATTEMPTS: "1",
      },
      clearEnv: true,
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    return {
      code: out.code,
      json: out.code === 0 && stdout.trim() !== "" ? JSON.parse(stdout) : {},
      stderr: new TextDecoder().decode(out.stderr),
    };
  };
  try {
    const secret = `${dataDir}/secret.txt`;
    await Deno.writeTextFile(secret, "attack at dawn\n");
    let keyId = "";

    await t.step("create-key, create-alias, describe-key", async () => {
      const created = await cli("create-key", "--description", "from the CLI");
      assert.equal(created.code, 0, created.stderr);
      keyId = created.json.KeyMetadata.KeyId;
      assert.equal(created.json.KeyMetadata.KeyState, "Enabled");
      const alias = await cli(
        "create-alias",
        "--alias-name",
        "alias/cli",
        "--target-key-id",
        keyId,
      );
      assert.equal(alias.code, 0, alias.stderr);
      const described = await cli("describe-key", "--key-id", "alias/cli");
      assert.equal(described.json.KeyMetadata.KeyId, keyId);
    });

    await t.step("encrypt and decrypt a file, with a context", async () => {
      const sealed = await cli(
        "encrypt",
        "--key-id",
        "alias/cli",
        "--plaintext",
        `fileb://${secret}`,
        "--encryption-context",
        "purpose=test",
      );
      assert.equal(sealed.code, 0, sealed.stderr);
      const blob = `${dataDir}/secret.bin`;
      await Deno.writeFile(
        blob,
        Uint8Array.fromBase64(sealed.json.CiphertextBlob),
      );
      const opened = await cli(
        "decrypt",
        "--ciphertext-blob",
        `fileb://${blob}`,
        "--encryption-context",
        "purpose=test",
      );
      assert.equal(opened.code, 0, opened.stderr);
      assert.equal(
        new TextDecoder().decode(Uint8Array.fromBase64(opened.json.Plaintext)),
        "attack at dawn\n",
      );
      const wrong = await cli(
        "decrypt",
        "--ciphertext-blob",
        `fileb://${blob}`,
        "--encryption-context",
        "purpose=other",
      );
      assert.notEqual(wrong.code, 0);
      assert.match(wrong.stderr, /InvalidCiphertextException/);
    });

    await t.step("errors reach the CLI by their AWS names", async () => {
      const missing = await cli("describe-key", "--key-id", "alias/none");
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /NotFoundException/);
      const reserved = await cli(
        "create-alias",
        "--alias-name",
        "alias/aws/mine",
        "--target-key-id",
        keyId,
      );
      assert.match(reserved.stderr, /InvalidAliasNameException/);
      const disabled = await cli("disable-key", "--key-id", keyId);
      assert.equal(disabled.code, 0, disabled.stderr);
      const refused = await cli(
        "generate-data-key",
        "--key-id",
        keyId,
        "--key-spec",
        "AES_256",
      );
      assert.match(refused.stderr, /DisabledException/);
    });
  } finally {
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});
