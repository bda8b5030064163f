/**
 * Two PostgresStore instances on one database, as two okms nodes, racing on
 * the same account and key: each change is serialized, whatever isolation
 * level the database runs at by default (PostgreSQL's READ COMMITTED,
 * YugabyteDB's snapshot, CockroachDB's SERIALIZABLE, where conflicts become
 * retried serialization failures).
 */
import { newKeyRecord } from "./store_records.ts";
import assert from "node:assert/strict";
// @ts-types="@types/pg"
import pg from "pg";
import {
  type AliasRecord,
  type KeyRecord,
  NameTakenError,
  QuotaReachedError,
} from "../lib/metadata_store.ts";
import { PostgresStore } from "../lib/store/postgres_store.ts";
import { freshSchema, startPostgres } from "./postgres_cluster.ts";

const ACCOUNT = "111111111111";

function alias(aliasName: string, keyId: string): AliasRecord {
  return { accountId: ACCOUNT, aliasName, keyId, createdAt: 1, updatedAt: 1 };
}

/** What each settled promise gave: "ok", or the error's name. */
async function outcomes(work: Promise<unknown>[]): Promise<string[]> {
  return (await Promise.allSettled(work)).map((r) =>
    r.status === "fulfilled" ? "ok" : (r.reason as Error).name
  );
}

function count(list: string[], item: string): number {
  return list.filter((x) => x === item).length;
}

const ISOLATION = ["read committed", "repeatable read", "serializable"];

