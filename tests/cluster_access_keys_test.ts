/**
 * The server's access keys in a cluster: Credentials over PostgreSQL, each
 * with connections of its own, stand for nodes, served over real HTTP to
 * the AWS SDK. A key made on one node works on another; a revocation on one
 * (or by the admin CLI) is refused by another within REVALIDATE_MS; while
 * the database is down, cached keys serve only within that bound, then
 * requests fail with DependencyTimeoutException until it is back. The first
 * tests share one okms (on SQLite, for the key that seals the secrets)
 * between nodes that are Credentials; the last runs `startServer` on the
 * database, with the admin CLI beside it.
 */
import assert from "node:assert/strict";
import { KMSClient, ListKeysCommand } from "./aws_sdk.ts";
import { PostgresAccessKeyStore } from "../lib/store/postgres_access_keys.ts";
import type { Okms } from "../mod.ts";
import { createApp } from "../server/app.ts";
import {
  Credentials,
  type CredentialsOptions,
  type NewAccessKey,
  RECHECK_MS,
  REVALIDATE_MS,
} from "../server/credentials.ts";
import { Listener } from "../server/listener.ts";
import { startServer } from "../server/serve.ts";
import { openTestOkms } from "./helpers.ts";
import { freshSchema, startPostgres } from "./postgres_cluster.ts";
import { rejectsWith } from "./sdk_helpers.ts";
import { admin } from "./server_processes.ts";

/** One node's access keys and HTTP face. */
interface Node extends AsyncDisposable {
  credentials: Credentials;
  /** Internal faults the app logged. */
  faults: string[];
  /** Lists keys signed with `key`, as an SDK client of this node. */
  listKeys(key: NewAccessKey): Promise<unknown>;
}

async function startNode(
  okms: Okms,
  databaseUrl: string,
  options: CredentialsOptions = {},
): Promise<Node> {
  const credentials = await Credentials.open(
    okms,
    await PostgresAccessKeyStore.open(databaseUrl),
    options,
  );
  const faults: string[] = [];
  const listener = Listener.serve(
    { hostname: "127.0.0.1", port: 0 },
    createApp({ okms, credentials, faultLog: (line) => faults.push(line) })
      .fetch,
  );
  const endpoint = listener.url("http");
  return {
    credentials,
    faults,
    listKeys: (key) =>
      new KMSClient({
        endpoint,
        region: okms.config.region,
        credentials: key,
        maxAttempts: 1,
      }).send(new ListKeysCommand({})),
    async [Symbol.asyncDispose]() {
      await listener.stop(1_000);
      await credentials.close();
    },
  };
}

/** Calls `attempt` until it throws; returns the error and how long it took. */
async function untilRefused(
  attempt: () => Promise<unknown>,
  limitMs: number,
): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  while (performance.now() - started < limitMs) {
    try {
      await attempt();
    } catch (error) {
      return { error, ms: performance.now() - started };
    }
    await new Promise((done) => setTimeout(done, 20));
  }
  throw new Error(`still accepted after ${limitMs} ms`);
}

/** Calls `attempt` until it succeeds, for at most `limitMs`. */
async function untilAccepted(
  attempt: () => Promise<unknown>,
  limitMs: number,
): Promise<void> {
  const started = performance.now();
  for (;;) {
    try {
      return void await attempt();
    } catch (error) {
      if (performance.now() - started > limitMs) throw error;
    }
    await new Promise((done) => setTimeout(done, 50));
  }
}

