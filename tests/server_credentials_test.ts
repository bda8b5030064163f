/**
 * Access keys revoked by another process (the admin CLI has its own
 * connection to the table) stop working within `REVALIDATE_MS`, on an
 * injected clock; revoked through the server's own object, at once; and a
 * lookup under way when the table changes caches nothing it read.
 */
import assert from "node:assert/strict";
import { AccessKeyStore } from "../server/access_key_store.ts";
import {
  accessKeyDbPath,
  Credentials,
  REVALIDATE_MS,
} from "../server/credentials.ts";
import { openTestOkms } from "./helpers.ts";

Deno.test("a revocation elsewhere takes effect within REVALIDATE_MS", async () => {
  await using fixture = await openTestOkms();
  const { okms, dataDir } = fixture;
  let now = 0;
  await using credentials = await Credentials.open(
    okms,
    AccessKeyStore.open(accessKeyDbPath(dataDir)),
    { clock: () => now },
  );
  const revokedElsewhere = await credentials.createAccessKey(okms.accountId);
  const revokedHere = await credentials.createAccessKey(okms.accountId);
  for (const key of [revokedElsewhere, revokedHere]) {
    assert.ok(await credentials.resolve(key.accessKeyId), "active, cached");
  }

  await using other = AccessKeyStore.open(accessKeyDbPath(dataDir));
  await other.revoke(revokedElsewhere.accessKeyId, Date.now());
  now += REVALIDATE_MS / 2;
  assert.ok(
    await credentials.resolve(revokedElsewhere.accessKeyId),
    "still trusted inside the bound",
  );
  now += REVALIDATE_MS / 2;
  assert.equal(
    await credentials.resolve(revokedElsewhere.accessKeyId),
    undefined,
  );

  await credentials.revokeAccessKey(revokedHere.accessKeyId);
  assert.equal(await credentials.resolve(revokedHere.accessKeyId), undefined);

  // A key created elsewhere is found at once: it is not in the cache.
  const store = AccessKeyStore.open(accessKeyDbPath(dataDir));
  await using beside = await Credentials.open(okms, store);
  const fresh = await beside.createAccessKey(okms.accountId);
  assert.ok(await credentials.resolve(fresh.accessKeyId));
});

Deno.test("a lookup that spans a revocation seen elsewhere caches nothing", async () => {
  await using fixture = await openTestOkms();
  const { okms, dataDir } = fixture;
  const table = AccessKeyStore.open(accessKeyDbPath(dataDir));
  // The first read of `slow` is held back after reading it: what it read
  // is stale by the time it returns.
  const read = Promise.withResolvers<void>();
  const held = Promise.withResolvers<void>();
  let holding = true;
  const get = table.get.bind(table);
  table.get = async (id) => {
    const row = await get(id);
    if (id === slow.accessKeyId && holding) {
      holding = false;
      read.resolve();
      await held.promise;
    }
    return row;
  };
  let now = 0;
  await using credentials = await Credentials.open(okms, table, {
    clock: () => now,
  });
  const slow = await credentials.createAccessKey(okms.accountId);
  const other = await credentials.createAccessKey(okms.accountId);
  const resolving = credentials.resolve(slow.accessKeyId);
  await read.promise;
  await using elsewhere = AccessKeyStore.open(accessKeyDbPath(dataDir));
  await elsewhere.revoke(slow.accessKeyId, Date.now());
  now += REVALIDATE_MS;
  assert.ok(await credentials.resolve(other.accessKeyId)); // sees the change
  held.resolve();
  assert.equal(await resolving, undefined, "read again, and found revoked");
  assert.equal(await credentials.resolve(slow.accessKeyId), undefined);
});
