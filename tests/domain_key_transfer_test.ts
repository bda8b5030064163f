/**
 * Moving domain keys between two HSMs standing for two machines: two
 * SoftHSM2 token directories, each loaded from its own copy of the module
 * file (SoftHSM2 reads SOFTHSM2_CONF once, at C_Initialize, and a module
 * path loads once per process, so a second file is a second SoftHSM2).
 */
import assert from "node:assert/strict";
import {
  CKA,
  CKK,
  CKM,
  CKO,
  CKR,
  findPkcs11Module,
  oaepMechanism,
  Pkcs11Error,
  SOFTHSM2_MODULE_PATHS,
} from "../ffi/mod.ts";
import { Hsm } from "../lib/hsm.ts";
import {
  domainKeyLabel,
  domainKeyTemplate,
  WRAP_MECHANISMS,
} from "../lib/material/domain_keys.ts";
import {
  acceptTransfer,
  createTransferKey,
  DomainKeyTransferError,
  transferFingerprint,
  type TransferGrant,
  transferKeyLabel,
  type TransferRequest,
  wrapForTransfer,
} from "../lib/material/domain_key_transfer.ts";
import {
  aesKeyTemplate,
  findTokenKey,
  GCM_ONLY,
} from "../lib/material/token_objects.ts";
import { CMK_IN_USE } from "../lib/material/wrapped_key_material.ts";
import { runDomainKeyCommand } from "../server/domain_key_admin.ts";
import { utf8 } from "./helpers.ts";

const SO_PIN = "machine-so-pin";
const USER_PIN = "machine-user-pin";

/** One machine: a token directory of its own and a session on its token. */
interface Machine extends Disposable {
  hsm: Hsm;
  dir: string;
}

const realModule = await Deno.realPath(
  findPkcs11Module(SOFTHSM2_MODULE_PATHS),
);

/**
 * Opens machine `name`, from its own copy of the module file, binding the
 * functions through `C_GetFunctionList` when asked.
 */
