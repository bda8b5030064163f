/**
 * The PKCS#11 binding against a real SoftHSM2 token, through both ways of
 * reaching the functions.
 */
import assert from "node:assert/strict";
import {
  AesGcmMechanism,
  CKA,
  CKF,
  CKK,
  CKM,
  CKO,
  CKR,
  CKU,
  findPkcs11Module,
  Mechanism,
  Pkcs11,
  Pkcs11Error,
  Pkcs11LoadError,
  ReadTemplate,
  SOFTHSM2_MODULE_PATHS,
  Template,
} from "../ffi/mod.ts";
import { utf8 } from "./helpers.ts";

const modulePath = findPkcs11Module(SOFTHSM2_MODULE_PATHS);

/** A fresh SoftHSM2 token directory with one initialized token. */
async function withToken(
  viaFunctionList: boolean,
  body: (p11: Pkcs11, session: number, slot: number) => void,
) {
  const dir = await Deno.makeTempDir({ prefix: "okms-ffi-" });
  await Deno.mkdir(`${dir}/tokens`);
  await Deno.writeTextFile(
    `${dir}/softhsm2.conf`,
    `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  Deno.env.set("SOFTHSM2_CONF", `${dir}/softhsm2.conf`);
  const p11 = Pkcs11.load(modulePath, { viaFunctionList });
  try {
    p11.initialize();
    const [free] = p11.getSlotList(true);
    p11.initToken(free, utf8("so-pin"), "ffi-test");
    const slot = p11.getSlotList(true).find((s) =>
      p11.getTokenInfo(s).label === "ffi-test"
    )!;
    const session = p11.openSession(slot, CKF.RW_SESSION);
    p11.login(session, CKU.SO, utf8("so-pin"));
    p11.initPin(session, utf8("user-pin"));
    p11.logout(session);
    p11.login(session, CKU.USER, utf8("user-pin"));
    body(p11, session, slot);
    p11.closeSession(session);
  } finally {
    p11.finalize();
    p11.close();
    await Deno.remove(dir, { recursive: true });
  }
}

function aesKey(
  p11: Pkcs11,
  session: number,
  extra: [number, boolean | number][] = [],
) {
  return p11.generateKey(
    session,
    new Mechanism(CKM.AES_KEY_GEN),
    new Template([
      [CKA.CLASS, CKO.SECRET_KEY],
      [CKA.KEY_TYPE, CKK.AES],
      [CKA.VALUE_LEN, 32],
      [CKA.TOKEN, false],
      [CKA.ENCRYPT, true],
      [CKA.DECRYPT, true],
      [CKA.ID, utf8("k1")],
      ...extra,
    ]),
  );
}

for (const viaFunctionList of [false, true]) {
  const how = viaFunctionList
    ? "through C_GetFunctionList"
    : "through exported symbols";

  Deno.test(`token, mechanisms, keys and AES-GCM work ${how}`, async () => {
    await withToken(viaFunctionList, (p11, session, slot) => {
      assert.equal(p11.viaFunctionList, viaFunctionList);
      const info = p11.getTokenInfo(slot);
      assert.equal(info.label, "ffi-test");
      assert.equal(info.model, "SoftHSM v2");
      assert.ok(info.flags & CKF.TOKEN_INITIALIZED);
      assert.ok(p11.getMechanismList(slot).includes(CKM.AES_GCM));
      const gcmInfo = p11.getMechanismInfo(slot, CKM.AES_GCM);
      assert.ok(gcmInfo.flags & CKF.ENCRYPT && gcmInfo.flags & CKF.DECRYPT);

      const key = aesKey(p11, session);
      assert.deepEqual(
        p11.findObjects(session, new Template([[CKA.ID, utf8("k1")]])),
        [key],
      );

      const gcm = new AesGcmMechanism();
      gcm.set({ iv: new Uint8Array(12).fill(7), aad: utf8("header") });
      const sealed = new Uint8Array(5 + 16);
      p11.encryptInit(session, gcm, key);
      assert.equal(p11.encrypt(session, utf8("hello"), sealed), 21);
      const opened = new Uint8Array(sealed.length);
      p11.decryptInit(session, gcm, key);
      const n = p11.decrypt(session, sealed, opened);
      assert.equal(new TextDecoder().decode(opened.subarray(0, n)), "hello");

      gcm.set({ iv: new Uint8Array(12).fill(7), aad: utf8("other header") });
      p11.decryptInit(session, gcm, key);
      assert.throws(() => p11.decrypt(session, sealed, opened), Pkcs11Error);

      const random = new Uint8Array(32);
      p11.generateRandom(session, random);
      assert.notDeepEqual(random, new Uint8Array(32));

      p11.setAttributeValue(
        session,
        key,
        new Template([[CKA.LABEL, "renamed"]]),
      );
      const label = new ReadTemplate([[CKA.LABEL, 32]]);
      p11.getAttributeValue(session, key, label);
      assert.equal(new TextDecoder().decode(label.value(0)), "renamed");

      p11.destroyObject(session, key);
      assert.deepEqual(
        p11.findObjects(session, new Template([[CKA.ID, utf8("k1")]])),
        [],
      );
    });
  });

  Deno.test(`AES key wrap (RFC 5649) and unwrap work ${how}`, async () => {
    await withToken(viaFunctionList, (p11, session) => {
      const pad = new Mechanism(CKM.AES_KEY_WRAP_PAD);
      const wrapping = aesKey(p11, session, [[CKA.WRAP, true], [
        CKA.UNWRAP,
        true,
      ]]);
      const key = aesKey(p11, session, [[CKA.SENSITIVE, true], [
        CKA.EXTRACTABLE,
        true,
      ]]);
      const out = new Uint8Array(64);
      const length = p11.wrapKey(session, pad, wrapping, key, out);
      assert.equal(length, 40);
      const copy = p11.unwrapKey(
        session,
        pad,
        wrapping,
        out.subarray(0, length),
        new Template([
          [CKA.CLASS, CKO.SECRET_KEY],
          [CKA.KEY_TYPE, CKK.AES],
          [CKA.TOKEN, false],
          [CKA.ENCRYPT, true],
          [CKA.DECRYPT, true],
        ]),
      );
      // The copy decrypts what the original encrypted.
      const gcm = new AesGcmMechanism();
      gcm.set({ iv: new Uint8Array(12), aad: utf8("aad") });
      const sealed = new Uint8Array(5 + 16);
      p11.encryptInit(session, gcm, key);
      p11.encrypt(session, utf8("hello"), sealed);
      const opened = new Uint8Array(sealed.length);
      p11.decryptInit(session, gcm, copy);
      const n = p11.decrypt(session, sealed, opened);
      assert.equal(new TextDecoder().decode(opened.subarray(0, n)), "hello");
      out[3] ^= 1;
      assert.throws(
        () =>
          p11.unwrapKey(
            session,
            pad,
            wrapping,
            out.subarray(0, length),
            new Template([[CKA.CLASS, CKO.SECRET_KEY], [
              CKA.KEY_TYPE,
              CKK.AES,
            ]]),
          ),
        (e: unknown) => e instanceof Pkcs11Error && e.fn === "C_UnwrapKey",
      );
    });
  });
}

Deno.test("SoftHSM2: CKA_TRUSTED needs the SO, who cannot make private keys, so no private wrapping key is trusted", async () => {
  await withToken(false, (p11, session) => {
    const trusted = [
      [CKA.TOKEN, true],
      [CKA.WRAP, true],
      [CKA.TRUSTED, true],
    ] as [number, boolean][];
    const refused = (code: number) => (e: unknown) =>
      e instanceof Pkcs11Error && e.code === code;
    // The user may not set it.
    assert.throws(
      () => aesKey(p11, session, [...trusted, [CKA.PRIVATE, true]]),
      refused(CKR.ATTRIBUTE_READ_ONLY),
    );
    // The SO may, but only on a public object, whose value SoftHSM2 keeps
    // unencrypted in its token file.
    p11.logout(session);
    p11.login(session, CKU.SO, utf8("so-pin"));
    assert.throws(
      () => aesKey(p11, session, [...trusted, [CKA.PRIVATE, true]]),
      refused(CKR.USER_NOT_LOGGED_IN),
    );
    aesKey(p11, session, [...trusted, [CKA.PRIVATE, false]]);
    p11.logout(session);
    p11.login(session, CKU.USER, utf8("user-pin"));
    // A key that must be wrapped with a trusted key cannot be wrapped under
    // an untrusted one.
    const untrusted = aesKey(p11, session, [[CKA.WRAP, true]]);
    const key = aesKey(p11, session, [
      [CKA.EXTRACTABLE, true],
      [CKA.WRAP_WITH_TRUSTED, true],
    ]);
    assert.throws(
      () =>
        p11.wrapKey(
          session,
          new Mechanism(CKM.AES_KEY_WRAP_PAD),
          untrusted,
          key,
          new Uint8Array(64),
        ),
      refused(CKR.KEY_NOT_WRAPPABLE),
    );
  });
});

Deno.test("a failed call throws Pkcs11Error with code, CKR name and function", async () => {
  await withToken(false, (p11, session) => {
    p11.logout(session);
    assert.throws(
      () => p11.login(session, CKU.USER, utf8("wrong")),
      (e: unknown) =>
        e instanceof Pkcs11Error && e.code === 0xa0 &&
        e.ckr === "CKR_PIN_INCORRECT" &&
        e.fn === "C_Login" && e.message.includes("CKR_PIN_INCORRECT"),
    );
    p11.login(session, CKU.USER, utf8("user-pin"));
  });
});

Deno.test("a sensitive key's CKA_VALUE reads as unavailable", async () => {
  await withToken(false, (p11, session) => {
    const key = aesKey(p11, session, [[CKA.SENSITIVE, true], [
      CKA.EXTRACTABLE,
      false,
    ]]);
    const template = new ReadTemplate([[CKA.VALUE, 64], [CKA.ID, 16]]);
    assert.equal(p11.getAttributeValue(session, key, template), 0x11); // CKR_ATTRIBUTE_SENSITIVE
    assert.equal(template.value(0), undefined);
    assert.deepEqual(template.value(1), utf8("k1"));
  });
});

Deno.test("a missing module is reported with every path tried", () => {
  const tried = ["/nonexistent/a.so", "/nonexistent/b.so"];
  assert.throws(
    () => findPkcs11Module(tried),
    (e: unknown) =>
      e instanceof Pkcs11LoadError && tried.every((p) => e.message.includes(p)),
  );
  assert.throws(
    () => findPkcs11Module(["/nonexistent/only.so"]),
    /the PKCS#11 module \/nonexistent\/only\.so does not exist$/,
  );
  assert.throws(() => Pkcs11.load("/nonexistent/x.so"), Pkcs11LoadError);
});