Deno.test("access keys across cluster nodes", async (t) => {
  await using pg = await startPostgres();
  await using fixture = await openTestOkms();
  const { okms } = fixture;
  const url = `${pg.url}?schema=${freshSchema()}`;
  await using one = await startNode(okms, url);
  await using two = await startNode(okms, url);

  await t.step("both nodes seal with one internal account", () => {
    assert.equal(
      one.credentials.internalAccountId,
      two.credentials.internalAccountId,
    );
  });

  const fromOne = await one.credentials.createAccessKey(okms.accountId);
  const fromTwo = await two.credentials.createAccessKey(okms.accountId);

  await t.step("a key made on one node works on every node", async () => {
    for (const node of [one, two]) {
      for (const key of [fromOne, fromTwo]) await node.listKeys(key);
    }
  });

  await t.step(
    "a revocation on one node reaches the other within REVALIDATE_MS",
    async () => {
      await two.listKeys(fromOne); // cached there
      const revoking = performance.now();
      await one.credentials.revokeAccessKey(fromOne.accessKeyId);
      await rejectsWith(
        one.listKeys(fromOne),
        "UnrecognizedClientException",
        400,
      );
      const { error } = await untilRefused(
        () => two.listKeys(fromOne),
        REVALIDATE_MS * 5,
      );
      const ms = performance.now() - revoking;
      await rejectsWith(
        Promise.reject(error),
        "UnrecognizedClientException",
        400,
      );
      // The bound, and one HTTP round trip of slack.
      assert.ok(ms <= REVALIDATE_MS + 250, `refused after ${ms} ms`);
      await two.listKeys(fromTwo); // the others still work
    },
  );

  await t.step("the admin CLI lists and revokes a cluster's keys", async () => {
    const listed = await admin(["list-access-keys", "--database-url", url]);
    assert.equal(listed.code, 0, listed.stderr);
    const byId = new Map(
      (listed.json as { accessKeyId: string; status: string }[]).map((k) => [
        k.accessKeyId,
        k.status,
      ]),
    );
    assert.equal(byId.get(fromOne.accessKeyId), "Revoked");
    assert.equal(byId.get(fromTwo.accessKeyId), "Active");
    assert.ok(!listed.stderr.includes(fromTwo.secretAccessKey));

    await one.listKeys(fromTwo); // cached on both nodes
    const revoked = await admin(
      ["revoke-access-key", fromTwo.accessKeyId, "--database-url", url],
    );
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((revoked.json as { status: string }).status, "Revoked");
    for (const node of [one, two]) {
      const { error, ms } = await untilRefused(
        () => node.listKeys(fromTwo),
        REVALIDATE_MS * 5,
      );
      await rejectsWith(
        Promise.reject(error),
        "UnrecognizedClientException",
        400,
      );
      assert.ok(ms <= REVALIDATE_MS + 250, `refused after ${ms} ms`);
    }
  });
  assert.deepEqual([...one.faults, ...two.faults], []);
});

Deno.test("while the database is down, cached keys serve only within REVALIDATE_MS", async () => {
  await using pg = await startPostgres();
  await using fixture = await openTestOkms();
  const { okms } = fixture;
  const url = `${pg.url}?schema=${freshSchema()}`;
  let now = 0;
  const warnings: string[] = [];
  await using node = await startNode(okms, url, {
    clock: () => now,
    warn: (line) => warnings.push(line),
  });
  const cached = await node.credentials.createAccessKey(okms.accountId);
  const uncached = await node.credentials.createAccessKey(okms.accountId);
  await node.listKeys(cached);

  await pg.halt();
  now += REVALIDATE_MS - 1;
  await node.listKeys(cached); // within the bound: no database needed
  await rejectsWith(
    node.listKeys(uncached),
    "DependencyTimeoutException",
    503,
  );
  now += 1;
  await rejectsWith(node.listKeys(cached), "DependencyTimeoutException", 503);
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0], /access key database is unreachable/);
  const password = new URL(pg.url).password;
  assert.ok(!warnings[0].includes(password), "no password in the log");

  await pg.start();
  // The failed check answers for RECHECK_MS; then the next one reconnects.
  await rejectsWith(node.listKeys(cached), "DependencyTimeoutException", 503);
  now += RECHECK_MS;
  await node.listKeys(cached);
  await node.listKeys(uncached);
  assert.equal(warnings.length, 2);
  assert.match(warnings[1], /answers again/);
  assert.deepEqual(node.faults, [], "no internal fault logged");
});

Deno.test("the admin CLI says when a cluster's database is unreachable", async () => {
  const pg = await startPostgres();
  const url = `${pg.url}?schema=${freshSchema()}`;
  await (await PostgresAccessKeyStore.open(url)).close();
  await pg.stop();
  const listed = await admin(["list-access-keys", "--database-url", url]);
  assert.equal(listed.code, 1);
  assert.match(listed.stderr, /access key database is unreachable/);
  assert.ok(!listed.stderr.includes(new URL(url).password));
});

