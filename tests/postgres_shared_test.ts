/**
 * What the PostgreSQL store adds for a cluster (`SharedStore`), on a
 * throwaway cluster, with two stores standing for two nodes: the change
 * feed, conditional key updates, leases and admitted tokens; and the
 * `ChangeFeed` that applies the feed to a node's caches.
 */
import assert from "node:assert/strict";
import { ChangeFeed, type ChangeTarget } from "../lib/change_feed.ts";
import { StaleRecordError, type TokenBinding } from "../lib/metadata_store.ts";
import { PostgresStore } from "../lib/store/postgres_store.ts";
import { freshSchema, startPostgres } from "./postgres_cluster.ts";
import { newKeyRecord } from "./store_records.ts";

const ACCOUNT = "111111111111";

/** A change target that records what it was told. */
function recorder(): ChangeTarget & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    invalidate: (keyId) => seen.push(`key ${keyId}`),
    forgetAliases: () => seen.push("aliases"),
    invalidateAll: () => seen.push("all"),
  };
}

Deno.test("PostgresStore for a cluster", async (t) => {
  await using pg = await startPostgres();
  const nodes = async () => {
    const schema = freshSchema();
    const a = await PostgresStore.open(pg.url, { schema });
    const b = await PostgresStore.open(pg.url, { schema });
    await a.createAccount(ACCOUNT, 1);
    return {
      a,
      b,
      async [Symbol.asyncDispose]() {
        await a.close();
        await b.close();
      },
    };
  };

  await t.step(
    "a write of a record read before another node's change is refused",
    async () => {
      await using n = await nodes();
      const key = newKeyRecord(ACCOUNT);
      await n.a.insertKey(key, 20);
      const onA = (await n.a.getKey(key.keyId))!;
      const onB = (await n.b.getKey(key.keyId))!;
      assert.equal(onA.serial, onB.serial);
      const serial = await n.b.updateKey({ ...onB, state: "Disabled" });
      assert.equal(serial, onB.serial! + 1);
      await assert.rejects(
        n.a.updateKey({ ...onA, description: "stale" }),
        StaleRecordError,
      );
      const stored = (await n.a.getKey(key.keyId))!;
      assert.equal(stored.state, "Disabled", "B's change stands");
      assert.equal(stored.description, "");
      await n.a.updateKey({ ...stored, description: "redone" });
      assert.equal((await n.b.getKey(key.keyId))!.description, "redone");
      // Two nodes adding the same version: the second is told, not failed.
      const version = {
        ...key.versions[0],
        version: 2,
        encryptionsReserved: 0,
      };
      await n.a.addVersion(key.keyId, {
        ...version,
        materialId: crypto.getRandomValues(new Uint8Array(16)),
      });
      await assert.rejects(
        n.b.addVersion(key.keyId, {
          ...version,
          materialId: crypto.getRandomValues(new Uint8Array(16)),
        }),
        StaleRecordError,
      );
    },
  );

  await t.step(
    "every change that others cache is in the feed, in commit order",
    async () => {
      await using n = await nodes();
      const start = await n.b.lastChange();
      const key = newKeyRecord(ACCOUNT);
      await n.a.insertKey(key, 20); // new: nobody has it cached
      const stored = (await n.a.getKey(key.keyId))!;
      await n.a.updateKey({ ...stored, description: "x" });
      await n.a.addVersion(key.keyId, {
        ...key.versions[0],
        version: 2,
        materialId: crypto.getRandomValues(new Uint8Array(16)),
      });
      const alias = {
        accountId: ACCOUNT,
        aliasName: "alias/a",
        keyId: key.keyId,
        createdAt: 1,
        updatedAt: 1,
      };
      await n.a.createAlias(alias, 10);
      await n.a.updateAlias({ ...alias, updatedAt: 2 }, 10);
      await n.a.deleteAlias(ACCOUNT, "alias/a");
      assert.equal(await n.a.deleteAlias(ACCOUNT, "alias/a"), false);
      await n.a.reserveEncryptions(key.keyId, 2, 100, 1_000); // node-local
      await n.a.deleteKey(key.keyId, 3);
      const changes = await n.b.changesSince(start, 100);
      assert.deepEqual(
        changes.map((c) => [c.seq - start, c.keyId, c.aliasAccountId]),
        [
          [1, key.keyId, null],
          [2, key.keyId, null],
          [3, null, ACCOUNT],
          [4, null, ACCOUNT],
          [5, null, ACCOUNT],
          [6, key.keyId, null],
        ],
      );
      assert.equal(await n.b.lastChange(), start + 6);
      // Concurrent changes from two nodes get distinct, gapless seqs.
      const keys = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const k = newKeyRecord(ACCOUNT);
          await n.a.insertKey(k, 20);
          return (await n.a.getKey(k.keyId))!;
        }),
      );
      await Promise.all(
        keys.map((k, i) =>
          [n.a, n.b][i % 2].updateKey({ ...k, description: "c" })
        ),
      );
      const seqs = (await n.a.changesSince(start + 6, 100)).map((c) => c.seq);
      assert.deepEqual(seqs, seqs.map((_, i) => start + 7 + i));
      assert.equal(seqs.length, 10);
      // Pruning keeps the newest.
      await n.a.pruneChanges(Date.now() + 60_000);
      assert.deepEqual(
        (await n.a.changesSince(0, 100)).map((c) => c.seq),
        [start + 16],
      );
    },
  );

  await t.step(
    "ChangeFeed: applies changes, re-reads all after a gap, trusts only fresh reads",
    async () => {
      await using n = await nodes();
      const target = recorder();
      const feed = new ChangeFeed(n.b, 60_000); // polled by hand here
      assert.equal(feed.trusted(), false, "nothing is trusted before start");
      await feed.start(target);
      assert.equal(feed.trusted(), true);
      const key = newKeyRecord(ACCOUNT);
      await n.a.insertKey(key, 20);
      await n.a.updateKey({
        ...(await n.a.getKey(key.keyId))!,
        state: "Disabled",
      });
      await feed.poll();
      assert.deepEqual(target.seen, [`key ${key.keyId}`]);
      // Changes pruned before this node read them: it drops everything.
      const stored = (await n.a.getKey(key.keyId))!;
      await n.a.updateKey({ ...stored, state: "Enabled" });
      await n.a.updateKey({
        ...(await n.a.getKey(key.keyId))!,
        description: "d",
      });
      await n.a.pruneChanges(Date.now() + 60_000);
      await feed.poll();
      assert.deepEqual(target.seen.slice(1), ["all"]);
      await feed.stop();

      // A feed whose reads fail stops being trusted after its bound.
      const short = new ChangeFeed(n.b, 25);
      await short.start(recorder());
      await n.b.close();
      await new Promise((resolve) => setTimeout(resolve, short.boundMs + 150));
      assert.equal(short.trusted(), false);
      await short.stop();
    },
  );

  await t.step(
    "a lease is one node's until it gives it up or it runs out (by the database's clock)",
    async () => {
      await using n = await nodes();
      assert.equal(await n.a.takeLease("maintenance", "A", 60_000), true);
      assert.equal(await n.b.takeLease("maintenance", "B", 60_000), false);
      assert.equal(
        await n.a.takeLease("maintenance", "A", 150),
        true,
        "renewed",
      );
      assert.equal(await n.b.takeLease("maintenance", "B", 60_000), false);
      await new Promise((resolve) => setTimeout(resolve, 250));
      assert.equal(await n.b.takeLease("maintenance", "B", 60_000), true);
      await n.a.releaseLease("maintenance", "A"); // not A's any more: no effect
      assert.equal(await n.a.takeLease("maintenance", "A", 60_000), false);
      await n.b.releaseLease("maintenance", "B");
      assert.equal(await n.a.takeLease("maintenance", "A", 60_000), true);
      assert.equal(await n.b.takeLease("setup", "B", 60_000), true);
    },
  );

  await t.step(
    "versions, deletions and aliases are refused on a stale serial; only a key's own changes bump it",
    async () => {
      await using n = await nodes();
      const key = newKeyRecord(ACCOUNT);
      assert.equal(await n.a.insertKey(key, 20), 0);
      const alias = {
        accountId: ACCOUNT,
        aliasName: "alias/k",
        keyId: key.keyId,
        createdAt: 1,
        updatedAt: 1,
      };
      await n.a.createAlias(alias, 10);
      const version = (v: number) => ({
        ...key.versions[0],
        version: v,
        materialId: crypto.getRandomValues(new Uint8Array(16)),
      });
      await n.a.addVersion(key.keyId, version(2), 0);
      assert.equal((await n.b.getKey(key.keyId))!.serial, 0);
      await n.b.updateKey({
        ...(await n.b.getKey(key.keyId))!,
        state: "Disabled",
      });
      await assert.rejects(
        n.a.addVersion(key.keyId, version(3), 0),
        StaleRecordError,
      );
      await assert.rejects(n.a.deleteKey(key.keyId, 5, 0), StaleRecordError);
      assert.equal((await n.a.getKey(key.keyId))!.versions.length, 2, "kept");
      assert.ok((await n.a.deleteKey(key.keyId, 5, 1)).length === 2);
      assert.deepEqual(
        await n.a.deleteKey(key.keyId, 6, 1),
        [],
        "gone already",
      );
    },
  );

  await t.step(
    "the first token bound is admitted; others once admitted",
    async () => {
      await using n = await nodes();
      const token = (serialNumber: string): TokenBinding => ({
        embedded: true,
        modulePath: "/usr/lib/softhsm/libsofthsm2.so",
        label: "okms",
        serialNumber,
        keyMaterial: "wrapped",
      });
      assert.deepEqual(await n.a.admittedTokens(), []);
      await n.a.bindToken(token("1"));
      await n.b.bindToken(token("2")); // bound already: not admitted by this
      assert.deepEqual(await n.b.admittedTokens(), [token("1")]);
      await n.b.admitToken(token("2"), 5);
      await n.b.admitToken(token("2"), 6);
      assert.deepEqual(await n.a.admittedTokens(), [token("1"), token("2")]);
    },
  );
});
