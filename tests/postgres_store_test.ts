/**
 * PostgresStore against the MetadataStore contract, on a throwaway cluster:
 * every check runs on SqliteStore too, so the two keep the same semantics.
 * Then what only PostgreSQL has: the schema in its own namespace, made once
 * and versioned.
 */
import assert from "node:assert/strict";
import {
  type DomainKeyStore,
  type KeyRecord,
  type KeyVersionRecord,
  type MetadataStore,
  NameTakenError,
  QuotaReachedError,
} from "../lib/metadata_store.ts";
import { SqliteStore } from "../lib/sqlite_store.ts";
import { PostgresStore } from "../lib/store/postgres_store.ts";
import { POSTGRES_SCHEMA_VERSION } from "../lib/store/postgres_schema.ts";
import { freshSchema, startPostgres } from "./postgres_cluster.ts";
import { rejectsNamed } from "./helpers.ts";

const ACCOUNT = "111111111111";
const OTHER = "222222222222";

function materialId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(16));
}

function version(
  n: number,
  origin: KeyVersionRecord["origin"] = "CREATE",
): KeyVersionRecord {
  return {
    version: n,
    materialId: materialId(),
    createdAt: 1_700_000_000_000 + n,
    encryptionsReserved: 65_536,
    origin,
  };
}

function wrappedVersion(n: number, domainKeyId: Uint8Array): KeyVersionRecord {
  return {
    ...version(n),
    wrapped: {
      domainKeyId,
      algorithm: "RFC5649",
      blob: crypto.getRandomValues(new Uint8Array(40)),
    },
  };
}

function key(
  accountId: string,
  createdAt: number,
  changes: Partial<KeyRecord> = {},
): KeyRecord {
  return {
    keyId: crypto.randomUUID(),
    accountId,
    description: "",
    state: "Enabled",
    isDefault: false,
    createdAt,
    deletionDate: null,
    pendingWindowDays: null,
    tags: [],
    rotationPeriodDays: null,
    nextRotationAt: null,
    versions: [version(1)],
    ...changes,
  };
}

/**
 * `store` with the `serial` PostgreSQL adds to key records left out of what
 * it reads, for the contract both stores keep (serials are checked below).
 */
function withoutSerials(
  store: PostgresStore,
): MetadataStore & DomainKeyStore {
  const strip = (record: KeyRecord | undefined) => {
    if (record !== undefined) delete record.serial;
    return record;
  };
  return new Proxy(store, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        const result = await value.apply(target, args);
        if (name === "getKey" || name === "getDefaultKey") return strip(result);
        if (name === "listKeys") return result.map(strip);
        return result;
      };
    },
  });
}

