/**
 * The embedded token's files: PIN file, configuration, refusal of unsafe
 * PIN files, external token settings.
 */
import assert from "node:assert/strict";
import { Okms } from "../mod.ts";
import { openTestOkms, type TestOkms } from "./helpers.ts";

/**
 * A test okms, closed, with SOFTHSM2_CONF on its token, and an empty data
 * directory: to open that token as an external one.
 */
async function closedTokenAndEmptyDir(): Promise<
  { t: TestOkms; externalDir: string }
> {
  const t = await openTestOkms();
  await t.okms.close();
  Deno.env.set(
    "SOFTHSM2_CONF",
    `${await Deno.realPath(t.dataDir)}/softhsm2.conf`,
  );
  return { t, externalDir: await Deno.makeTempDir({ prefix: "okms-ext-" }) };
}

Deno.test("the data directory holds the token, a 0600 PIN file and the database", async () => {
  await using t = await openTestOkms();
  const pin = await Deno.stat(`${t.dataDir}/pin`);
  assert.equal(pin.mode! & 0o777, 0o600);
  assert.match(await Deno.readTextFile(`${t.dataDir}/pin`), /^[0-9a-f]{48}$/);
  for (
    const file of [
      "okms.db",
      "okms.db-wal",
      "okms.db-shm",
      "owner.lock",
      "okms.pid",
    ]
  ) {
    assert.equal(
      (await Deno.stat(`${t.dataDir}/${file}`)).mode! & 0o777,
      0o600,
      file,
    );
  }
  assert.equal((await Deno.stat(`${t.dataDir}/tokens`)).isDirectory, true);
  assert.equal((await Deno.stat(t.dataDir)).mode! & 0o777, 0o700);
});

Deno.test("a PIN file readable by others is refused", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-pin-" });
  try {
    await Deno.writeTextFile(`${dataDir}/pin`, "0123456789abcdef", {
      mode: 0o644,
    });
    await Deno.chmod(`${dataDir}/pin`, 0o644);
    await assert.rejects(Okms.open({ dataDir }), /readable by other users/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("a wrong PIN for an existing token fails to open with the PKCS#11 reason", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-pin-" });
  try {
    await (await Okms.open({ dataDir })).close();
    await Deno.writeTextFile(`${dataDir}/pin`, "not-the-pin", { mode: 0o600 });
    await assert.rejects(Okms.open({ dataDir }), /CKR_PIN_INCORRECT/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("an external token that does not exist is named in the error", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "okms-ext-" });
  try {
    Deno.env.set("SOFTHSM2_CONF", `${dataDir}/missing.conf`);
    await assert.rejects(
      Okms.open({
        dataDir,
        pkcs11: { tokenLabel: "no-such-token", pin: "1234" },
      }),
      /cannot initialize .*SOFTHSM2_CONF=.*missing\.conf/,
    );
    await Deno.mkdir(`${dataDir}/tokens`);
    await Deno.writeTextFile(
      `${dataDir}/softhsm2.conf`,
      `directories.tokendir = ${dataDir}/tokens\n`,
    );
    Deno.env.set("SOFTHSM2_CONF", `${dataDir}/softhsm2.conf`);
    await assert.rejects(
      Okms.open({
        dataDir,
        pkcs11: { tokenLabel: "no-such-token", pin: "1234" },
      }),
      /no PKCS#11 token labelled "no-such-token"/,
    );
    await assert.rejects(
      Okms.open({ dataDir, pkcs11: { pin: "1234" } }),
      /needs a token label/,
    );
    await assert.rejects(
      Okms.open({ dataDir, pkcs11: { module: "/nonexistent/module.so" } }),
      /\/nonexistent\/module\.so/,
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("okms runs on an external token through C_GetFunctionList", async () => {
  // First make a token with the embedded mode, then open it as an external one.
  const { t, externalDir } = await closedTokenAndEmptyDir();
  await using _t = t;
  try {
    await using okms = await Okms.open({
      dataDir: externalDir,
      pkcs11: {
        tokenLabel: "okms",
        pinFile: `${t.dataDir}/pin`,
        viaFunctionList: true,
      },
    });
    const { ciphertextBlob } = await okms.encrypt({
      keyId: (await okms.defaultKey()).keyId,
      plaintext: new TextEncoder().encode("external"),
    });
    assert.equal((await okms.decrypt({ ciphertextBlob })).plaintext.length, 8);
  } finally {
    await Deno.remove(externalDir, { recursive: true });
  }
});

Deno.test("a data directory whose parent is missing is refused, not created", async () => {
  const parent = await Deno.makeTempDir({ prefix: "okms-parent-" });
  try {
    await assert.rejects(
      Okms.open({ dataDir: `${parent}/typo/data` }),
      /its parent directory does not exist/,
    );
    await assert.rejects(Deno.stat(`${parent}/typo`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("an external token's PIN is checked like the embedded one and never kept in the config", async () => {
  const { t, externalDir } = await closedTokenAndEmptyDir();
  await using _t = t;
  const pin = (await Deno.readTextFile(`${t.dataDir}/pin`)).trim();
  try {
    await Deno.writeTextFile(`${externalDir}/open-pin`, pin, { mode: 0o644 });
    await Deno.chmod(`${externalDir}/open-pin`, 0o644);
    await assert.rejects(
      Okms.open({
        dataDir: externalDir,
        pkcs11: { tokenLabel: "okms", pinFile: `${externalDir}/open-pin` },
      }),
      /readable by other users/,
    );
    await using okms = await Okms.open({
      dataDir: externalDir,
      pkcs11: { tokenLabel: "okms", pin },
    });
    assert.ok(
      !JSON.stringify(okms.config).includes(pin),
      "the PIN is not in okms.config",
    );
  } finally {
    await Deno.remove(externalDir, { recursive: true });
  }
});
