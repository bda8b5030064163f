/**
 * The embedded token's PIN outside the data directory: an option, the
 * OKMS_PIN_FILE variable or systemd's credential `okms-pin`; made there on
 * first use (or read, if the user made it), never written beside the token;
 * a directory whose PIN is beside its token refuses an outside PIN file.
 */
import assert from "node:assert/strict";
import { Okms, type OkmsOptions } from "../mod.ts";
import { cmkObjects } from "./helpers.ts";

async function withDirs(
  test: (dataDir: string, outside: string) => Promise<void>,
): Promise<void> {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-pin-" });
  const outside = await Deno.makeTempDir({ prefix: "okms-secrets-" });
  try {
    await test(dataDir, outside);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Opens, checks the keys work and where the PIN is said to be, closes. */
async function openAndUse(
  options: OkmsOptions,
  pinBesideToken: boolean,
): Promise<void> {
  await using okms = await Okms.open(options);
  assert.equal(okms.config.pinBesideToken, pinBesideToken);
  await okms.encrypt({
    keyId: (await okms.defaultKey()).keyId,
    plaintext: new Uint8Array([1]),
  });
}

Deno.test("the PIN beside the token is the default, and said so", async () => {
  await withDirs(async (dataDir) => {
    await openAndUse({ dataDir }, true);
    await openAndUse({ dataDir, pinFile: `${dataDir}/pin` }, true);
  });
});

Deno.test("a PIN file outside the data directory is made there, never beside the token", async () => {
  await withDirs(async (dataDir, outside) => {
    const pinFile = `${outside}/okms-pin`;
    await openAndUse({ dataDir, pinFile }, false);
    assert.equal((await Deno.stat(pinFile)).mode! & 0o777, 0o600);
    assert.match(await Deno.readTextFile(pinFile), /^[0-9a-f]{48}$/);
    assert.equal(await exists(`${dataDir}/pin`), false);
    await openAndUse({ dataDir, pinFile }, false);
    assert.equal((await cmkObjects(dataDir, pinFile)).length, 1);
    // Opened without it, the directory says where its PIN must come from,
    // and makes none.
    await assert.rejects(
      Okms.open({ dataDir }),
      new RegExp(
        `the PIN file ${dataDir}/pin of the token in ${dataDir} does not exist: give the file that holds it with --pin-file \\(OKMS_PIN_FILE\\) or the systemd credential okms-pin`,
      ),
    );
    assert.equal(await exists(`${dataDir}/pin`), false);
  });
});

Deno.test("a PIN file the user made is the new token's PIN; OKMS_PIN_FILE names it too", async () => {
  await withDirs(async (dataDir, outside) => {
    const pinFile = `${outside}/chosen`;
    await Deno.writeTextFile(pinFile, "my own pin 42\n", { mode: 0o600 });
    Deno.env.set("OKMS_PIN_FILE", pinFile);
    try {
      await openAndUse({ dataDir }, false);
    } finally {
      Deno.env.delete("OKMS_PIN_FILE");
    }
    assert.equal(await Deno.readTextFile(pinFile), "my own pin 42\n");
    await Deno.writeTextFile(`${outside}/wrong`, "another pin", {
      mode: 0o600,
    });
    await assert.rejects(
      Okms.open({ dataDir, pinFile: `${outside}/wrong` }),
      /CKR_PIN_INCORRECT/,
    );
    await assert.rejects(
      Okms.open({
        dataDir,
        pinFile,
        pkcs11: { tokenLabel: "okms", pinFile },
      }),
      /--pin-file \(OKMS_PIN_FILE\) is the embedded token's PIN file; an external token's is --pkcs11-pin-file/,
    );
  });
});

Deno.test("systemd's credential okms-pin is the PIN file when there is one", async () => {
  await withDirs(async (dataDir, credentials) => {
    Deno.env.set("CREDENTIALS_DIRECTORY", credentials);
    try {
      // Another credential only: the default stays.
      await Deno.writeTextFile(`${credentials}/tls-key`, "x");
      const other = await Deno.makeTempDir({ prefix: "okms-pin-" });
      await openAndUse({ dataDir: other }, true);
      await Deno.remove(other, { recursive: true });

      await Deno.writeTextFile(`${credentials}/okms-pin`, "from systemd", {
        mode: 0o600,
      });
      await openAndUse({ dataDir }, false);
      assert.equal(await exists(`${dataDir}/pin`), false);
      assert.equal(
        (await cmkObjects(dataDir, `${credentials}/okms-pin`)).length,
        1,
      );
    } finally {
      Deno.env.delete("CREDENTIALS_DIRECTORY");
    }
  });
});

Deno.test("a directory whose PIN is beside its token refuses an outside PIN file until the PIN is moved", async () => {
  await withDirs(async (dataDir, outside) => {
    await openAndUse({ dataDir }, true);
    const pinFile = `${outside}/okms-pin`;
    await assert.rejects(
      Okms.open({ dataDir, pinFile }),
      new RegExp(
        `${dataDir} keeps its token's PIN in ${dataDir}/pin, but the PIN file ${pinFile} was given: to keep the PIN outside the data directory, move it there \\(mv ${dataDir}/pin ${pinFile}\\)`,
      ),
    );
    assert.equal(await exists(pinFile), false, "no PIN made there");
    // A copy is not a move: the PIN would still be beside the token.
    await Deno.copyFile(`${dataDir}/pin`, pinFile);
    await assert.rejects(Okms.open({ dataDir, pinFile }), /move it there/);
    await Deno.remove(`${dataDir}/pin`);
    await openAndUse({ dataDir, pinFile }, false);
  });
});