/** The contract, as both stores must keep it. */
const CHECKS: [string, (store: MetadataStore) => Promise<void>][] = [
  ["accounts: the first is the default, listed first", async (store) => {
    await store.ping();
    assert.deepEqual(await store.listAccounts(), []);
    await store.createAccount(OTHER, 2);
    await store.createAccount(ACCOUNT, 1);
    assert.deepEqual(await store.listAccounts(), [OTHER, ACCOUNT]);
    assert.equal(await store.hasAccount(ACCOUNT), true);
    assert.equal(await store.hasAccount("333333333333"), false);
    await assert.rejects(store.createAccount(ACCOUNT, 3));
  }],
  ["keys: stored whole, listed in creation order by pages", async (store) => {
    await store.createAccount(ACCOUNT, 1);
    const journaled = version(1);
    await store.journalMaterial(journaled.materialId, 5);
    const first = key(ACCOUNT, 100, {
      description: "naïve ☃ ' \" \\",
      isDefault: true,
      tags: [{ tagKey: "k", tagValue: "v" }, { tagKey: "é", tagValue: "" }],
      versions: [journaled],
    });
    await store.insertKey(first, 20);
    assert.deepEqual(await store.journal(), [], "insert clears the journal");
    assert.deepEqual(await store.getKey(first.keyId), first);
    assert.deepEqual(await store.getDefaultKey(ACCOUNT), first);
    assert.equal(await store.getDefaultKey(OTHER), undefined);
    assert.equal(await store.getKey(crypto.randomUUID()), undefined);
    const same = [key(ACCOUNT, 200), key(ACCOUNT, 200), key(ACCOUNT, 200)];
    for (const k of same) await store.insertKey(k, 20);
    const all = [first, ...same.toSorted((a, b) => a.keyId < b.keyId ? -1 : 1)];
    assert.equal(await store.countKeys(ACCOUNT), 4);
    assert.deepEqual(await store.listKeys(ACCOUNT, undefined, 10), all);
    const page = await store.listKeys(ACCOUNT, undefined, 2);
    assert.deepEqual(page, all.slice(0, 2));
    const last = page.at(-1)!;
    assert.deepEqual(
      await store.listKeys(ACCOUNT, {
        createdAt: last.createdAt,
        keyId: last.keyId,
      }, 10),
      all.slice(2),
    );
    assert.deepEqual(await store.listKeys(OTHER, undefined, 10), []);
    // A second default key in one account is refused.
    await assert.rejects(
      store.insertKey(key(ACCOUNT, 300, { isDefault: true }), 20),
    );
    assert.equal(await store.countKeys(ACCOUNT), 4);
  }],
  ["the quota is checked in the insert's transaction", async (store) => {
    await store.createAccount(ACCOUNT, 1);
    await store.insertKey(key(ACCOUNT, 1), 2);
    await store.insertKey(key(ACCOUNT, 2), 2);
    const refused = key(ACCOUNT, 3);
    await store.journalMaterial(refused.versions[0].materialId, 3);
    await assert.rejects(store.insertKey(refused, 2), QuotaReachedError);
    assert.equal(await store.countKeys(ACCOUNT), 2);
    assert.equal(await store.getKey(refused.keyId), undefined);
    assert.equal((await store.journal()).length, 1, "journal kept");
  }],
  ["updates write the mutable fields, not the versions", async (store) => {
    await store.createAccount(ACCOUNT, 1);
    const k = key(ACCOUNT, 1);
    await store.insertKey(k, 20);
    const changed: KeyRecord = {
      ...k,
      description: "changed",
      state: "PendingDeletion",
      deletionDate: 9_000,
      pendingWindowDays: 7,
      tags: [{ tagKey: "a", tagValue: "b" }],
      rotationPeriodDays: 365,
      nextRotationAt: 8_000,
      versions: [],
    };
    await store.updateKey(changed);
    assert.deepEqual(await store.getKey(k.keyId), {
      ...changed,
      versions: k.versions,
    });
    await rejectsNamed(
      store.updateKey({ ...changed, keyId: crypto.randomUUID() }),
      "NotFoundException",
    );
  }],
  ["versions are appended and clear their journal entry", async (store) => {
    await store.createAccount(ACCOUNT, 1);
    const k = key(ACCOUNT, 1);
    await store.insertKey(k, 20);
    const v2 = version(2, "ON_DEMAND");
    await store.journalMaterial(v2.materialId, 7);
    await store.addVersion(k.keyId, v2);
    assert.deepEqual(await store.journal(), []);
    assert.deepEqual((await store.getKey(k.keyId))!.versions, [
      k.versions[0],
      v2,
    ]);
    await assert.rejects(store.addVersion(k.keyId, version(2)));
  }],
  [
    "deletion journals every version's material, drops aliases",
    async (store) => {
      await store.createAccount(ACCOUNT, 1);
      const k = key(ACCOUNT, 1, { versions: [version(1), version(2)] });
      const kept = key(ACCOUNT, 2);
      await store.insertKey(k, 20);
      await store.insertKey(kept, 20);
      const alias = (name: string, keyId: string) => ({
        accountId: ACCOUNT,
        aliasName: name,
        keyId,
        createdAt: 1,
        updatedAt: 1,
      });
      await store.createAlias(alias("alias/gone", k.keyId), 50);
      await store.createAlias(alias("alias/kept", kept.keyId), 50);
      const materials = await store.deleteKey(k.keyId, 1234);
      assert.deepEqual(materials, k.versions.map((v) => v.materialId));
      assert.deepEqual(
        (await store.journal()).map((e) => e.since),
        [1234, 1234],
      );
      assert.deepEqual(
        new Set((await store.journal()).map((e) => e.materialId.toHex())),
        new Set(materials.map((m) => m.toHex())),
      );
      assert.equal(await store.getKey(k.keyId), undefined);
      assert.equal(await store.getAlias(ACCOUNT, "alias/gone"), undefined);
      assert.ok(await store.getAlias(ACCOUNT, "alias/kept"));
      assert.deepEqual(await store.deleteKey(k.keyId, 1235), []);
      for (const m of materials) await store.clearMaterial(m);
      assert.deepEqual(await store.journal(), []);
    },
  ],
  ["due keys: deletions and rotations whose time has come", async (store) => {
    await store.createAccount(ACCOUNT, 1);
    const deleting = key(ACCOUNT, 1, {
      state: "PendingDeletion",
      deletionDate: 1_000,
      pendingWindowDays: 7,
    });
    const rotating = key(ACCOUNT, 2, {
      rotationPeriodDays: 90,
      nextRotationAt: 2_000,
    });
    const disabledRotating = key(ACCOUNT, 3, {
      state: "Disabled",
      rotationPeriodDays: 90,
      nextRotationAt: 500,
    });
    for (const k of [deleting, rotating, disabledRotating, key(ACCOUNT, 4)]) {
      await store.insertKey(k, 20);
    }
    assert.deepEqual(await store.dueKeys(999), []);
    assert.deepEqual(await store.dueKeys(1_000), [deleting.keyId]);
    assert.deepEqual(
      await store.dueKeys(5_000),
      [deleting.keyId, rotating.keyId].sort(),
    );
  }],
  ["reservations add up to the maximum, never past it", async (store) => {
    await store.createAccount(ACCOUNT, 1);
    const k = key(ACCOUNT, 1);
    await store.insertKey(k, 20);
    assert.deepEqual(await store.reserveEncryptions(k.keyId, 1, 1000, 67_000), {
      from: 65_536,
      to: 66_536,
    });
    assert.deepEqual(await store.reserveEncryptions(k.keyId, 1, 1000, 67_000), {
      from: 66_536,
      to: 67_000,
    });
    assert.equal(
      await store.reserveEncryptions(k.keyId, 1, 1000, 67_000),
      undefined,
    );
    assert.equal(
      (await store.getKey(k.keyId))!.versions[0].encryptionsReserved,
      67_000,
    );
    // Beyond 2^32: counts are not 32-bit.
    assert.deepEqual(
      await store.reserveEncryptions(k.keyId, 1, 2 ** 33, 2 ** 34),
      { from: 67_000, to: 67_000 + 2 ** 33 },
    );
    await rejectsNamed(
      store.reserveEncryptions(k.keyId, 2, 1000, 67_000),
      "NotFoundException",
    );
  }],
  ["aliases: unique names, a quota per key, listed by name", async (store) => {
    await store.createAccount(ACCOUNT, 1);
    await store.createAccount(OTHER, 1);
    const a = key(ACCOUNT, 1);
    const b = key(ACCOUNT, 2);
    const o = key(OTHER, 3);
    for (const k of [a, b, o]) await store.insertKey(k, 20);
    const alias = (name: string, keyId: string, accountId = ACCOUNT) => ({
      accountId,
      aliasName: name,
      keyId,
      createdAt: 10,
      updatedAt: 10,
    });
    // Byte order, as SQLite compares: upper case, then '-', before 'b'.
    const names = ["alias/b", "alias/a-b", "alias/B", "alias/ab", "alias/a"];
    for (const name of names) await store.createAlias(alias(name, a.keyId), 50);
    await store.createAlias(alias("alias/b", o.keyId, OTHER), 50);
    await assert.rejects(
      store.createAlias(alias("alias/b", b.keyId), 50),
      NameTakenError,
    );
    await assert.rejects(
      store.createAlias(alias("alias/new", a.keyId), 5),
      QuotaReachedError,
    );
    const sorted = ["alias/B", "alias/a", "alias/a-b", "alias/ab", "alias/b"];
    const listed = await store.listAliases(ACCOUNT, undefined, "", 10);
    assert.deepEqual(listed.map((x) => x.aliasName), sorted);
    assert.deepEqual(listed[0], alias("alias/B", a.keyId));
    assert.deepEqual(
      (await store.listAliases(ACCOUNT, undefined, "alias/a", 2)).map((x) =>
        x.aliasName
      ),
      ["alias/a-b", "alias/ab"],
    );
    assert.deepEqual(await store.listAliases(ACCOUNT, b.keyId, "", 10), []);
    // Re-pointing an alias at its own key is no growth; at another key it is.
    await store.updateAlias({ ...alias("alias/a", a.keyId), updatedAt: 11 }, 5);
    await store.updateAlias({ ...alias("alias/a", b.keyId), updatedAt: 12 }, 5);
    assert.deepEqual(await store.getAlias(ACCOUNT, "alias/a"), {
      ...alias("alias/a", b.keyId),
      updatedAt: 12,
    });
    await store.createAlias(alias("alias/second", b.keyId), 2);
    await assert.rejects(
      store.updateAlias(alias("alias/b", b.keyId), 2),
      QuotaReachedError,
    );
    assert.deepEqual(
      (await store.listAliases(ACCOUNT, b.keyId, "", 10)).map((x) =>
        x.aliasName
      ),
      ["alias/a", "alias/second"],
    );
    assert.equal(await store.deleteAlias(ACCOUNT, "alias/a"), true);
    assert.equal(await store.deleteAlias(ACCOUNT, "alias/a"), false);
    assert.equal(await store.getAlias(ACCOUNT, "alias/a"), undefined);
    assert.ok(await store.getAlias(OTHER, "alias/b"));
  }],
  ["the journal: idempotent entries, cleared one by one", async (store) => {
    const [m1, m2] = [materialId(), materialId()];
    await store.journalMaterial(m1, 1);
    await store.journalMaterial(m1, 2);
    await store.journalMaterial(m2, 3);
    assert.deepEqual(await store.journal(), [
      { materialId: m1, since: 1 },
      { materialId: m2, since: 3 },
    ]);
    await store.clearMaterial(m1);
    await store.clearMaterial(m1);
    assert.deepEqual(await store.journal(), [{ materialId: m2, since: 3 }]);
  }],
  ["the token binding: the first one recorded stays", async (store) => {
    assert.equal(await store.tokenBinding(), undefined);
    const first = {
      embedded: true,
      modulePath: "/usr/lib/softhsm/libsofthsm2.so",
      label: "okms",
      serialNumber: "abc",
    };
    // Recorded before material modes: token objects.
    const recorded = { ...first, keyMaterial: "token" };
    assert.deepEqual(await store.bindToken(first), recorded);
    assert.deepEqual(
      await store.bindToken({
        ...first,
        embedded: false,
        label: "other",
        keyMaterial: "wrapped",
      }),
      recorded,
    );
    assert.deepEqual(await store.tokenBinding(), recorded);
  }],
  ["the token binding records the material mode", async (store) => {
    const binding = {
      embedded: false,
      modulePath: "/opt/hsm.so",
      label: "kms",
      serialNumber: "1",
      keyMaterial: "wrapped" as const,
    };
    assert.deepEqual(await store.bindToken(binding), binding);
  }],
  ["wrapped material lives and dies with its version", async (s) => {
    const store = s as MetadataStore & DomainKeyStore;
    await store.createAccount(ACCOUNT, 1);
    const domainKey = materialId();
    await store.journalMaterial(domainKey, 1);
    await store.addDomainKey({ id: domainKey, createdAt: 2 });
    assert.deepEqual(await store.journal(), [], "its journal entry cleared");
    const k = key(ACCOUNT, 1, { versions: [wrappedVersion(1, domainKey)] });
    await store.insertKey(k, 20);
    assert.deepEqual(await store.getKey(k.keyId), k);
    const v2 = wrappedVersion(2, domainKey);
    await store.addVersion(k.keyId, v2);
    const token = version(3); // a token-object version beside wrapped ones
    await store.addVersion(k.keyId, token);
    assert.deepEqual((await store.getKey(k.keyId))!.versions, [
      ...k.versions,
      v2,
      token,
    ]);
    assert.deepEqual(await store.listKeys(ACCOUNT, undefined, 5), [
      { ...k, versions: [...k.versions, v2, token] },
    ]);
    const other = materialId();
    await store.addDomainKey({ id: other, createdAt: 3 });
    assert.equal(
      (await store.wrappedOutside(other, undefined, 10)).length,
      2,
    );
    await store.deleteKey(k.keyId, 5);
    assert.deepEqual(await store.wrappedOutside(other, undefined, 10), []);
    // Nothing is wrapped under it any more: it can go.
    assert.equal(await store.retireDomainKey(domainKey, 6), true);
  }],
  ["domain keys: ordered, re-wrapped under, retired", async (s) => {
    const store = s as MetadataStore & DomainKeyStore;
    await store.createAccount(ACCOUNT, 1);
    const [d1, d2, d0] = [materialId(), materialId(), materialId()];
    await store.addDomainKey({ id: d1, createdAt: 5 });
    await store.addDomainKey({ id: d2, createdAt: 5 });
    await store.addDomainKey({ id: d0, createdAt: 1 });
    // In the order they were added, whatever their clocks said: the last
    // added is the newest.
    assert.deepEqual(await store.domainKeys(), [
      { id: d1, createdAt: 5 },
      { id: d2, createdAt: 5 },
      { id: d0, createdAt: 1 },
    ]);
    await assert.rejects(store.addDomainKey({ id: d1, createdAt: 9 }));
    const keys = [key(ACCOUNT, 1), key(ACCOUNT, 2)].map((k) => ({
      ...k,
      versions: [wrappedVersion(1, d1), wrappedVersion(2, d1)],
    }));
    for (const k of keys) await store.insertKey(k, 20);
    await store.addVersion(keys[0].keyId, wrappedVersion(3, d2));
    const refs = keys.flatMap((k) =>
      [1, 2].map((version) => ({ keyId: k.keyId, version }))
    ).sort((a, b) =>
      a.keyId === b.keyId ? a.version - b.version : a.keyId < b.keyId ? -1 : 1
    );
    assert.deepEqual(await store.wrappedOutside(d2, undefined, 10), refs);
    assert.deepEqual(await store.wrappedOutside(d2, refs[1], 2), refs.slice(2));
    assert.equal(await store.retireDomainKey(d1, 7), false, "still in use");
    const rewrapped = (n: number) => ({
      domainKeyId: d2,
      algorithm: "RFC3394" as const,
      blob: new Uint8Array(40).fill(n),
    });
    for (const [i, ref] of refs.entries()) {
      assert.equal(await store.rewrapVersion(ref, d1, rewrapped(i)), true);
      assert.equal(await store.rewrapVersion(ref, d1, rewrapped(9)), false);
    }
    const first = (await store.getKey(refs[0].keyId))!;
    assert.deepEqual(first.versions[0].wrapped, rewrapped(0));
    assert.equal(
      await store.rewrapVersion(
        { keyId: refs[0].keyId, version: 99 },
        d2,
        rewrapped(1),
      ),
      false,
    );
    assert.deepEqual(await store.wrappedOutside(d2, undefined, 10), []);
    assert.equal(await store.retireDomainKey(d1, 8), true);
    assert.equal(await store.retireDomainKey(d1, 8), false, "gone already");
    assert.deepEqual(await store.journal(), [{ materialId: d1, since: 8 }]);
    assert.deepEqual(
      (await store.domainKeys()).map((d) => d.id),
      [d2, d0],
    );
    // A version wrapped under a retired domain key is refused.
    await assert.rejects(
      store.addVersion(keys[1].keyId, wrappedVersion(3, d1)),
    );
    assert.equal((await store.getKey(keys[1].keyId))!.versions.length, 2);
  }],
];