Deno.test("two nodes racing on one key are serialized", async (t) => {
  await using cluster = await startPostgres();
  for (const isolation of ISOLATION) {
    const url = await cluster.createDatabase(isolation.replace(" ", "_"));
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(
      `ALTER DATABASE ${
        isolation.replace(" ", "_")
      } SET default_transaction_isolation = '${isolation}'`,
    );
    await admin.end();

    /** Two nodes on a schema of their own, with the account made. */
    const nodes = async () => {
      const schema = freshSchema();
      const a = await PostgresStore.open(url, { schema, maxConnections: 8 });
      const b = await PostgresStore.open(url, { schema, maxConnections: 8 });
      await a.createAccount(ACCOUNT, 1);
      return {
        a,
        b,
        both: [a, b],
        async [Symbol.asyncDispose]() {
          await a.close();
          await b.close();
        },
      };
    };

    await t.step(`${isolation}: transactions run at that level`, async () => {
      await using n = await nodes();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query("SHOW transaction_isolation");
      await client.end();
      assert.equal(rows[0].transaction_isolation, isolation);
      assert.equal(await n.b.hasAccount(ACCOUNT), true);
    });

    await t.step(
      `${isolation}: the key quota holds under concurrent creates`,
      async () => {
        await using n = await nodes();
        const attempts = Array.from(
          { length: 24 },
          (_, i) => n.both[i % 2].insertKey(newKeyRecord(ACCOUNT), 7),
        );
        const results = await outcomes(attempts);
        assert.equal(count(results, "ok"), 7, results.join());
        assert.equal(
          count(results, QuotaReachedError.name),
          17,
          results.join(),
        );
        assert.equal(await n.a.countKeys(ACCOUNT), 7);
        assert.equal(await n.b.countKeys(ACCOUNT), 7);
      },
    );

    await t.step(
      `${isolation}: one default key and one default account`,
      async () => {
        await using n = await nodes();
        const results = await outcomes(
          Array.from(
            { length: 6 },
            (_, i) =>
              n.both[i % 2].insertKey(
                newKeyRecord(ACCOUNT, { isDefault: true }),
                100,
              ),
          ),
        );
        assert.equal(count(results, "ok"), 1, results.join());
        const schema = freshSchema();
        const first = await Promise.all(
          [1, 2, 3, 4].map(() => PostgresStore.open(url, { schema })),
        );
        await Promise.all(
          first.map((store, i) => store.createAccount(`00000000000${i}`, 5)),
        );
        const [a] = await first[0].listAccounts();
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        const { rows } = await client.query(
          `SELECT id FROM ${schema}.accounts WHERE is_default`,
        );
        await client.end();
        assert.deepEqual(rows, [{ id: a }]);
        await Promise.all(first.map((store) => store.close()));
      },
    );

    await t.step(`${isolation}: reservations never overlap`, async () => {
      await using n = await nodes();
      const key = newKeyRecord(ACCOUNT);
      await n.a.insertKey(key, 10);
      const block = 1_000;
      const max = 70_500;
      const ranges = await Promise.all(
        Array.from(
          { length: 80 },
          (_, i) => n.both[i % 2].reserveEncryptions(key.keyId, 1, block, max),
        ),
      );
      const given = ranges.filter((r) => r !== undefined)
        .sort((x, y) => x.from - y.from);
      assert.equal(given.length, 71);
      assert.equal(ranges.filter((r) => r === undefined).length, 9);
      // Disjoint and contiguous from 0 to max.
      let next = 0;
      for (const { from, to } of given) {
        assert.equal(from, next);
        assert.ok(to > from && to - from <= block);
        next = to;
      }
      assert.equal(next, max);
      const stored = await n.b.getKey(key.keyId);
      assert.equal(stored!.versions[0].encryptionsReserved, max);
    });

    await t.step(
      `${isolation}: concurrent updates land whole, one after the other`,
      async () => {
        await using n = await nodes();
        const key = newKeyRecord(ACCOUNT);
        await n.a.insertKey(key, 10);
        const writes = Array.from({ length: 20 }, (_, i): KeyRecord => ({
          ...key,
          description: `write ${i}`,
          state: i % 2 ? "Disabled" : "Enabled",
          tags: [{ tagKey: "i", tagValue: String(i) }],
          rotationPeriodDays: 90 + i,
          nextRotationAt: 1_000 + i,
        }));
        await Promise.all(writes.map((w, i) => n.both[i % 2].updateKey(w)));
        const final = await n.a.getKey(key.keyId);
        const i = Number(final!.description.split(" ")[1]);
        assert.equal(final!.serial, 20, "each write counted once");
        delete final!.serial;
        assert.deepEqual(final, writes[i]);
      },
    );

    await t.step(
      `${isolation}: one of two nodes adds a version, racing a deletion`,
      async () => {
        await using n = await nodes();
        const key = newKeyRecord(ACCOUNT);
        await n.a.insertKey(key, 10);
        const version = (materialId: Uint8Array) => ({
          version: 2,
          materialId,
          createdAt: 2,
          encryptionsReserved: 0,
          origin: "ON_DEMAND" as const,
        });
        const m1 = crypto.getRandomValues(new Uint8Array(16));
        const m2 = crypto.getRandomValues(new Uint8Array(16));
        const rotations = await outcomes([
          n.a.addVersion(key.keyId, version(m1)),
          n.b.addVersion(key.keyId, version(m2)),
        ]);
        assert.equal(count(rotations, "ok"), 1, rotations.join());
        assert.equal((await n.b.getKey(key.keyId))!.versions.length, 2);

        // A deletion racing reservations, a rotation and updates: each either
        // happened before it or fails; every committed version's material is
        // journaled for destruction.
        const m3 = crypto.getRandomValues(new Uint8Array(16));
        const results = await outcomes([
          n.a.reserveEncryptions(key.keyId, 1, 10, 1_000),
          n.b.addVersion(key.keyId, { ...version(m3), version: 3 }),
          n.b.deleteKey(key.keyId, 99),
          n.a.updateKey({ ...key, description: "late" }),
          n.b.reserveEncryptions(key.keyId, 2, 10, 1_000),
        ]);
        assert.equal(results[2], "ok");
        for (const r of results) {
          assert.ok(["ok", "NotFoundException"].includes(r));
        }
        assert.equal(await n.a.getKey(key.keyId), undefined);
        const journaled = new Set(
          (await n.a.journal()).map((e) => e.materialId.toHex()),
        );
        const expected = [key.versions[0].materialId, m1, m2, m3]
          .map((m) => m.toHex())
          .filter((hex) => journaled.has(hex));
        // Versions 1 and 2 (whichever material won) and 3 if it got in first.
        assert.equal(journaled.size, results[1] === "ok" ? 3 : 2);
        assert.equal(expected.length, journaled.size);
      },
    );

    await t.step(
      `${isolation}: domain keys are added, re-wrapped under and retired safely`,
      async () => {
        await using n = await nodes();
        const id = () => crypto.getRandomValues(new Uint8Array(16));
        const added = Array.from({ length: 6 }, id);
        await Promise.all(
          added.map((d, i) =>
            n.both[i % 2].addDomainKey({ id: d, createdAt: 7 })
          ),
        );
        const order = (await n.a.domainKeys()).map((d) => d.id.toHex());
        assert.deepEqual(new Set(order), new Set(added.map((d) => d.toHex())));
        assert.deepEqual(
          (await n.b.domainKeys()).map((d) => d.id.toHex()),
          order,
        );

        const [d1, d2] = added;
        const wrap = (domainKeyId: Uint8Array, fill: number) => ({
          domainKeyId,
          algorithm: "RFC5649" as const,
          blob: new Uint8Array(40).fill(fill),
        });
        const key = newKeyRecord(ACCOUNT);
        key.versions[0].wrapped = wrap(d1, 1);
        await n.a.insertKey(key, 10);
        const ref = { keyId: key.keyId, version: 1 };
        const won = await Promise.all([
          n.a.rewrapVersion(ref, d1, wrap(d2, 2)),
          n.b.rewrapVersion(ref, d1, wrap(d2, 3)),
        ]);
        assert.equal(won.filter(Boolean).length, 1);
        const stored = (await n.a.getKey(key.keyId))!.versions[0].wrapped!;
        assert.deepEqual(stored, wrap(d2, won[0] ? 2 : 3));

        // Retiring a domain key while the other node wraps a version under
        // it: one or the other, never both.
        for (let round = 0; round < 6; round++) {
          const domainKey = id();
          await n.a.addDomainKey({ id: domainKey, createdAt: 8 });
          const version = {
            ...newKeyRecord(ACCOUNT).versions[0],
            version: 2 + round,
            wrapped: wrap(domainKey, round),
          };
          const [retired, wrote] = await Promise.allSettled([
            n.a.retireDomainKey(domainKey, 9),
            n.b.addVersion(key.keyId, version),
          ]);
          assert.equal(retired.status, "fulfilled");
          const retiredIt = (retired as PromiseFulfilledResult<boolean>).value;
          assert.equal(retiredIt, wrote.status === "rejected", String(round));
          const versions = (await n.b.getKey(key.keyId))!.versions;
          assert.equal(
            versions.some((v) => v.version === version.version),
            !retiredIt,
          );
          if (!retiredIt) {
            // Used now: it stays until nothing is wrapped under it.
            assert.equal(await n.b.retireDomainKey(domainKey, 9), false);
          }
        }
      },
    );

    await t.step(
      `${isolation}: alias names and the alias quota hold across nodes`,
      async () => {
        await using n = await nodes();
        const k1 = newKeyRecord(ACCOUNT);
        const k2 = newKeyRecord(ACCOUNT);
        await n.a.insertKey(k1, 10);
        await n.a.insertKey(k2, 10);
        const same = await outcomes(
          Array.from({ length: 6 }, (_, i) =>
            n.both[i % 2].createAlias(
              alias("alias/same", i % 3 ? k1.keyId : k2.keyId),
              50,
            )),
        );
        assert.equal(count(same, "ok"), 1, same.join());
        assert.equal(count(same, NameTakenError.name), 5, same.join());
        const many = await outcomes(
          Array.from(
            { length: 12 },
            (_, i) =>
              n.both[i % 2].createAlias(alias(`alias/k2-${i}`, k2.keyId), 4),
          ),
        );
        const onK2 = (await n.a.listAliases(ACCOUNT, k2.keyId, "", 100)).length;
        assert.equal(onK2, 4);
        assert.equal(
          count(many, "ok"),
          (await n.a.getAlias(ACCOUNT, "alias/same"))!.keyId === k2.keyId
            ? 3
            : 4,
        );
        // Re-pointing aliases at k1 from both nodes at once: at most 4 land.
        const moved = await outcomes(
          (await n.a.listAliases(ACCOUNT, undefined, "", 100)).map((x, i) =>
            n.both[i % 2].updateAlias({ ...x, keyId: k1.keyId }, 4)
          ),
        );
        assert.equal(
          (await n.b.listAliases(ACCOUNT, k1.keyId, "", 100)).length,
          4,
          moved.join(),
        );
      },
    );
  }
});
