/**
 * A data directory records which token holds its keys and refuses any
 * other: an external token for an embedded-token directory, none for an
 * external-token one (before a fresh embedded token is made), another
 * token of the same label, and a token that does not hold the keys of a
 * directory from before the record (which keeps token-object material).
 * The key material mode and domain keys: tests/okms_domain_keys_test.ts.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { findPkcs11Module, SOFTHSM2_MODULE_PATHS } from "../ffi/mod.ts";
import { Okms, type OkmsOptions } from "../mod.ts";
import {
  cmkObjects,
  DEFAULT_KEY_MATERIAL,
  storedMaterial,
  utf8,
} from "./helpers.ts";

/** A data directory with an embedded token; returns its token's serial. */
async function embeddedDir(
  dataDir: string,
  options: OkmsOptions = {},
): Promise<string> {
  await using okms = await Okms.open({ ...options, dataDir });
  return okms.token.serialNumber;
}

/** Options reaching the embedded token of `tokenDir` as an external one. */
async function externalOptions(
  dataDir: string,
  tokenDir: string,
  module?: string,
): Promise<OkmsOptions> {
  Deno.env.set(
    "SOFTHSM2_CONF",
    `${await Deno.realPath(tokenDir)}/softhsm2.conf`,
  );
  return {
    dataDir,
    pkcs11: { module, tokenLabel: "okms", pinFile: `${tokenDir}/pin` },
  };
}

/**
 * Takes a token-mode directory back to schema 1, from before the token
 * (and key material modes) were recorded.
 */
function toSchemaOne(dataDir: string): void {
  const db = new DatabaseSync(`${dataDir}/okms.db`);
  db.exec(`DROP TABLE token_binding; DROP TABLE wrapped_material;
    DROP TABLE domain_keys; ALTER TABLE keys DROP COLUMN key_spec;
    ALTER TABLE keys DROP COLUMN key_usage;
    ALTER TABLE key_versions DROP COLUMN public_key; PRAGMA user_version = 1`);
  db.close();
}

function schemaVersion(dataDir: string): number {
  const db = new DatabaseSync(`${dataDir}/okms.db`, { readOnly: true });
  try {
    return Number(db.prepare("PRAGMA user_version").get()!.user_version);
  } finally {
    db.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

async function tempDirs(n: number): Promise<string[] & AsyncDisposable> {
  const dirs = await Promise.all(
    Array.from({ length: n }, () => Deno.makeTempDir({ prefix: "okms-bind-" })),
  );
  return Object.assign(dirs, {
    async [Symbol.asyncDispose]() {
      for (const dir of dirs) await Deno.remove(dir, { recursive: true });
    },
  });
}

Deno.test("a data directory opens only with the token that holds its keys", async () => {
  await using dirs = await tempDirs(3);
  const [a, b, external] = dirs;
  const serialA = await embeddedDir(a);
  const serialB = await embeddedDir(b);
  assert.notEqual(serialA, serialB);

  // An embedded-token directory given an external token (even an empty one).
  await assert.rejects(
    Okms.open(await externalOptions(a, b)),
    new RegExp(
      `${a} keeps its keys in the embedded SoftHSM2 token \\(serial ${serialA}\\), but an external token was given: open it without --pkcs11-token-label`,
    ),
  );
  const materialB = await cmkObjects(b);

  // A directory whose keys are in token B.
  let key: string;
  {
    await using okms = await Okms.open(await externalOptions(external, b));
    assert.deepEqual(okms.token, {
      embedded: false,
      modulePath: findPkcs11Module(SOFTHSM2_MODULE_PATHS),
      label: "okms",
      serialNumber: serialB,
      keyMaterial: DEFAULT_KEY_MATERIAL,
    });
    key = (await okms.createKey()).keyId;
  }
  // Without PKCS#11 settings: refused, and no embedded token made.
  await assert.rejects(
    Okms.open({ dataDir: external }),
    new RegExp(
      `keeps its keys in the PKCS#11 token "okms" \\(serial ${serialB}\\) of module .*, but no PKCS#11 token was given: give it with --pkcs11-module \\(OKMS_PKCS11_MODULE\\), --pkcs11-token-label \\(OKMS_PKCS11_TOKEN_LABEL\\) and --pkcs11-pin-file \\(OKMS_PKCS11_PIN_FILE\\)`,
    ),
  );
  assert.equal(await exists(`${external}/tokens`), false);
  assert.equal(await exists(`${external}/pin`), false);
  // Another token with the same label: refused, naming both.
  await assert.rejects(
    Okms.open(await externalOptions(external, a)),
    new RegExp(
      `keeps its keys in the PKCS#11 token "okms" \\(serial ${serialB}\\) .*, but was given the PKCS#11 token "okms" \\(serial ${serialA}\\)`,
    ),
  );
  assert.equal(
    (await cmkObjects(b)).length,
    materialB.length + storedMaterial(external).tokenObjects.length,
    "the external directory's objects, and nothing of the refused opens",
  );
  // The right token works, through either path of the same module.
  for (const module of SOFTHSM2_MODULE_PATHS) {
    if (!await exists(module)) continue;
    await using okms = await Okms.open(
      await externalOptions(external, b, module),
    );
    await okms.encrypt({ keyId: key, plaintext: utf8("same keys") });
  }
});

Deno.test("a directory from before the record is bound by the first token that holds its keys", async () => {
  await using dirs = await tempDirs(3);
  const [a, b, external] = dirs;
  const serialA = await embeddedDir(a, { keyMaterial: "token" });
  await embeddedDir(b);
  await (await Okms.open({
    ...await externalOptions(external, b),
    keyMaterial: "token",
  })).close();
  toSchemaOne(a);
  toSchemaOne(external);

  // Token B does not hold a's keys: refused, nothing recorded.
  await assert.rejects(
    Okms.open(await externalOptions(a, b)),
    new RegExp(
      `the PKCS#11 token "okms" \\(serial .*\\) of module .* does not hold the keys of the okms data directory ${a} \\(not even its default key\\): give the token that holds them with --pkcs11-module`,
    ),
  );
  // Its own embedded token holds them: recorded.
  {
    await using okms = await Okms.open({ dataDir: a });
    assert.equal(okms.token.serialNumber, serialA);
    assert.equal(okms.token.embedded, true);
  }
  assert.equal(schemaVersion(a), 4);
  assert.equal(storedMaterial(a).keyMaterial, "token", "it keeps token mode");
  await assert.rejects(
    Okms.open(await externalOptions(a, b)),
    /an external token was given/,
  );

  // An external-token directory opened without settings: refused before
  // any embedded token is made.
  await assert.rejects(
    Okms.open({ dataDir: external }),
    new RegExp(
      `${external} has keys but no embedded token \\(${external}/tokens is missing\\): if its keys are in an external PKCS#11 token, give it with --pkcs11-module`,
    ),
  );
  assert.equal(await exists(`${external}/tokens`), false);
  await (await Okms.open(await externalOptions(external, b))).close();
  await assert.rejects(
    Okms.open({ dataDir: external }),
    /no PKCS#11 token was given/,
  );
});