Deno.test("SqliteStore keeps the MetadataStore contract", async (t) => {
  for (const [name, check] of CHECKS) {
    await t.step(name, async () => {
      const dir = await Deno.makeTempDir({ prefix: "okms-store-" });
      const store = SqliteStore.open(`${dir}/okms.db`);
      try {
        await check(store);
      } finally {
        store.close();
        await Deno.remove(dir, { recursive: true });
      }
    });
  }
});

Deno.test("PostgresStore keeps the same contract", async (t) => {
  await using pg = await startPostgres();
  for (const [name, check] of CHECKS) {
    await t.step(name, async () => {
      await using store = await PostgresStore.open(pg.url, {
        schema: freshSchema(),
      });
      await check(withoutSerials(store));
    });
  }

  await t.step(
    "libpq's URL forms: a Unix socket, settings in the query",
    async () => {
      const { password } = new URL(pg.url);
      for (
        const url of [
          `postgres://okms:${password}@/postgres?host=${pg.dir}&port=${pg.port}`,
          `postgresql:///postgres?host=${pg.dir}&port=${pg.port}&user=okms&password=${password}&schema=by_socket`,
          `${pg.url}?application_name=okms_test&schema=by_query`,
        ]
      ) {
        await using store = await PostgresStore.open(url);
        await store.ping();
      }
      await assert.rejects(
        PostgresStore.open("mysql://localhost/okms"),
        /must start with postgres:\/\//,
      );
    },
  );

  await t.step(
    "the schema is made once, versioned, in its own namespace",
    async () => {
      const schema = freshSchema();
      // Several nodes opening a fresh database at once.
      const stores = await Promise.all(
        [1, 2, 3].map(() => PostgresStore.open(pg.url, { schema })),
      );
      try {
        await stores[0].createAccount(ACCOUNT, 1);
        assert.deepEqual(await stores[2].listAccounts(), [ACCOUNT]);
        // Another schema in the same database is another store.
        await using other = await PostgresStore.open(pg.url, {
          schema: freshSchema(),
        });
        assert.deepEqual(await other.listAccounts(), []);
        // The URL may name the schema.
        await using byUrl = await PostgresStore.open(
          `${pg.url}?schema=${schema}`,
        );
        assert.equal(byUrl.schema, schema);
        assert.deepEqual(await byUrl.listAccounts(), [ACCOUNT]);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
      await using admin = await PostgresStore.open(pg.url, { schema });
      const client = await rawClient(pg.url);
      try {
        const { rows } = await client.query(
          `SELECT version FROM ${schema}.okms_schema`,
        );
        assert.deepEqual(rows, [{ version: POSTGRES_SCHEMA_VERSION }]);
        await client.query(`UPDATE ${schema}.okms_schema SET version = 99`);
      } finally {
        await client.end();
      }
      await assert.rejects(
        PostgresStore.open(pg.url, { schema }),
        new RegExp(
          `has version 99; this okms knows up to ${POSTGRES_SCHEMA_VERSION}: use a newer okms`,
        ),
      );
      await assert.rejects(
        PostgresStore.open(pg.url, { schema: "Robert'); DROP" }),
        TypeError,
      );
      await admin.close();
      await rejectsNamed(admin.listAccounts(), "KMSInternalException");
    },
  );
});

async function rawClient(url: string) {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}
