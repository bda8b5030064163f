/**
 * PostgresAccessKeyStore: the server's access key table on PostgreSQL,
 * shared by nodes, answering as the SQLite AccessKeyStore does (both are
 * `AccessKeys`).
 */
import assert from "node:assert/strict";
import { AccessKeyStore } from "../server/access_key_store.ts";
import type { AccessKeys } from "../lib/store/access_keys.ts";
import { PostgresAccessKeyStore } from "../lib/store/postgres_access_keys.ts";
import { freshSchema, startPostgres } from "./postgres_cluster.ts";
import { rejectsNamed } from "./helpers.ts";

const A = "111111111111";
const B = "222222222222";

async function exercise(table: AccessKeys): Promise<unknown[]> {
  const seen: unknown[] = [];
  seen.push(await table.meta("first-start"));
  seen.push(await table.initMeta("first-start", "one"));
  seen.push(await table.initMeta("first-start", "two"));
  seen.push(await table.meta("first-start"));
  await table.insert("AKIA2", B, new Uint8Array([9, 8, 7]), 20);
  await table.insert("AKIA1", A, new Uint8Array([0, 255]), 10);
  await table.insert("AKIA3", A, new Uint8Array(64).fill(1), 30);
  await assert.rejects(table.insert("AKIA1", B, new Uint8Array(), 5));
  seen.push(await table.get("AKIA1"));
  seen.push(await table.get("AKIA9"));
  seen.push(await table.list());
  seen.push(await table.list(A));
  seen.push(await table.revoke("AKIA1", 100));
  seen.push(await table.revoke("AKIA1", 200)); // the first date stays
  seen.push(await table.get("AKIA1"));
  await rejectsNamed(table.revoke("AKIA9", 1), "NotFoundException");
  seen.push(await table.list());
  return seen;
}

Deno.test("PostgresAccessKeyStore answers as the SQLite AccessKeyStore", async () => {
  const dir = await Deno.makeTempDir({ prefix: "okms-access-" });
  let expected: unknown[];
  try {
    await using sqlite = AccessKeyStore.open(`${dir}/access_keys.db`);
    expected = await exercise(sqlite);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  await using pg = await startPostgres();
  await using store = await PostgresAccessKeyStore.open(pg.url, {
    schema: freshSchema(),
  });
  assert.deepEqual(await exercise(store), expected);
});

Deno.test("the data version shows every node's changes, and only changes", async () => {
  await using pg = await startPostgres();
  const schema = freshSchema();
  await using one = await PostgresAccessKeyStore.open(pg.url, { schema });
  await using two = await PostgresAccessKeyStore.open(pg.url, { schema });
  const v0 = await one.dataVersion();
  assert.equal(await two.dataVersion(), v0);
  await two.insert("AKIA1", A, new Uint8Array([1]), 1);
  const v1 = await one.dataVersion();
  assert.notEqual(v1, v0);
  assert.equal(await one.dataVersion(), v1, "no change, same version");
  await one.initMeta("x", "y");
  await one.get("AKIA1");
  await one.list();
  assert.equal(await two.dataVersion(), v1, "settings and reads are no change");
  await two.revoke("AKIA1", 5);
  const v2 = await one.dataVersion();
  assert.notEqual(v2, v1);
  await two.revoke("AKIA1", 6); // revoked already: nothing changed
  assert.equal(await one.dataVersion(), v2);
  assert.equal((await one.get("AKIA1"))!.revokedAt, 5);
  // Inserts from both nodes at once are all counted.
  await Promise.all(
    Array.from(
      { length: 10 },
      (_, i) =>
        (i % 2 ? one : two).insert(`AKIAC${i}`, B, new Uint8Array([i]), 10 + i),
    ),
  );
  assert.equal(await two.dataVersion(), v2 + 10);
  assert.equal((await one.list(B)).length, 10);
  // Two first starts at once agree on one value.
  const values = await Promise.all(
    Array.from(
      { length: 6 },
      (_, i) => (i % 2 ? one : two).initMeta("internal-account", `value ${i}`),
    ),
  );
  assert.equal(new Set(values).size, 1);
});