Deno.test("startServer on a database: a cluster node's access keys", async (t) => {
  await using pg = await startPostgres();
  const url = `${pg.url}?schema=${freshSchema()}`;
  const dataDir = await Deno.makeTempDir({ prefix: "okms-cluster-keys-" });
  const lines: string[] = [];
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    okms: { dataDir, databaseUrl: url, keyMaterial: "wrapped" },
    clockSkewSeconds: 300,
    auditLog: `${dataDir}/audit.log`,
  }, (line) => lines.push(line));
  const listKeys = (key: { accessKeyId: string; secretAccessKey: string }) =>
    new KMSClient({
      endpoint: server.url,
      region: server.okms.config.region,
      credentials: key,
      maxAttempts: 1,
    }).send(new ListKeysCommand({}));
  const nodeArgs = ["--database-url", url, "--data-dir", dataDir];
  try {
    await t.step("the banner names the database, never its password", () => {
      const banner = lines.join("\n");
      const { port, password } = new URL(pg.url);
      assert.match(
        banner,
        new RegExp(
          `Cluster node: keys and access keys in PostgreSQL 127\\.0\\.0\\.1:${port}/postgres \\(schema t_[0-9a-f]+\\)`,
        ),
      );
      assert.match(banner, /list-access-keys --data-dir \S+ --database-url </);
      assert.ok(!banner.includes(password));
      assert.ok(!banner.includes(server.firstAccessKey!.secretAccessKey));
    });

    await t.step("the first access key is the cluster's", async () => {
      await listKeys(server.firstAccessKey!);
      const store = await PostgresAccessKeyStore.open(url);
      try {
        const listed = await store.list();
        assert.deepEqual(listed.map((k) => k.accessKeyId), [
          server.firstAccessKey!.accessKeyId,
        ]);
      } finally {
        await store.close();
      }
    });

    await t.step(
      "admin create-account and create-access-key beside the node",
      async () => {
        const account = await admin(["create-account", ...nodeArgs]);
        assert.equal(account.code, 0, account.stderr);
        const made = account.json as NewAccessKey;
        await listKeys(made);
        const key = await admin([
          "create-access-key",
          "--account",
          made.accountId,
          ...nodeArgs,
        ]);
        assert.equal(key.code, 0, key.stderr);
        await listKeys(key.json as NewAccessKey);
        const revoked = await admin([
          "revoke-access-key",
          (key.json as NewAccessKey).accessKeyId,
          ...nodeArgs,
        ]);
        assert.equal(revoked.code, 0, revoked.stderr);
        const { error, ms } = await untilRefused(
          () => listKeys(key.json as NewAccessKey),
          REVALIDATE_MS * 5,
        );
        await rejectsWith(
          Promise.reject(error),
          "UnrecognizedClientException",
          400,
        );
        assert.ok(ms <= REVALIDATE_MS + 250, `refused after ${ms} ms`);
      },
    );

    await t.step(
      "a database outage: DependencyTimeoutException past the bound, then recovery",
      async () => {
        const key = server.firstAccessKey!;
        await listKeys(key);
        const halting = performance.now();
        await pg.halt();
        // The last successful check started before the halt: past the bound,
        // every request needs another one.
        const left = halting + REVALIDATE_MS - performance.now();
        await new Promise((done) => setTimeout(done, Math.max(0, left)));
        await rejectsWith(listKeys(key), "DependencyTimeoutException", 503);
        await pg.start();
        await untilAccepted(() => listKeys(key), 10_000);
        const log = lines.join("\n");
        assert.match(log, /access key database is unreachable/);
        assert.match(log, /access key database answers again/);
        assert.ok(!log.includes(new URL(pg.url).password));
        assert.doesNotMatch(log, /"fault"/, "no internal fault logged");
      },
    );
  } finally {
    await server.shutdown();
    await Deno.remove(dataDir, { recursive: true });
  }
});
