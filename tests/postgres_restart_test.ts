/**
 * A PostgresStore outlives its database's restarts and outages: calls fail
 * cleanly (an error, within the bounded connect and statement times, not a
 * hang) while it is down or hung, and work again after, without reopening.
 */
import { newKeyRecord } from "./store_records.ts";
import assert from "node:assert/strict";
import type { KeyRecord } from "../lib/metadata_store.ts";
import {
  PostgresStore,
  PostgresUnavailableError,
} from "../lib/store/postgres_store.ts";
import { PostgresAccessKeyStore } from "../lib/store/postgres_access_keys.ts";
import { freshSchema, startPostgres } from "./postgres_cluster.ts";

const ACCOUNT = "111111111111";
const CONNECT_TIMEOUT_MS = 1_000;
const STATEMENT_TIMEOUT_MS = 1_500;

/** Settles `promise`; fails the test if it takes longer than `ms`. */
async function within<T>(
  ms: number,
  promise: Promise<T>,
): Promise<PromiseSettledResult<T> & { ms: number }> {
  const start = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hung for ${ms} ms`)), ms);
  });
  try {
    const value = await Promise.race([promise, hung]);
    return { status: "fulfilled", value, ms: performance.now() - start };
  } catch (reason) {
    if ((reason as Error).message === `hung for ${ms} ms`) throw reason;
    return { status: "rejected", reason, ms: performance.now() - start };
  } finally {
    clearTimeout(timer);
  }
}

/** One call of each kind: a read, a transaction, an atomic add, a ping. */
function kinds(
  store: PostgresStore,
  key: KeyRecord,
): (() => Promise<unknown>)[] {
  return [
    () => store.getKey(key.keyId),
    () => store.insertKey(newKeyRecord(ACCOUNT), 1_000),
    () => store.reserveEncryptions(key.keyId, 1, 10, 1_000_000),
    () => store.ping(),
  ];
}

async function assertAllUnavailable(
  store: PostgresStore,
  key: KeyRecord,
  bound: number,
): Promise<void> {
  for (const call of kinds(store, key)) {
    const result = await within(bound + 2_000, call());
    assert.equal(result.status, "rejected");
    const reason = (result as PromiseRejectedResult).reason;
    assert.ok(
      reason instanceof PostgresUnavailableError,
      `${reason?.name}: ${reason?.message}`,
    );
    assert.equal(reason.name, "DependencyTimeoutException");
    assert.ok(result.ms < bound + 1_000, `${result.ms} ms`);
  }
}

async function assertAllWork(store: PostgresStore, key: KeyRecord) {
  for (const call of kinds(store, key)) {
    const result = await within(5_000, call());
    assert.equal(
      result.status,
      "fulfilled",
      String((result as PromiseRejectedResult).reason),
    );
  }
}

Deno.test("the store survives restarts and outages of PostgreSQL", async (t) => {
  await using pg = await startPostgres();
  const options = {
    schema: freshSchema(),
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    statementTimeoutMs: STATEMENT_TIMEOUT_MS,
    maxConnections: 4,
  };
  await using store = await PostgresStore.open(pg.url, options);
  await store.createAccount(ACCOUNT, 1);
  const key = newKeyRecord(ACCOUNT);
  await store.insertKey(key, 1_000);
  await assertAllWork(store, key);

  await t.step(
    "pg_ctl restart: calls under way fail cleanly, the next ones work",
    async () => {
      const during = Array.from(
        { length: 40 },
        (_, i) => within(10_000, kinds(store, key)[i % 4]()),
      );
      await pg.restart();
      for (const result of await Promise.all(during)) {
        if (result.status === "rejected") {
          assert.ok(
            result.reason instanceof PostgresUnavailableError,
            String(result.reason),
          );
        }
      }
      // The pool's connections were all cut: the very next calls reconnect.
      await assertAllWork(store, key);
      assert.equal((await store.getKey(key.keyId))!.keyId, key.keyId);
    },
  );

  await t.step(
    "while it is down, calls fail within the connect timeout",
    async () => {
      await pg.halt();
      try {
        await assertAllUnavailable(store, key, CONNECT_TIMEOUT_MS);
      } finally {
        await pg.start();
      }
      await assertAllWork(store, key);
    },
  );

  await t.step(
    "while it hangs, calls fail within the statement or connect timeout",
    async () => {
      await pg.freeze();
      try {
        // Pooled connections hang on their statement; new ones on the handshake.
        await assertAllUnavailable(store, key, STATEMENT_TIMEOUT_MS + 1_000);
      } finally {
        await pg.thaw();
      }
      await assertAllWork(store, key);
      const reserved = await store.reserveEncryptions(key.keyId, 1, 10, 1e9);
      assert.ok(reserved !== undefined);
    },
  );

  await t.step("the access key table survives a restart too", async () => {
    await using keys = await PostgresAccessKeyStore.open(pg.url, options);
    await keys.insert("AKIAEXAMPLE", ACCOUNT, new Uint8Array([1, 2]), 1);
    const before = await keys.dataVersion();
    await pg.restart();
    assert.equal(await keys.dataVersion(), before);
    assert.equal((await keys.get("AKIAEXAMPLE"))!.status, "Active");
  });
});