async function machine(
  name: string,
  viaFunctionList = false,
): Promise<Machine> {
  const dir = await Deno.makeTempDir({ prefix: `okms-transfer-${name}-` });
  await Deno.mkdir(`${dir}/tokens`);
  await Deno.writeTextFile(
    `${dir}/softhsm2.conf`,
    `directories.tokendir = ${dir}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  const modulePath = `${dir}/libsofthsm2.so`;
  await Deno.copyFile(realModule, modulePath);
  Deno.env.set("SOFTHSM2_CONF", `${dir}/softhsm2.conf`);
  const hsm = Hsm.open({
    modulePath,
    tokenLabel: name,
    pin: utf8(USER_PIN),
    initializeWithSoPin: utf8(SO_PIN),
    viaFunctionList,
  });
  return {
    hsm,
    dir,
    [Symbol.dispose]() {
      hsm.close();
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

const randomId = () => crypto.getRandomValues(new Uint8Array(16));
/** A cluster's domain keys: extractable, to move wrapped between HSMs. */
const TRANSFERABLE = { transferable: true } as const;

/** A CMK version's material, wrapped as WrappedKeyMaterial wraps it. */
function wrapNewCmk(hsm: Hsm, domainKey: number): Uint8Array {
  const cmk = hsm.generateAesKey([
    [CKA.VALUE_LEN, 32],
    ...aesKeyTemplate({
      token: false,
      extractable: true,
      cipher: false,
      wrap: false,
      mechanisms: GCM_ONLY,
    }),
  ]);
  try {
    return hsm.wrap(WRAP_MECHANISMS.RFC5649, domainKey, cmk);
  } finally {
    hsm.destroy(cmk);
  }
}

const GCM = { iv: new Uint8Array(12).fill(9), aad: utf8("header") };

function seal(hsm: Hsm, cmk: number, text: string): Uint8Array {
  const out = new Uint8Array(text.length + 16);
  hsm.encrypt(cmk, GCM, utf8(text), out);
  return out;
}

function open(hsm: Hsm, cmk: number, sealed: Uint8Array): string {
  const out = new Uint8Array(sealed.length);
  const n = hsm.decrypt(cmk, GCM, sealed, out);
  return new TextDecoder().decode(out.subarray(0, n));
}

/** As the files carry them: JSON text. */
const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value));

/** The attributes a domain key is made with, and the facts of its origin. */
const COMPARED: readonly (readonly [type: number, size: number])[] = [
  CKA.CLASS,
  CKA.KEY_TYPE,
  CKA.TOKEN,
  CKA.PRIVATE,
  CKA.SENSITIVE,
  CKA.EXTRACTABLE,
  CKA.MODIFIABLE,
  CKA.COPYABLE,
  CKA.ENCRYPT,
  CKA.DECRYPT,
  CKA.WRAP,
  CKA.UNWRAP,
  CKA.SIGN,
  CKA.VERIFY,
  CKA.DERIVE,
  CKA.TRUSTED,
  CKA.WRAP_WITH_TRUSTED,
].map((type) => [type, 8] as const);

function attributes(hsm: Hsm, handle: number, id: Uint8Array) {
  const [value, label, readId, mechanisms] = hsm.read(handle, [
    [CKA.VALUE, 64],
    [CKA.LABEL, 64],
    [CKA.ID, 16],
    [CKA.ALLOWED_MECHANISMS, 64],
  ]);
  assert.equal(value, undefined, "CKA_VALUE cannot be read");
  assert.equal(new TextDecoder().decode(label), domainKeyLabel(id));
  assert.deepEqual(readId, id);
  return {
    mechanisms,
    values: hsm.read(handle, COMPARED).map((v) => v?.toHex()),
  };
}

/** Asserts that `f` throws a DomainKeyTransferError whose message matches. */
function refused(f: () => unknown, message: RegExp, secrets: string[] = []) {
  assert.throws(f, (error: unknown) => {
    assert.ok(error instanceof DomainKeyTransferError, String(error));
    assert.match(error.message, message);
    for (const secret of secrets) {
      assert.ok(!error.message.includes(secret), "no wrapped key or check");
    }
    return true;
  });
}

const rsaObjects = (hsm: Hsm) => [
  ...hsm.find([[CKA.CLASS, CKO.PRIVATE_KEY]]),
  ...hsm.find([[CKA.CLASS, CKO.PUBLIC_KEY]]),
];

Deno.test("a domain key moves from HSM A to HSM B wrapped: B unwraps A's CMK and decrypts A's ciphertext; the key has a domain key's attributes; the transfer key is gone", async () => {
  using a = await machine("member");
  using b = await machine("new-node");
  const id = randomId();
  const domainKey = a.hsm.generateAesKey(domainKeyTemplate(id, TRANSFERABLE));
  const blob = wrapNewCmk(a.hsm, domainKey);
  const inA = a.hsm.unwrap(
    WRAP_MECHANISMS.RFC5649,
    domainKey,
    blob,
    CMK_IN_USE,
  );
  const sealed = seal(a.hsm, inA, "made on machine A");

  const request = viaJson(createTransferKey(b.hsm));
  assert.deepEqual(request.oaepHashes, ["SHA-1"], "SoftHSM2 2.6.1 OAEP");
  assert.equal(request.tokenLabel, "new-node");
  assert.equal(Uint8Array.fromBase64(request.modulus).length, 3072 / 8);
  const [privateKey, ...others] = rsaObjects(b.hsm);
  assert.deepEqual(others, [], "only the private key is kept");
  const [sensitive, extractable, unwrap, decrypt, sign] = b.hsm.read(
    privateKey,
    [CKA.SENSITIVE, CKA.EXTRACTABLE, CKA.UNWRAP, CKA.DECRYPT, CKA.SIGN].map((
      type,
    ) => [type, 1] as const),
  ).map((v) => v![0]);
  assert.deepEqual([sensitive, extractable, unwrap, decrypt, sign], [
    1,
    0,
    1,
    0,
    0,
  ]);

  const grant = viaJson(
    wrapForTransfer(a.hsm, [id], request, {
      fingerprint: transferFingerprint(request),
    }),
  );
  assert.deepEqual(rsaObjects(a.hsm), [], "the imported public key is gone");
  assert.deepEqual(acceptTransfer(b.hsm, grant), {
    accepted: [id.toHex()],
    skipped: [],
  });
  assert.deepEqual(rsaObjects(b.hsm), [], "the transfer key is gone");
  assert.deepEqual(
    b.hsm.find([[
      CKA.LABEL,
      transferKeyLabel(Uint8Array.fromHex(request.transferId)),
    ]]),
    [],
  );

  const arrived = findTokenKey(b.hsm, id)!;
  const inB = b.hsm.unwrap(WRAP_MECHANISMS.RFC5649, arrived, blob, CMK_IN_USE);
  assert.equal(open(b.hsm, inB, sealed), "made on machine A");

  // Exactly a domain key's attributes; only its origin differs.
  assert.deepEqual(
    attributes(b.hsm, arrived, id),
    attributes(a.hsm, domainKey, id),
  );
  const origin = (hsm: Hsm, handle: number) =>
    hsm.read(handle, [
      [CKA.LOCAL, 1],
      [CKA.ALWAYS_SENSITIVE, 1],
      [CKA.NEVER_EXTRACTABLE, 1],
    ]).map((v) => v![0]);
  const valueLength = (hsm: Hsm, handle: number) =>
    new DataView(hsm.read(handle, [[CKA.VALUE_LEN, 8]])[0]!.buffer)
      .getBigUint64(0, true);
  assert.deepEqual(origin(a.hsm, domainKey), [1, 1, 0]);
  assert.equal(valueLength(a.hsm, domainKey), 32n);
  assert.deepEqual(origin(b.hsm, arrived), [0, 0, 0], "unwrapped, not local");
  // SoftHSM2 2.6.1 refuses CKA_VALUE_LEN in an unwrap template and records
  // 0 for an unwrapped AES key; the check value proved the 256-bit value.
  assert.equal(valueLength(b.hsm, arrived), 0n);

  // A replayed grant finds no transfer key.
  refused(() => acceptTransfer(b.hsm, grant), /holds no transfer key/);
  // A new transfer of the same key skips it.
  const again = createTransferKey(b.hsm);
  assert.deepEqual(
    acceptTransfer(b.hsm, wrapForTransfer(a.hsm, [id], again)),
    { accepted: [], skipped: [id.toHex()] },
  );
  assert.deepEqual(rsaObjects(b.hsm), []);
});

Deno.test("a tampered wrapped key, a wrong transfer id, swapped ids and a wrong check value each fail cleanly, keeping nothing", async () => {
  using a = await machine("member");
  using b = await machine("new-node");
  const ids = [randomId(), randomId()];
  for (const id of ids) {
    a.hsm.generateAesKey(domainKeyTemplate(id, TRANSFERABLE));
  }
  const request = createTransferKey(b.hsm);
  const grant = viaJson(wrapForTransfer(a.hsm, ids, request));
  const secrets = grant.keys.flatMap(({ wrapped, check }) => [wrapped, check]);
  const altered = (change: (g: TransferGrant) => void) => {
    const copy = viaJson(grant);
    change(copy);
    return copy;
  };
  const nothingKept = () => {
    for (const id of ids) assert.equal(findTokenKey(b.hsm, id), undefined);
    assert.equal(rsaObjects(b.hsm).length, 1, "the transfer key stays");
  };
  const flip = (base64: string) => {
    const bytes = Uint8Array.fromBase64(base64);
    bytes[bytes.length >> 1] ^= 1;
    return bytes.toBase64();
  };

  refused(
    () =>
      acceptTransfer(
        b.hsm,
        altered((g) => g.keys[1].wrapped = flip(g.keys[1].wrapped)),
      ),
    /domain key okms-domain:[0-9a-f]{32} does not open under transfer key okms-transfer:[0-9a-f]{32}: the grant was altered, or made for another transfer request \(C_UnwrapKey failed with CKR_\w+ \(0x[0-9a-f]+\)\); nothing was kept/,
    secrets,
  );
  nothingKept();
  refused(
    () =>
      acceptTransfer(
        b.hsm,
        altered((g) => g.transferId = randomId().toHex()),
      ),
    /holds no transfer key okms-transfer:[0-9a-f]{32}: the grant answers another node's or an earlier request, or was accepted already/,
  );
  nothingKept();
  refused(
    () =>
      acceptTransfer(
        b.hsm,
        altered((g) => g.keys[0].check = flip(g.keys[0].check)),
      ),
    /domain key okms-domain:[0-9a-f]{32} arrived with another value than its check value says: the grant was altered; nothing was kept/,
    secrets,
  );
  nothingKept();
  // The check value binds a key to its id: swapped ids do not pass.
  refused(
    () =>
      acceptTransfer(
        b.hsm,
        altered((g) =>
          [g.keys[0].id, g.keys[1].id] = [g.keys[1].id, g.keys[0].id]
        ),
      ),
    /arrived with another value than its check value says/,
    secrets,
  );
  nothingKept();
  refused(
    () =>
      acceptTransfer(b.hsm, altered((g) => g.keys[0].wrapped = "not base64!")),
    /the transfer grant's key 1 is not base64 text/,
  );

  assert.deepEqual(
    acceptTransfer(b.hsm, grant).accepted.sort(),
    ids.map((id) => id.toHex()).sort(),
  );
  refused(() => acceptTransfer(b.hsm, grant), /holds no transfer key/);
});

Deno.test("a key B already holds with another value is refused, not replaced", async () => {
  using a = await machine("member");
  using b = await machine("new-node");
  const id = randomId();
  a.hsm.generateAesKey(domainKeyTemplate(id, TRANSFERABLE));
  const own = b.hsm.generateAesKey(domainKeyTemplate(id, TRANSFERABLE));
  const grant = wrapForTransfer(a.hsm, [id], createTransferKey(b.hsm));
  refused(
    () => acceptTransfer(b.hsm, grant),
    /already holds domain key okms-domain:[0-9a-f]{32} with a different value: refusing to replace it/,
  );
  assert.equal(findTokenKey(b.hsm, id), own);
});

Deno.test("the member refuses: a non-extractable domain key, an unverified request, a weak key, a missing key", async () => {
  using a = await machine("member");
  using b = await machine("new-node");
  const old = randomId();
  // A single node's domain key (or one from before clusters).
  a.hsm.generateAesKey(domainKeyTemplate(old));
  const request = createTransferKey(b.hsm);
  refused(
    () => wrapForTransfer(a.hsm, [old], request),
    /domain key okms-domain:[0-9a-f]{32} was made not extractable \(by a single node, or before clusters\), so it can never leave this HSM, even wrapped: rotate the domain key on a cluster node/,
  );
  const other: TransferRequest = {
    ...request,
    modulus: createTransferKey(b.hsm).modulus,
  };
  refused(
    () =>
      wrapForTransfer(a.hsm, [old], other, {
        fingerprint: transferFingerprint(request),
      }),
    /does not have the fingerprint given: it is not the request the new node made/,
  );
  refused(
    () =>
      wrapForTransfer(a.hsm, [old], {
        ...request,
        modulus: new Uint8Array(256).fill(0xff).toBase64(),
      }),
    /RSA key has 2048 bits: okms wraps domain keys only under 3072 bits or more/,
  );
  refused(
    () => wrapForTransfer(a.hsm, [randomId()], request),
    /holds no domain key okms-domain:/,
  );
  assert.deepEqual(rsaObjects(a.hsm), [], "no public key left behind");
});

Deno.test("SoftHSM2 trusted wrapping: a CKA_WRAP_WITH_TRUSTED domain key moves only under an SO-trusted public key", async () => {
  using a = await machine("member");
  using b = await machine("new-node");
  const id = randomId();
  const domainKey = a.hsm.generateAesKey(
    domainKeyTemplate(id, { ...TRANSFERABLE, wrapWithTrusted: true }),
  );
  const request = createTransferKey(b.hsm);
  // The user may not mark a key trusted, nor wrap under an untrusted one.
  const publicKey = [
    [CKA.CLASS, CKO.PUBLIC_KEY],
    [CKA.KEY_TYPE, CKK.RSA],
    [CKA.TOKEN, false],
    [CKA.MODULUS, Uint8Array.fromBase64(request.modulus)],
    [CKA.PUBLIC_EXPONENT, Uint8Array.fromBase64(request.publicExponent)],
    [CKA.WRAP, true],
  ] as const;
  assert.throws(
    () => a.hsm.createObject([...publicKey, [CKA.TRUSTED, true]]),
    (e: unknown) =>
      e instanceof Pkcs11Error && e.code === CKR.ATTRIBUTE_READ_ONLY,
  );
  // SoftHSM2 2.6.1 keeps the object a refused C_CreateObject half made.
  for (const handle of rsaObjects(a.hsm)) a.hsm.destroy(handle);
  const untrusted = a.hsm.createObject(publicKey);
  assert.throws(
    () => a.hsm.wrap(oaepMechanism("SHA-1"), untrusted, domainKey),
    (e: unknown) =>
      e instanceof Pkcs11Error && e.code === CKR.KEY_NOT_WRAPPABLE,
  );
  a.hsm.destroy(untrusted);
  refused(
    () => wrapForTransfer(a.hsm, [id], request),
    /may only be wrapped under a key the security officer trusts \(CKA_WRAP_WITH_TRUSTED\): give the SO PIN/,
  );
  const soPin = utf8(SO_PIN);
  const userPin = utf8(USER_PIN);
  const grant = wrapForTransfer(a.hsm, [id], request, {
    trusted: { soPin, userPin },
  });
  assert.ok(soPin.every((b) => b === 0) && userPin.every((b) => b === 0));
  assert.deepEqual(rsaObjects(a.hsm), [], "the trusted public key is gone");
  assert.ok(findTokenKey(a.hsm, id) !== undefined, "A is logged in again");
  assert.deepEqual(
    acceptTransfer(b.hsm, grant, { wrapWithTrusted: true }).accepted,
    [id.toHex()],
  );
  const [wrapWithTrusted] = b.hsm.read(findTokenKey(b.hsm, id)!, [
    [CKA.WRAP_WITH_TRUSTED, 1],
  ]);
  assert.deepEqual(wrapWithTrusted, Uint8Array.of(1));
});

Deno.test("the admin commands write each step's file (mode 0600, never overwritten) and run the transfer, through C_GetFunctionList", async () => {
  using a = await machine("member", true);
  using b = await machine("new-node", true);
  assert.ok(a.hsm.p11.viaFunctionList && b.hsm.p11.viaFunctionList);
  const id = randomId();
  a.hsm.generateAesKey(domainKeyTemplate(id, TRANSFERABLE));
  const requestFile = `${b.dir}/request.json`;
  const grantFile = `${a.dir}/grant.json`;
  const requested = await runDomainKeyCommand("transfer-request", {
    hsm: b.hsm,
    outFile: requestFile,
  });
  assert.equal((await Deno.stat(requestFile)).mode! & 0o777, 0o600);
  assert.equal(requested.command, "transfer-request");
  await assert.rejects(
    runDomainKeyCommand("transfer-request", {
      hsm: b.hsm,
      outFile: requestFile,
    }),
    /the transfer file .*request\.json exists already/,
  );
  assert.equal(rsaObjects(b.hsm).length, 1, "the refused request left no key");
  const granted = await runDomainKeyCommand("transfer-grant", {
    hsm: a.hsm,
    domainKeyIds: [id],
    inFile: requestFile,
    outFile: grantFile,
    fingerprint: (requested as { fingerprint: string }).fingerprint,
  });
  assert.equal((await Deno.stat(grantFile)).mode! & 0o777, 0o600);
  assert.deepEqual(
    (granted as { domainKeys: string[] }).domainKeys,
    [id.toHex()],
  );
  assert.deepEqual(
    await runDomainKeyCommand("transfer-accept", {
      hsm: b.hsm,
      inFile: grantFile,
    }),
    {
      command: "transfer-accept",
      transferId: (requested as { transferId: string }).transferId,
      accepted: [id.toHex()],
      skipped: [],
    },
  );
  assert.ok(findTokenKey(b.hsm, id) !== undefined);
  assert.ok(b.hsm.mechanisms.has(CKM.RSA_PKCS_OAEP));
});
