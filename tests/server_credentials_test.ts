/**
 * Access keys revoked by another process (the admin CLI has its own
 * connection to the table) stop working within `REVALIDATE_MS`, on an
 * injected clock; revoked through the server's own object, at once.
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
  using credentials = await Credentials.open(
    okms,
    AccessKeyStore.open(accessKeyDbPath(dataDir)),
    { clock: () => now },
  );
  const revokedElsewhere = await credentials.createAccessKey(okms.accountId);
  const revokedHere = await credentials.createAccessKey(okms.accountId);
  for (const key of [revokedElsewhere, revokedHere]) {
    assert.ok(await credentials.resolve(key.accessKeyId), "active, cached");
  }

  using other = AccessKeyStore.open(accessKeyDbPath(dataDir));
  other.revoke(revokedElsewhere.accessKeyId, Date.now());
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

  credentials.revokeAccessKey(revokedHere.accessKeyId);
  assert.equal(await credentials.resolve(revokedHere.accessKeyId), undefined);

  // A key created elsewhere is found at once: it is not in the cache.
  const store = AccessKeyStore.open(accessKeyDbPath(dataDir));
  using beside = await Credentials.open(okms, store);
  const fresh = await beside.createAccessKey(okms.accountId);
  assert.ok(await credentials.resolve(fresh.accessKeyId));
});
