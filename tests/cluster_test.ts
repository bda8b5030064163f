/**
 * Several okms server processes on one PostgreSQL, as an operator runs them
 * (`server/main.ts --database-url …`), driven by the AWS SDK: keys and
 * ciphertexts cross nodes, a change on one node reaches the other within
 * the stated bound, a node killed with SIGKILL under load loses no
 * acknowledged ciphertext while the other keeps answering, and a database
 * restart is survived without restarting the nodes.
 */
import assert from "node:assert/strict";
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  KMSClient,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
} from "./aws_sdk.ts";
import { startPostgres } from "./postgres_cluster.ts";
import {
  firstCredentials,
  type Server,
  startMain,
} from "./server_processes.ts";
import { PostgresStore } from "../lib/store/postgres_store.ts";

/** How often the nodes read the change feed; they apply changes within 4×. */
const POLL_MS = 100;
const BOUND_MS = 4 * POLL_MS;

/** Runs `probe` until it returns true, for at most `ms`; returns how long it took. */
async function within(ms: number, probe: () => Promise<boolean>) {
  const start = performance.now();
  while (!await probe()) {
    if (performance.now() - start > ms) return Infinity;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return performance.now() - start;
}

/** The error name a call fails with, or "ok". */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return (error as Error).name;
  }
}

const plaintext = new TextEncoder().encode("cluster");

