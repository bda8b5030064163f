/**
 * Two cluster nodes in one process (two `Okms` on one data directory's
 * token and one PostgreSQL), for the races a test over HTTP cannot time:
 * a change computed from a stale read is redone, not applied over another
 * node's; automatic rotation advances (its own version and alias changes
 * do not make its record stale); a key deleted elsewhere is gone here.
 */
import assert from "node:assert/strict";
import { JOURNAL_GRACE_MS } from "../lib/key_ring.ts";
import { Okms } from "../mod.ts";
import { startPostgres } from "./postgres_cluster.ts";
import { rejectsNamed, utf8 } from "./helpers.ts";

const DAY_MS = 86_400_000;

Deno.test("two nodes in one process on one PostgreSQL", async (t) => {
  await using pg = await startPostgres();
  const dataDir = await Deno.makeTempDir({ prefix: "okms-nodes-" });
  let clock = Date.now();
  // By default the feed is as good as off: each node's cache stays as it
  // read it, as if the other node's change had just been made.
  const open = async (schema: string, changePollMs = 60_000) =>
    await Okms.open({
      dataDir,
      databaseUrl: `${pg.url}?schema=${schema}`,
      keyMaterial: "wrapped", // a cluster's, whatever mode the suite runs in
      maintenanceIntervalMs: 0,
      changePollMs,
      now: () => clock,
    });
  try {
    await t.step(
      "a change from a stale read is redone on the new state",
      async () => {
        await using a = await open("stale");
        await using b = await open("stale");
        const { keyId } = await a.createKey(); // cached on A, with its serial
        await b.disableKey({ keyId });
        await a.updateKeyDescription({ keyId, description: "from A" });
        await using fresh = await open("stale"); // reads what the store has
        const stored = await fresh.describeKey({ keyId });
        assert.equal(stored.keyState, "Disabled", "B's disable stands");
        assert.equal(stored.description, "from A");
        // A's view was brought up to date by the redo.
        await rejectsNamed(
          a.encrypt({ keyId, plaintext: utf8("x") }),
          "DisabledException",
        );
      },
    );

    await t.step("automatic rotation advances its next date", async () => {
      await using a = await open("rotation");
      const { keyId } = await a.createKey();
      await a.createAlias({ aliasName: "alias/rotating", targetKeyId: keyId });
      await a.enableKeyRotation({ keyId, rotationPeriodInDays: 90 });
      clock += 91 * DAY_MS;
      const first = await a.runMaintenance();
      assert.deepEqual(first.rotated, [keyId]);
      assert.deepEqual(first.failed, []);
      const again = await a.runMaintenance();
      assert.deepEqual(again.rotated, [], "not due again for 90 days");
      const { rotations } = await a.listKeyRotations({ keyId });
      assert.equal(rotations.length, 1);
    });

    await t.step(
      "a key deleted on one node is gone on the other, HSM objects included",
      async () => {
        await using a = await open("deleted", 20);
        await using b = await open("deleted", 20);
        const { keyId } = await a.createKey();
        const { ciphertextBlob } = await b.encrypt({
          keyId,
          plaintext: utf8("soon gone"),
        });
        await a.scheduleKeyDeletion({ keyId, pendingWindowInDays: 7 });
        clock += 8 * DAY_MS + JOURNAL_GRACE_MS;
        assert.deepEqual((await a.runMaintenance()).deleted, [keyId]);
        await new Promise((resolve) => setTimeout(resolve, 200)); // > 4 × 20 ms
        await rejectsNamed(b.describeKey({ keyId }), "NotFoundException");
        await rejectsNamed(
          b.decrypt({ ciphertextBlob }),
          "InvalidCiphertextException",
        );
      },
    );
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