Deno.test("two okms nodes on one PostgreSQL", async (t) => {
  await using pg = await startPostgres();
  const url = await pg.createDatabase("cluster");
  const dir = await Deno.makeTempDir({ prefix: "okms-cluster-" });
  const common = [
    "--database-url",
    url,
    "--data-dir",
    `${dir}/data`,
    "--change-poll-ms",
    String(POLL_MS),
    "--audit-log",
    `${dir}/audit.log`,
  ];
  const nodeArgs = [...common, "--port", "0"];
  const servers: Server[] = [];
  const start = async () => {
    const server = await startMain(nodeArgs);
    servers.push(server);
    return server;
  };
  try {
    const a = await start();
    const b = await start();
    assert.match(a.banner, /First start/);
    assert.doesNotMatch(b.banner, /First start/, "one first start per cluster");
    const credentials = await firstCredentials(`${dir}/data/credentials`);
    const client = (server: Server) =>
      new KMSClient({
        endpoint: server.url,
        region: "eu-west-2",
        credentials,
        maxAttempts: 1,
      });
    const [onA, onB] = [client(a), client(b)];

    let keyId = "";
    await t.step(
      "a key made on one node serves on the other at once",
      async () => {
        keyId = (await onA.send(new CreateKeyCommand({})))
          .KeyMetadata!.KeyId!;
        const fromB = await onB.send(
          new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }),
        );
        const fromA = await onA.send(
          new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }),
        );
        for (const [node, blob] of [[onA, fromB], [onB, fromA]] as const) {
          const back = await node.send(
            new DecryptCommand({ CiphertextBlob: blob.CiphertextBlob }),
          );
          assert.deepEqual(back.Plaintext, plaintext);
        }
      },
    );

    const encryptOnB = () =>
      outcome(
        onB.send(new EncryptCommand({ KeyId: keyId, Plaintext: plaintext })),
      );

    await t.step(
      `a change on one node holds on the other within ${BOUND_MS} ms`,
      async () => {
        assert.equal(await encryptOnB(), "ok"); // cached on B
        await onA.send(new DisableKeyCommand({ KeyId: keyId }));
        const disabled = await within(
          BOUND_MS + 2_000,
          async () => await encryptOnB() === "DisabledException",
        );
        assert.ok(disabled <= BOUND_MS + 2_000, "B refuses the disabled key");
        await onA.send(new EnableKeyCommand({ KeyId: keyId }));
        assert.ok(
          await within(
            BOUND_MS + 2_000,
            async () => await encryptOnB() === "ok",
          ),
          "and serves it again once enabled",
        );

        // An alias moved on A is followed by B.
        const other = (await onA.send(new CreateKeyCommand({}))).KeyMetadata!
          .KeyId!;
        await onA.send(
          new CreateAliasCommand({
            AliasName: "alias/moving",
            TargetKeyId: keyId,
          }),
        );
        const viaAlias = async () =>
          (await onB.send(
            new EncryptCommand({ KeyId: "alias/moving", Plaintext: plaintext }),
          )).KeyId!;
        assert.match(await viaAlias(), new RegExp(keyId));
        await onA.send(
          new UpdateAliasCommand({
            AliasName: "alias/moving",
            TargetKeyId: other,
          }),
        );
        assert.ok(
          await within(
            BOUND_MS + 2_000,
            async () => (await viaAlias()).endsWith(other),
          ) < Infinity,
          "B follows the alias",
        );

        // A version made on A decrypts on B at once.
        await onA.send(new RotateKeyOnDemandCommand({ KeyId: keyId }));
        const rotated = await onA.send(
          new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }),
        );
        const back = await onB.send(
          new DecryptCommand({ CiphertextBlob: rotated.CiphertextBlob }),
        );
        assert.deepEqual(back.Plaintext, plaintext);

        // Deletion scheduled on A.
        await onA.send(
          new ScheduleKeyDeletionCommand({
            KeyId: other,
            PendingWindowInDays: 7,
          }),
        );
        const refusedOnB = await within(
          BOUND_MS + 2_000,
          async () =>
            await outcome(
              onB.send(
                new EncryptCommand({ KeyId: other, Plaintext: plaintext }),
              ),
            ) === "KMSInvalidStateException",
        );
        assert.ok(refusedOnB < Infinity, "B refuses a key pending deletion");
      },
    );

    await t.step(
      "maintenance runs on one node: it holds the lease",
      async () => {
        await using store = await PostgresStore.open(url);
        assert.equal(await store.takeLease("maintenance", "a-test", 1), false);
      },
    );

    await t.step(
      "SIGKILL of a node under load loses no acknowledged ciphertext",
      async () => {
        const acknowledged: Uint8Array[] = [];
        const failuresOnB: string[] = [];
        let running = true;
        const load = (node: KMSClient, failures?: string[]) =>
          (async () => {
            while (running) {
              try {
                const { CiphertextBlob } = await node.send(
                  new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }),
                );
                acknowledged.push(CiphertextBlob!);
              } catch (error) {
                if (failures === undefined) return; // A died
                failures.push((error as Error).name);
              }
            }
          })();
        const workers = [
          ...Array.from({ length: 4 }, () => load(onA)),
          ...Array.from({ length: 4 }, () => load(onB, failuresOnB)),
        ];
        await new Promise((resolve) => setTimeout(resolve, 700));
        const before = acknowledged.length;
        const killed = servers.shift()!;
        await killed.stop("SIGKILL");
        await new Promise((resolve) => setTimeout(resolve, 700));
        running = false;
        await Promise.all(workers);
        assert.ok(acknowledged.length > before, "B went on answering");
        assert.deepEqual(failuresOnB, [], "B never failed");
        for (const blob of acknowledged) {
          const back = await onB.send(
            new DecryptCommand({ CiphertextBlob: blob }),
          );
          assert.deepEqual(back.Plaintext, plaintext);
        }
        // The killed node comes back on the same data directory.
        const again = await start();
        const fresh = client(again);
        assert.deepEqual(
          (await fresh.send(
            new DecryptCommand({ CiphertextBlob: acknowledged[0] }),
          ))
            .Plaintext,
          plaintext,
        );
      },
    );

    await t.step(
      "a database restart: clean failures, then recovery",
      async () => {
        await pg.halt();
        const down = await outcome(
          onB.send(new CreateKeyCommand({})),
        );
        assert.equal(down, "DependencyTimeoutException");
        // Past the bound, cached keys are not trusted either.
        await new Promise((resolve) => setTimeout(resolve, BOUND_MS + 100));
        assert.match(
          await encryptOnB(),
          /DependencyTimeoutException|KMSInternalException/,
        );
        await pg.start();
        assert.ok(
          await within(15_000, async () => await encryptOnB() === "ok") <
            Infinity,
          "B serves again once the database is back",
        );
        await onB.send(new CreateKeyCommand({}));
      },
    );

    await t.step("nodes share one port with --reuse-port", async () => {
      const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = probe.addr.port;
      probe.close();
      const shared = [...common, "--port", String(port)];
      const first = await startMain([...shared, "--reuse-port"]);
      const second = await startMain([...shared, "--reuse-port"]);
      servers.push(second);
      assert.equal(first.url, second.url);
      const onPort = client(first);
      await first.stop("SIGTERM");
      const { KeyId } = await onPort.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: plaintext }),
      );
      assert.match(KeyId!, new RegExp(keyId), "the other answers on the port");
    });
  } finally {
    for (const server of servers) {
      const { code, stderr } = await server.stop("SIGTERM");
      if (code !== 0) console.error(stderr);
    }
    await Deno.remove(dir, { recursive: true });
  }
});
